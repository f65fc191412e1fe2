import { sql, type Kysely } from "kysely";
import { createProcessedEventsTable, enableTenantIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("location_days")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("location_id", "uuid", (c) => c.notNull())
    .addColumn("business_day", "date", (c) => c.notNull())
    .addColumn("revenue_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("orders", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("location_days_pk", ["tenant_id", "location_id", "business_day"])
    .execute();
  await enableTenantIsolation(db, "location_days");
  await createProcessedEventsTable(db);
}
