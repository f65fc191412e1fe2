import { sql, type Kysely } from "kysely";
import { enableTenantIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  // The tenant registry itself is not tenant-scoped: the edge resolves a subdomain to a tenant here.
  await db.schema
    .createTable("tenants")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("slug", "text", (c) =>
      c
        .notNull()
        .unique()
        .check(sql`slug ~ '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$'`),
    )
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable("locations")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull().references("tenants.id"))
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("time_zone", "text", (c) => c.notNull().defaultTo("Asia/Ho_Chi_Minh"))
    .addColumn("cutover_hour", "integer", (c) =>
      c
        .notNull()
        .defaultTo(4)
        .check(sql`cutover_hour BETWEEN 0 AND 23`),
    )
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex("locations_tenant_idx").on("locations").column("tenant_id").execute();
  await enableTenantIsolation(db, "locations");
}
