import { sql, type Kysely } from "kysely";
import { createProcessedEventsTable, enableTenantIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("notifications")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("user_id", "text")
    .addColumn("location_id", "uuid")
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("title", "text", (c) => c.notNull())
    .addColumn("body", "text", (c) => c.notNull())
    .addColumn("read_at", "timestamptz")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await enableTenantIsolation(db, "notifications");
  await createProcessedEventsTable(db);
}
