import { sql, type Kysely } from "kysely";
import { createOutboxTable, enableTenantIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications ADD COLUMN source_event_id text`.execute(db);
  await sql`CREATE INDEX notifications_feed_idx ON notifications (tenant_id, user_id, created_at DESC)`.execute(
    db,
  );

  // One row per user who set preferences or registered a device.
  await db.schema
    .createTable("preferences")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("muted_kinds", sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn("push_enabled", "boolean", (c) => c.notNull().defaultTo(true))
    .addColumn("push_token", "text")
    .addColumn("quiet_start_minute", "integer", (c) => c.check(sql`quiet_start_minute BETWEEN 0 AND 1439`))
    .addColumn("quiet_end_minute", "integer", (c) => c.check(sql`quiet_end_minute BETWEEN 0 AND 1439`))
    /** Null: every location of the tenant. */
    .addColumn("location_ids", sql`uuid[]`)
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("preferences_pk", ["tenant_id", "user_id"])
    .execute();
  await enableTenantIsolation(db, "preferences");

  // Messages Dapr gave up on (after its resiliency retries), kept for an admin to list and replay.
  // Written by the dead-letter subscriber before any tenant is known: no row-level security; every
  // query filters on tenant_id (taken from the event's data).
  await db.schema
    .createTable("dead_letters")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid")
    .addColumn("topic", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("event_type", "text", (c) => c.notNull())
    .addColumn("cloud_event", "jsonb", (c) => c.notNull())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("replayed_at", "timestamptz")
    .addColumn("replays", "integer", (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint("dead_letters_topic_event", ["topic", "event_id"])
    .execute();

  // The latest figures of each location's business day (from dashboard.updated), for the daily
  // digest once the day is closed. Read by the digest job across tenants: no row-level security.
  await db.schema
    .createTable("day_totals")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("location_id", "uuid", (c) => c.notNull())
    .addColumn("business_day", "date", (c) => c.notNull())
    .addColumn("revenue_vnd", "bigint", (c) => c.notNull())
    .addColumn("orders", "integer", (c) => c.notNull())
    .addColumn("digest_sent_at", "timestamptz")
    .addPrimaryKeyConstraint("day_totals_pk", ["location_id", "business_day"])
    .execute();

  await createOutboxTable(db);
}
