import { sql, type Kysely } from "kysely";
import { enableTenantIsolation } from "@lsp/db";

/**
 * Monthly item roll-ups: `month_items` holds, per location, calendar month of business days
 * (`month`: its first day) and item, the sums of that month's `day_items` rows. The batch code
 * adds the same differences to both (src/read-model.ts), so menu engineering over a year reads
 * about twelve rows per item instead of one per day (bench/periods.ts: a busy branch's year is
 * 29,000 day rows). A rebuild replays the journal through the same code, so it fills it too.
 *
 * Existing rows are rolled up here from `day_items`, tenant by tenant (both tables have forced
 * row-level security; `journal_tenants()`, migration 0003, lists the tenants: every day_items
 * row came from a journaled event).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("month_items")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("location_id", "uuid", (c) => c.notNull())
    .addColumn("month", "date", (c) => c.notNull().check(sql`extract(day FROM month) = 1`))
    .addColumn("item_id", "uuid", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("category", "text")
    .addColumn("quantity", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("revenue_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("cost_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("month_items_pk", ["tenant_id", "location_id", "month", "item_id"])
    .execute();
  await enableTenantIsolation(db, "month_items");
  const tenants = await sql<{
    tenant_id: string;
  }>`SELECT tenant_id FROM journal_tenants() AS tenant_id`.execute(db);
  for (const { tenant_id } of tenants.rows) {
    await sql`SELECT set_config('lsp.tenant_id', ${tenant_id}, true)`.execute(db);
    await sql`
      INSERT INTO month_items (tenant_id, location_id, month, item_id, name, category, quantity, revenue_vnd, cost_vnd)
      SELECT tenant_id, location_id, date_trunc('month', business_day)::date, item_id, max(name), max(category),
        sum(quantity), sum(revenue_vnd), sum(cost_vnd)
      FROM day_items
      GROUP BY tenant_id, location_id, date_trunc('month', business_day), item_id`.execute(db);
  }
  await sql`SELECT set_config('lsp.tenant_id', '', true)`.execute(db);
}
