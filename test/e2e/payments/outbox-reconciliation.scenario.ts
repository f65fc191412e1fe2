// An accepted notice leaves through the outbox; missed callbacks are found by reconciliation
// through each provider's query API (Dapr http bindings to the fake providers).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, eventually } from "../../support/graphql-client.js";
import { momoIpn, vnpayQuery, txnId, type PaymentsMesh } from "../../support/payments.js";
import {
  buildMomoQueryRequest,
  type MomoCredentials,
} from "../../../services/payments/src/providers/momo.js";
import {
  buildZaloPayQueryRequest,
  type ZaloPayCredentials,
} from "../../../services/payments/src/providers/zalopay.js";
import type { VnpayCredentials } from "../../../services/payments/src/providers/vnpay.js";

export function outboxAndReconciliationScenarios(h: PaymentsMesh): void {
  test("an accepted notice publishes payment.succeeded through the outbox", async () => {
    const { paymentsDb, creds, openOrderWithPayment, post } = h;
    const { order, payment } = await openOrderWithPayment("momo");
    const momo = creds<MomoCredentials>("momo", DEMO.phoBo.slug);
    const res = await post("momo", momoIpn(momo, payment.reference, order.totalVnd, txnId()));
    assert.equal(res.status, 204);
    const published = await eventually("payment.succeeded published", async () => {
      const r = await paymentsDb.query(
        "SELECT type, payload FROM outbox WHERE payload->>'orderId' = $1 AND published_at IS NOT NULL",
        [order.id],
      );
      return r.rows.length ? r.rows : undefined;
    });
    assert.deepEqual(
      published.map((r: { type: string; payload: { amountVnd: number; provider: string } }) => [
        r.type,
        r.payload.amountVnd,
        r.payload.provider,
      ]),
      [["payment.succeeded", 60_000, "momo"]],
    );
  });

  test("reconciliation: missed callbacks are found through each provider's query API (Dapr binding)", async () => {
    const { gql, webhooks, creds, providers, openOrderWithPayment, payments } = h;
    const [momo, zalo, vnp] = await Promise.all(
      (["momo", "zalopay", "vnpay"] as const).map((p) => openOrderWithPayment(p)),
    );
    assert.ok(momo && zalo && vnp);
    const attempts = [momo, zalo, vnp];
    for (const a of attempts)
      providers.paid.set(a.payment.reference, { amountVnd: a.order.totalVnd, txn: txnId() });
    const run = async () => {
      const res = await gql<{ reconcilePayments: { checked: number; settled: number } }>(
        `mutation { reconcilePayments(olderThanSeconds: 0) { checked settled } }`,
      );
      assert.ok(res.data, JSON.stringify(res.errors));
      return res.data.reconcilePayments;
    };
    const first = await run();
    assert.equal(first.settled, 3, JSON.stringify(first));
    for (const a of attempts) {
      const recorded = await payments(a.order.id);
      assert.deepEqual(
        recorded.map((p) => [p.status, p.amountVnd, p.providerTransactionId]),
        [["succeeded", a.order.totalVnd, String(providers.paid.get(a.payment.reference)?.txn)]],
      );
    }
    // The queries were signed as each provider requires.
    const momoAsk = providers.requests.find((r) => r.body.orderId === momo.payment.reference);
    const momoCreds = creds<MomoCredentials>("momo", DEMO.phoBo.slug);
    assert.equal(
      momoAsk?.body.signature,
      buildMomoQueryRequest(momoCreds, String(momoAsk?.body.orderId), String(momoAsk?.body.requestId))
        .signature,
    );
    const zaloAsk = providers.requests.find((r) => r.body.app_trans_id === zalo.payment.reference);
    assert.equal(
      zaloAsk?.body.mac,
      buildZaloPayQueryRequest(creds<ZaloPayCredentials>("zalopay", DEMO.phoBo.slug), zalo.payment.reference)
        .mac,
    );
    // Settled attempts are not asked about again; a late webhook is a duplicate.
    const asked = providers.requests.length;
    const second = await run();
    assert.equal(second.settled, 0);
    assert.ok(!providers.requests.slice(asked).some((r) => r.body.orderId === momo.payment.reference));
    const lateVnp = vnpayQuery(
      creds<VnpayCredentials>("vnpay", DEMO.phoBo.slug),
      vnp.payment.reference,
      vnp.order.totalVnd,
      String(providers.paid.get(vnp.payment.reference)?.txn),
    );
    assert.deepEqual(await (await fetch(`${webhooks}/vnpay?${lateVnp}`)).json(), {
      RspCode: "02",
      Message: "Order already confirmed",
    });
  });
}
