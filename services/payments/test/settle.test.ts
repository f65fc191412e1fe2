// Recording a verified notice once (webhooks.ts settleVerified) on a real PostgreSQL: duplicates of
// one success, sent at the same moment, are one payment and "duplicate" for the rest (never a
// conflict: a provider would read 409 as a failure); a success for an order that already has one
// under another transaction id is "already_paid" and writes nothing.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { createLogger } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { PaymentsDB } from "../src/db.js";
import { settleVerified, type WebhookDeps } from "../src/webhooks.js";

describe("a verified notice is recorded once", { timeout: 180_000 }, () => {
  let database: TestServiceDatabase<PaymentsDB>;
  let deps: WebhookDeps;
  const tenantId = randomUUID();

  before(async () => {
    database = await startServiceDatabase<PaymentsDB>(
      "payments",
      path.join(import.meta.dirname, "..", "migrations"),
    );
    // settleVerified needs the database only (no sidecar, no flags).
    deps = {
      db: database.db,
      ports: { DAPR_HTTP_PORT: 1, DAPR_GRPC_PORT: 1 },
      log: createLogger("test", "silent"),
      flags: { isEnabled: () => true },
    };
  });
  after(async () => {
    await database?.stop();
  });

  async function intent(): Promise<string> {
    const reference = `LSP-${randomUUID()}`;
    await withTenant(database.db, tenantId, (trx) =>
      trx
        .insertInto("payment_intents")
        .values({
          provider: "momo",
          reference,
          tenant_id: tenantId,
          location_id: randomUUID(),
          order_id: randomUUID(),
          amount_vnd: 60_000,
        })
        .execute(),
    );
    return reference;
  }
  const paid = (reference: string, txn: string) =>
    settleVerified(deps, {
      provider: "momo",
      raw: { body: "{}", query: "" },
      tenantId,
      notice: {
        reference,
        providerTxnId: txn,
        amountVnd: 60_000,
        outcome: "succeeded",
        resultCode: "0",
        message: "Successful.",
      },
    });
  const paymentsOf = (reference: string) =>
    withTenant(database.db, tenantId, (trx) =>
      trx
        .selectFrom("payments")
        .innerJoin("payment_intents", "payment_intents.id", "payments.intent_id")
        .select(["payments.provider_txn_id", "payments.status"])
        .where("payment_intents.reference", "=", reference)
        .execute(),
    );

  // Twenty rounds did not reproduce, on this machine, the unique violation CI saw once under load
  // (see recordOnce); what they check is the contract: one payment, the rest duplicates.
  test("the same success eight times at once: one payment, seven duplicates", async () => {
    for (let round = 0; round < 20; round++) {
      const reference = await intent();
      const txn = `txn-${round}`; // a provider's transaction ids are unique across orders
      const outcomes = await Promise.all(Array.from({ length: 8 }, () => paid(reference, txn)));
      assert.deepEqual(outcomes.map((o) => o.outcome).sort(), [
        "accepted",
        ...Array<string>(7).fill("duplicate"),
      ]);
      assert.deepEqual(await paymentsOf(reference), [{ provider_txn_id: txn, status: "succeeded" }]);
    }
  });

  test("a success under another transaction id for a paid order is already_paid and writes nothing", async () => {
    const reference = await intent();
    assert.equal((await paid(reference, "txn-a")).outcome, "accepted");
    const second = await paid(reference, "txn-b");
    assert.equal(second.outcome, "already_paid");
    assert.deepEqual(await paymentsOf(reference), [{ provider_txn_id: "txn-a", status: "succeeded" }]);
    // And the first again is still a duplicate.
    assert.equal((await paid(reference, "txn-a")).outcome, "duplicate");
  });
});
