import { sql, type Kysely } from "kysely";
import { createRetentionFunction } from "@lsp/db";

/**
 * Retention (issue 12): idempotency keys have row-level security per tenant, so the serving role
 * cannot delete across tenants; an owner-defined, age-bounded function does (@lsp/db
 * retention). Indexes let each batch find old rows without scanning the tables.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`.execute(db);
  await sql`CREATE INDEX processed_events_processed_idx ON processed_events (processed_at)`.execute(db);
  await sql`CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL`.execute(
    db,
  );
  await createRetentionFunction(db, {
    name: "purge_idempotency_keys",
    table: "idempotency_keys",
    column: "created_at",
  });
}
