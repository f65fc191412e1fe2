// payments(orderId) and Order.payment against the caller's branches, and retention, on a real
// PostgreSQL with payments' migrations, connected as its own role (row security forced).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { sql } from "kysely";
import { AppError, createLogger } from "@lsp/runtime";
import { DAY_MS, runRetentionOnce, withScope, withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { PaymentsDB } from "../src/db.js";
import { retentionRules } from "../src/retention.js";
import { resolvers, type PaymentsContext } from "../src/schema.js";

const log = createLogger("test", "silent");

describe("payments: branch scope and retention", { timeout: 180_000 }, () => {
  let database: TestServiceDatabase<PaymentsDB>;
  before(async () => {
    database = await startServiceDatabase<PaymentsDB>(
      "payments",
      path.join(import.meta.dirname, "..", "migrations"),
    );
  });
  after(() => database?.stop());

  const ctx = (who: Identity): PaymentsContext => ({
    db: database.db,
    ports: { DAPR_HTTP_PORT: 1, DAPR_GRPC_PORT: 1 },
    log,
    endpoints: { MOMO_ENDPOINT: "", ZALOPAY_ENDPOINT: "", VNPAY_ENDPOINT: "", PUBLIC_URL: "" },
    // Every provider on (feature flags are tested in test/e2e/flags-live.test.ts).
    flags: { isEnabled: () => true },
    identity: () => who,
    forward: () => ({}),
  });

  /** An order of `locationId` with its attempt and its successful payment. */
  async function paidOrder(tenantId: string, locationId: string): Promise<string> {
    const orderId = randomUUID();
    await withTenant(database.db, tenantId, async (trx) => {
      const intent = await trx
        .insertInto("payment_intents")
        .values({
          provider: "momo",
          reference: `LSP-${randomUUID()}`,
          tenant_id: tenantId,
          location_id: locationId,
          order_id: orderId,
          amount_vnd: 60_000,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await trx
        .insertInto("payments")
        .values({
          tenant_id: tenantId,
          location_id: locationId,
          order_id: orderId,
          intent_id: intent.id,
          provider: "momo",
          provider_txn_id: randomUUID(),
          amount_vnd: 60_000,
          status: "succeeded",
          raw_payload: "{}",
        })
        .execute();
    });
    return orderId;
  }

  test("staff of one branch: payments(orderId) of another branch's order is FORBIDDEN; their own branch's is read; Order.payment merges as none", async () => {
    const tenantId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    const [orderA, orderB] = [await paidOrder(tenantId, a), await paidOrder(tenantId, b)];
    const staff: Identity = { tenantId, userId: "s", role: "staff", locationIds: [a] };

    await assert.rejects(
      resolvers.Query.payments(undefined, { orderId: orderB }, ctx(staff)),
      (err: unknown) => err instanceof AppError && err.code === "FORBIDDEN",
    );
    assert.equal((await resolvers.Query.payments(undefined, { orderId: orderA }, ctx(staff))).length, 1);
    const merged = await resolvers.Query._paymentsOrders(undefined, { ids: [orderA, orderB] }, ctx(staff));
    assert.deepEqual(
      merged.map((m) => [m.id, m.payment !== null]),
      [
        [orderA, true],
        [orderB, false],
      ],
    );
    const owner: Identity = { tenantId, role: "owner" };
    assert.equal((await resolvers.Query.payments(undefined, { orderId: orderB }, ctx(owner))).length, 1);
    // No branch at all: nothing.
    await assert.rejects(
      resolvers.Query.payments(undefined, { orderId: orderA }, ctx({ ...staff, locationIds: [] })),
      (err: unknown) => err instanceof AppError && err.code === "FORBIDDEN",
    );
  });

  test("the database keeps another branch's payments from a scoped transaction even when a query forgets to filter", async () => {
    const tenantId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    await paidOrder(tenantId, a);
    await paidOrder(tenantId, b);
    const seen = await withScope(database.db, { tenantId, locationIds: [a] }, (trx) =>
      trx.selectFrom("payments").select("location_id").execute(),
    );
    assert.deepEqual(seen, [{ location_id: a }]);
  });

  test("retention: audit rows of every tenant (and of none) past 30 days and published outbox rows past 7 days go; nothing else", async () => {
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * DAY_MS);
    const marker = `m-${randomUUID()}`;
    const tenants = [randomUUID(), randomUUID()];
    const audit = (tenantId: string | null, days: number) => ({
      provider: "momo",
      outcome: "invalid_signature",
      reason: marker,
      tenant_id: tenantId,
      raw_payload: "{}",
      raw_payload_bytes: 2,
      created_at: ago(days),
    });
    for (const t of tenants)
      await withTenant(database.db, t, (trx) =>
        trx
          .insertInto("webhook_audit")
          .values([audit(t, 31), audit(t, 29)])
          .execute(),
      );
    await database.db
      .insertInto("webhook_audit")
      .values([audit(null, 40), audit(null, 1)])
      .execute();
    await sql`INSERT INTO outbox (type, topic, payload, published_at) VALUES
      ('x', ${marker}, '{}', ${ago(8)}), ('x', ${marker}, '{}', NULL), ('x', ${marker}, '{}', ${ago(6)})`.execute(
      database.db,
    );

    const report = await runRetentionOnce({
      db: database.db,
      log,
      lockKey: "payments",
      rules: retentionRules({
        RETENTION_WEBHOOK_AUDIT_DAYS: 30,
        RETENTION_OUTBOX_DAYS: 7,
        RETENTION_INTERVAL_SECONDS: 900,
      }),
    });
    assert.ok((report?.deleted.webhook_audit ?? 0) >= 3 && (report?.deleted.outbox ?? 0) >= 1);
    for (const t of tenants) {
      const left = await withTenant(database.db, t, (trx) =>
        trx.selectFrom("webhook_audit").select("created_at").where("reason", "=", marker).execute(),
      );
      assert.equal(left.length, 1, "the young row of each tenant stays");
    }
    const tenantless = await database.db
      .selectFrom("webhook_audit")
      .select("created_at")
      .where("reason", "=", marker)
      .execute();
    assert.equal(tenantless.length, 1);
    const outbox = await sql<{
      published: boolean;
    }>`SELECT published_at IS NOT NULL AS published FROM outbox WHERE topic = ${marker} ORDER BY published_at NULLS FIRST`.execute(
      database.db,
    );
    assert.deepEqual(outbox.rows, [{ published: false }, { published: true }]);
  });
});
