import { sql, type Kysely } from "kysely";
import { createOutboxTable, enableTenantIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("menu_items")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("category", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("price_vnd", "bigint", (c) => c.notNull().check(sql`price_vnd >= 0`))
    .addColumn("cost_vnd", "bigint", (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`cost_vnd >= 0`),
    )
    .addColumn("available", "boolean", (c) => c.notNull().defaultTo(true))
    .execute();
  await db.schema.createIndex("menu_items_tenant_idx").on("menu_items").column("tenant_id").execute();

  await db.schema
    .createTable("orders")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("location_id", "uuid", (c) => c.notNull())
    .addColumn("status", "text", (c) =>
      c
        .notNull()
        .defaultTo("open")
        .check(sql`status IN ('open','paid','voided')`),
    )
    .addColumn("payment_method", "text", (c) =>
      c.notNull().check(sql`payment_method IN ('cash','card','momo','zalopay','vnpay')`),
    )
    .addColumn("total_vnd", "bigint", (c) => c.notNull().check(sql`total_vnd >= 0`))
    .addColumn("business_day", "date", (c) => c.notNull())
    .addColumn("idempotency_key", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("orders_idempotency_key", ["tenant_id", "idempotency_key"])
    .execute();
  await db.schema
    .createIndex("orders_location_day_idx")
    .on("orders")
    .columns(["tenant_id", "location_id", "business_day"])
    .execute();

  await db.schema
    .createTable("order_lines")
    .addColumn("order_id", "uuid", (c) => c.notNull().references("orders.id").onDelete("cascade"))
    .addColumn("line_no", "integer", (c) => c.notNull())
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("item_id", "uuid", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("quantity", "integer", (c) => c.notNull().check(sql`quantity > 0`))
    .addColumn("unit_price_vnd", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("order_lines_pk", ["order_id", "line_no"])
    .execute();

  for (const table of ["menu_items", "orders", "order_lines"]) await enableTenantIsolation(db, table);
  await createOutboxTable(db);
}
