import { sql, type Kysely } from "kysely";
import { createRetentionFunction, enableLocationIsolation } from "@lsp/db";

/**
 * Issue 12: a caller limited to some branches sees only their payments, enforced by the database
 * (a restrictive location policy; withScope sets the branches), and the webhook audit is bounded:
 * payloads are stored cut to 4 KiB with their original size, and rows past the retention horizon
 * are deleted across tenants by an owner-defined, age-bounded function the service calls.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await enableLocationIsolation(db, "payments");
  await sql`ALTER TABLE webhook_audit ADD COLUMN raw_payload_bytes integer`.execute(db);
  await sql`CREATE INDEX webhook_audit_created_idx ON webhook_audit (created_at)`.execute(db);
  await createRetentionFunction(db, {
    name: "purge_webhook_audit",
    table: "webhook_audit",
    column: "created_at",
  });
  await sql`CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE published_at IS NOT NULL`.execute(
    db,
  );
}
