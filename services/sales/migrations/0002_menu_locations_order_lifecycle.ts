import { sql, type Kysely } from "kysely";
import { createProcessedEventsTable, enableTenantIsolation } from "@lsp/db";

/**
 * Menu categories and per-location availability; the order lifecycle (paid / voided, discount,
 * guests, staff); the idempotency ledger of mutations other than createOrder; and the ledger of
 * consumed events (payment.succeeded).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("menu_categories")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("sort_order", "integer", (c) => c.notNull().defaultTo(0))
    .addUniqueConstraint("menu_categories_name", ["tenant_id", "name"])
    .execute();
  // Categories of the items that exist already (demo menus).
  await sql`INSERT INTO menu_categories (tenant_id, name)
    SELECT DISTINCT tenant_id, category FROM menu_items ON CONFLICT DO NOTHING`.execute(db);

  // No row = the item follows its tenant-wide `available` flag at that location.
  await db.schema
    .createTable("menu_item_locations")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("item_id", "uuid", (c) => c.notNull().references("menu_items.id").onDelete("cascade"))
    .addColumn("location_id", "uuid", (c) => c.notNull())
    .addColumn("available", "boolean", (c) => c.notNull())
    .addPrimaryKeyConstraint("menu_item_locations_pk", ["item_id", "location_id"])
    .execute();

  await db.schema
    .alterTable("orders")
    .addColumn("subtotal_vnd", "bigint", (c) => c.notNull().defaultTo(0))
    .addColumn("discount_vnd", "bigint", (c) =>
      c
        .notNull()
        .defaultTo(0)
        .check(sql`discount_vnd >= 0`),
    )
    .addColumn("guests", "integer", (c) => c.check(sql`guests > 0`))
    .addColumn("staff_id", "text")
    .addColumn("paid_at", "timestamptz")
    .addColumn("payment_id", "uuid")
    .addColumn("voided_at", "timestamptz")
    .addColumn("void_reason", "text")
    .execute();
  await sql`UPDATE orders SET subtotal_vnd = total_vnd`.execute(db);

  await db.schema
    .createTable("idempotency_keys")
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("key", "text", (c) => c.notNull())
    .addColumn("operation", "text", (c) => c.notNull())
    .addColumn("result", "jsonb")
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint("idempotency_keys_pk", ["tenant_id", "key"])
    .execute();

  for (const table of ["menu_categories", "menu_item_locations", "idempotency_keys"])
    await enableTenantIsolation(db, table);
  await createProcessedEventsTable(db);
}
