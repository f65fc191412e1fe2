import { sql, type Kysely } from "kysely";

/**
 * Order lists (`orders(locationId, …)`, src/order-list.ts) page newest first by
 * (business_day, created_at, id): this index serves a day, a range of days and each next page
 * (a row comparison after the cursor) as one ordered index scan, no sort. It replaces
 * orders_location_day_idx, of which it is an extension (same leading columns).
 * Export slices (src/exports.ts) read a location's days in this order too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`CREATE INDEX orders_location_list_idx
    ON orders (tenant_id, location_id, business_day DESC, created_at DESC, id DESC)`.execute(db);
  await sql`DROP INDEX orders_location_day_idx`.execute(db);
}
