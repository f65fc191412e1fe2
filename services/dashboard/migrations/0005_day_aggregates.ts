import { sql, type Kysely } from "kysely";
import { enableTenantIsolation } from "@lsp/db";

/**
 * One source of truth per location-day: the figures live in aggregate rows that every event
 * updates by difference (src/aggregate.ts), and both the pushed `dashboard.updated` and the
 * queried `DayReport` read them. `location_days` gains every summable figure of the day and the
 * cut-over its hourly buckets start at; `day_hours`, `day_items` and `day_payments` hold the
 * per-hour, per-item and per-payment-method sums. `order_facts.local_hour` keeps the local hour
 * the order was bucketed in (the time zone came with its order.created event).
 *
 * Existing location-days have no aggregates: after this migration, run the rebuild
 * (`node --import tsx src/rebuild.ts`, or the owner's `rebuildDashboard`) once per tenant.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const counter = (name: string, type: "integer" | "bigint") =>
    db.schema
      .alterTable("location_days")
      .addColumn(name, type, (c) => c.notNull().defaultTo(0))
      .execute();
  await counter("gross_vnd", "bigint");
  await counter("paid_orders", "integer");
  await counter("guests", "bigint");
  await counter("guest_orders", "integer");
  await counter("discounted_orders", "integer");
  await counter("discount_vnd", "bigint");
  await counter("voided_orders", "integer");
  await counter("voided_vnd", "bigint");
  await db.schema.alterTable("location_days").addColumn("cutover_hour", "smallint").execute();
  await db.schema.alterTable("order_facts").addColumn("local_hour", "smallint").execute();

  const key = (t: ReturnType<Kysely<unknown>["schema"]["createTable"]>) =>
    t
      .addColumn("tenant_id", "uuid", (c) => c.notNull())
      .addColumn("location_id", "uuid", (c) => c.notNull())
      .addColumn("business_day", "date", (c) => c.notNull());
  await key(db.schema.createTable("day_hours"))
    .addColumn("hour", "smallint", (c) => c.notNull().check(sql`hour BETWEEN 0 AND 23`))
    .addColumn("revenue_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("orders", "integer", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("day_hours_pk", ["tenant_id", "location_id", "business_day", "hour"])
    .execute();
  await key(db.schema.createTable("day_items"))
    .addColumn("item_id", "uuid", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("category", "text")
    .addColumn("quantity", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("revenue_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("cost_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("day_items_pk", ["tenant_id", "location_id", "business_day", "item_id"])
    .execute();
  await key(db.schema.createTable("day_payments"))
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("orders", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("revenue_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint("day_payments_pk", ["tenant_id", "location_id", "business_day", "method"])
    .execute();
  for (const table of ["day_hours", "day_items", "day_payments"]) await enableTenantIsolation(db, table);
}
