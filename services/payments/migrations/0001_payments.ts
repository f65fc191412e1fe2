import { sql, type Kysely } from "kysely";
import { enableTenantIsolation } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  // One row per provider transaction: the unique key is what makes webhook handling idempotent.
  await db.schema
    .createTable("payments")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("order_id", "uuid", (c) => c.notNull())
    .addColumn("provider", "text", (c) => c.notNull().check(sql`provider IN ('momo','zalopay','vnpay')`))
    .addColumn("provider_txn_id", "text", (c) => c.notNull())
    .addColumn("amount_vnd", "bigint", (c) => c.notNull().check(sql`amount_vnd >= 0`))
    .addColumn("status", "text", (c) => c.notNull().check(sql`status IN ('succeeded','failed')`))
    .addColumn("raw_payload", "jsonb", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint("payments_provider_txn", ["provider", "provider_txn_id"])
    .execute();
  await enableTenantIsolation(db, "payments");
}
