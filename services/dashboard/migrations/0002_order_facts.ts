import { sql, type Kysely } from "kysely";
import { createOutboxTable, enableTenantIsolation } from "@lsp/db";

/**
 * The read model as order facts: one row per order (and its lines) merged from order.created /
 * paid / voided in whatever order they arrive, so the figures never depend on delivery order.
 * `location_days` stays as the per-(location, business day) row that serialises updates and
 * counts them (version). `event_journal` keeps every applied event for rebuilds (the pub/sub
 * stream is capped); like the outbox it is read only by the service itself, without RLS.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable("location_days")
    .addColumn("version", "bigint", (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable("order_facts")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("order_id", "uuid", (c) => c.primaryKey())
    .addColumn("location_id", "uuid", (c) => c.notNull())
    .addColumn("business_day", "date", (c) => c.notNull())
    .addColumn("created_at", "timestamptz")
    .addColumn("payment_method", "text")
    .addColumn("subtotal_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("discount_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("total_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("guests", "integer")
    .addColumn("staff_id", "text")
    // False until order.created arrived (a paid/voided event may come first).
    .addColumn("created_seen", "boolean", (c) => c.notNull().defaultTo(false))
    .addColumn("paid_at", "timestamptz")
    .addColumn("voided_at", "timestamptz")
    .execute();
  await db.schema
    .createIndex("order_facts_location_day_idx")
    .on("order_facts")
    .columns(["tenant_id", "location_id", "business_day"])
    .execute();

  await db.schema
    .createTable("order_fact_lines")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("order_id", "uuid", (c) => c.notNull().references("order_facts.order_id").onDelete("cascade"))
    .addColumn("line_no", "integer", (c) => c.notNull())
    .addColumn("item_id", "uuid", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("category", "text")
    .addColumn("quantity", "integer", (c) => c.notNull())
    .addColumn("unit_price_vnd", "bigint", (c) => c.notNull())
    .addColumn("unit_cost_vnd", "bigint")
    .addPrimaryKeyConstraint("order_fact_lines_pk", ["order_id", "line_no"])
    .execute();

  await db.schema
    .createTable("event_journal")
    .addColumn("event_id", "text", (c) => c.primaryKey())
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("data", "jsonb", (c) => c.notNull())
    .addColumn("received_at", "timestamptz", (c) => c.notNull().defaultTo(sql`clock_timestamp()`))
    .execute();
  await sql`CREATE INDEX event_journal_tenant_idx ON event_journal (tenant_id, received_at)`.execute(db);

  for (const table of ["order_facts", "order_fact_lines"]) await enableTenantIsolation(db, table);
  await createOutboxTable(db);
}
