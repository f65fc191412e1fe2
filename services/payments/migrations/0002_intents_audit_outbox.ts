import { sql, type Kysely } from "kysely";
import { createOutboxTable } from "@lsp/db";

export async function up(db: Kysely<unknown>): Promise<void> {
  // A second success for the same order (another transaction id) is refused, not double-counted.
  await sql`CREATE UNIQUE INDEX payments_one_success_per_order ON payments (order_id) WHERE status = 'succeeded'`.execute(
    db,
  );

  // Routing table: the reference we gave the provider → the order and its tenant. Webhooks read it
  // before any tenant is known, so (like the outbox) it carries no row-level security; it holds
  // no money and no personal data.
  await db.schema
    .createTable("payment_intents")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("provider", "text", (c) => c.notNull().check(sql`provider IN ('momo','zalopay','vnpay')`))
    .addColumn("reference", "text", (c) => c.notNull())
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("location_id", "uuid", (c) => c.notNull())
    .addColumn("order_id", "uuid", (c) => c.notNull())
    .addColumn("amount_vnd", "bigint", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("settled_at", "timestamptz")
    .addUniqueConstraint("payment_intents_provider_reference", ["provider", "reference"])
    .execute();
  await sql`CREATE INDEX payment_intents_unsettled ON payment_intents (created_at) WHERE settled_at IS NULL`.execute(
    db,
  );

  // Every rejected or unusual webhook, with its raw payload; written when nothing else is. The
  // tenant may be unknown (forged reference), so no row-level security: read by platform admins.
  await db.schema
    .createTable("webhook_audit")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("provider", "text", (c) => c.notNull())
    .addColumn("outcome", "text", (c) => c.notNull())
    .addColumn("reason", "text", (c) => c.notNull())
    .addColumn("tenant_id", "uuid")
    .addColumn("reference", "text")
    .addColumn("provider_txn_id", "text")
    .addColumn("raw_payload", "text", (c) => c.notNull())
    .addColumn("created_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await sql`ALTER TABLE payments ADD COLUMN location_id uuid`.execute(db);
  await sql`ALTER TABLE payments ADD COLUMN intent_id uuid`.execute(db);
  await createOutboxTable(db);
}
