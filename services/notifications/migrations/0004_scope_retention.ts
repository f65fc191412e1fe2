import { sql, type Kysely } from "kysely";
import { createRetentionFunction } from "@lsp/db";

/** Whether the transaction's caller may see a row of `column` (withScope; empty = every branch). */
const IN_SCOPE = (column: string) => `coalesce(current_setting('lsp.location_ids', true), '') = ''
  OR ${column}::text = ANY (string_to_array(current_setting('lsp.location_ids', true), ','))`;

/**
 * Issue 12. Scope, in the database: a caller limited to some branches (withScope) saves
 * preferences only for those branches (never "every branch", a NULL list), and reads feed
 * entries only of those branches (entries about no branch, e.g. a tenant-wide recommendation,
 * stay visible). Notifications written by the service itself run without a scope.
 * Retention: owner-defined, age-bounded deletes for the tables with row-level security.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const prefsInScope = sql.raw(`coalesce(current_setting('lsp.location_ids', true), '') = ''
    OR (location_ids IS NOT NULL
        AND location_ids::text[] <@ string_to_array(current_setting('lsp.location_ids', true), ','))`);
  await sql`CREATE POLICY location_scope_insert ON preferences AS RESTRICTIVE FOR INSERT
    WITH CHECK (${prefsInScope})`.execute(db);
  await sql`CREATE POLICY location_scope_update ON preferences AS RESTRICTIVE FOR UPDATE
    USING (true) WITH CHECK (${prefsInScope})`.execute(db);

  await sql`CREATE POLICY location_scope ON notifications AS RESTRICTIVE
    USING (location_id IS NULL OR ${sql.raw(IN_SCOPE("location_id"))})
    WITH CHECK (location_id IS NULL OR ${sql.raw(IN_SCOPE("location_id"))})`.execute(db);

  await sql`CREATE INDEX notifications_created_idx ON notifications (created_at)`.execute(db);
  await sql`CREATE INDEX dead_letters_received_idx ON dead_letters (received_at)`.execute(db);
  await sql`CREATE INDEX processed_events_processed_idx ON processed_events (processed_at)`.execute(db);
  await sql`CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL`.execute(
    db,
  );
  await createRetentionFunction(db, {
    name: "purge_notifications",
    table: "notifications",
    column: "created_at",
  });
  await createRetentionFunction(db, {
    name: "purge_dead_letters",
    table: "dead_letters",
    column: "received_at",
  });
  await createRetentionFunction(db, {
    name: "purge_day_totals",
    table: "day_totals",
    column: "business_day",
    where: "digest_sent_at IS NOT NULL",
  });
}
