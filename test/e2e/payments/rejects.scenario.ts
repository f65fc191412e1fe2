// Forged, tampered, unknown and cross-tenant notices: the provider's error, zero writes, an audit
// record (checked after a fence); malformed bodies: a typed 4xx, never a 500.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, edgeClient, eventually } from "../../support/graphql-client.js";
import { momoIpn, zaloPayCallback, vnpayQuery, txnId, type PaymentsMesh } from "../../support/payments.js";
import type { MomoCredentials } from "../../../services/payments/src/providers/momo.js";
import type { ZaloPayCredentials } from "../../../services/payments/src/providers/zalopay.js";
import type { VnpayCredentials } from "../../../services/payments/src/providers/vnpay.js";

export function rejectScenarios(h: PaymentsMesh): void {
  test("forged, tampered, unknown and cross-tenant notices get the provider's error, zero writes, an audit record", async () => {
    const { mesh, gql, webhooks, paymentsDb, creds, openOrderWithPayment, payments, auditCount, post } = h;
    const { order, payment } = await openOrderWithPayment("vnpay");
    const vnp = creds<VnpayCredentials>("vnpay", DEMO.phoBo.slug);
    const ref = payment.reference;

    // Bad signature: one hex digit of the hash changed.
    const good = vnpayQuery(vnp, ref, order.totalVnd, String(txnId()));
    const forged = good.replace(
      /vnp_SecureHash=(.)/,
      (_, c: string) => `vnp_SecureHash=${c === "a" ? "b" : "a"}`,
    );
    assert.deepEqual(await (await fetch(`${webhooks}/vnpay?${forged}`)).json(), {
      RspCode: "97",
      Message: "Invalid signature",
    });
    // Tampered amount, signature left as it was.
    const tampered = good.replace(`vnp_Amount=${order.totalVnd * 100}`, `vnp_Amount=${order.totalVnd * 10}`);
    assert.deepEqual(await (await fetch(`${webhooks}/vnpay?${tampered}`)).json(), {
      RspCode: "97",
      Message: "Invalid signature",
    });
    // Correctly signed, but not what the order costs.
    const wrongAmount = vnpayQuery(vnp, ref, order.totalVnd - 1000, String(txnId()));
    assert.deepEqual(await (await fetch(`${webhooks}/vnpay?${wrongAmount}`)).json(), {
      RspCode: "04",
      Message: "Invalid amount",
    });
    // A reference we never issued.
    const unknown = vnpayQuery(vnp, "LSPunknownref", order.totalVnd, String(txnId()));
    assert.deepEqual(await (await fetch(`${webhooks}/vnpay?${unknown}`)).json(), {
      RspCode: "01",
      Message: "Order not found",
    });
    // Signed with the other tenant's credentials.
    const caPhe = vnpayQuery(
      creds<VnpayCredentials>("vnpay", DEMO.caPhe.slug),
      ref,
      order.totalVnd,
      String(txnId()),
    );
    assert.deepEqual(await (await fetch(`${webhooks}/vnpay?${caPhe}`)).json(), {
      RspCode: "97",
      Message: "Invalid signature",
    });

    // The same for MoMo and ZaloPay.
    const zp = await openOrderWithPayment("zalopay");
    const otherZalo = zaloPayCallback(
      creds<ZaloPayCredentials>("zalopay", DEMO.caPhe.slug),
      zp.payment.reference,
      zp.order.totalVnd,
      txnId(),
    );
    assert.deepEqual(await (await post("zalopay", otherZalo)).json(), {
      return_code: -1,
      return_message: "mac not equal",
    });
    const mo = await openOrderWithPayment("momo");
    const momoOk = momoIpn(
      creds<MomoCredentials>("momo", DEMO.phoBo.slug),
      mo.payment.reference,
      mo.order.totalVnd,
      txnId(),
    );
    const momoTampered = await post("momo", { ...momoOk, amount: 1000 });
    assert.equal(momoTampered.status, 401);
    assert.equal(((await momoTampered.json()) as { error: { code: string } }).error.code, "UNAUTHENTICATED");
    const momoOther = await post(
      "momo",
      momoIpn(
        creds<MomoCredentials>("momo", DEMO.caPhe.slug),
        mo.payment.reference,
        mo.order.totalVnd,
        txnId(),
      ),
    );
    assert.equal(momoOther.status, 401);

    // Fence: one correctly signed notice after the rejected ones, through the same provider route,
    // payments outbox, topic and sales consumer. Once sales has its order paid, anything the
    // rejected notices could have set off would have arrived too.
    const fence = await openOrderWithPayment("momo");
    const fenceRes = await post(
      "momo",
      momoIpn(
        creds<MomoCredentials>("momo", DEMO.phoBo.slug),
        fence.payment.reference,
        fence.order.totalVnd,
        txnId(),
      ),
    );
    assert.equal(fenceRes.status, 204);
    const statusOf = async (id: string) =>
      (await gql<{ order: { status: string } }>(`query ($id: ID!) { order(id: $id) { status } }`, { id }))
        .data?.order.status;
    await eventually("the fence order paid in sales", async () =>
      (await statusOf(fence.order.id)) === "paid" ? true : undefined,
    );
    for (const rejected of [order.id, zp.order.id, mo.order.id])
      assert.equal(await statusOf(rejected), "open", "a rejected notice pays nothing");
    assert.equal((await payments(order.id)).length, 0);
    assert.equal((await payments(zp.order.id)).length, 0);
    assert.equal((await payments(mo.order.id)).length, 0);
    assert.equal(await auditCount(ref), 4);
    assert.equal(await auditCount("LSPunknownref"), 1);
    const audit = await gql<{
      paymentWebhookAudit: { outcome: string; reference: string; rawPayload: string }[];
    }>(`{ paymentWebhookAudit(first: 200) { outcome reference rawPayload } }`);
    const mine = audit.data?.paymentWebhookAudit.filter((a) => a.reference === ref) ?? [];
    assert.deepEqual(mine.map((a) => a.outcome).sort(), [
      "amount_mismatch",
      "invalid_signature",
      "invalid_signature",
      "invalid_signature",
    ]);
    assert.ok(mine.every((a) => a.rawPayload.includes(`vnp_TxnRef=${ref}`)));
    const other = await edgeClient(
      mesh.edgeUrl,
      DEMO.caPhe.slug,
    )<{ paymentWebhookAudit: { reference: string }[] }>(`{ paymentWebhookAudit(first: 200) { reference } }`);
    assert.equal(
      other.data?.paymentWebhookAudit.some((a) => a.reference === ref),
      false,
      "another tenant sees none of it",
    );
    assert.equal(await auditCount(zp.payment.reference), 1);
    assert.equal(await auditCount(mo.payment.reference), 2);
    const outbox = await paymentsDb.query("SELECT count(*) FROM outbox WHERE payload->>'orderId' = ANY($1)", [
      [order.id, zp.order.id, mo.order.id],
    ]);
    assert.equal(Number(outbox.rows[0]?.count), 0, "no event for a rejected notice");
  });

  test("malformed bodies get a clear 4xx, never a 500", async () => {
    const { webhooks } = h;
    const cases: [string, RequestInit & { query?: string }][] = [
      ["momo", { method: "POST", headers: { "content-type": "application/json" }, body: "{not json" }],
      ["momo", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
      ["momo", { method: "POST", headers: { "content-type": "text/plain" }, body: "hello" }],
      [
        "zalopay",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ data: "not json", mac: "ab".repeat(32) }),
        },
      ],
      ["zalopay", { method: "POST", headers: { "content-type": "application/json" }, body: "[]" }],
      ["vnpay", { method: "GET", query: "vnp_Amount=abc" }],
      ["vnpay", { method: "GET", query: "" }],
      ["vnpay", { method: "POST", query: "" }],
      ["paypal", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" }],
    ];
    for (const [provider, init] of cases) {
      const res = await fetch(`${webhooks}/${provider}${init.query ? `?${init.query}` : ""}`, init);
      assert.ok(
        res.status >= 400 && res.status < 500,
        `${provider} ${String(init.body ?? init.query)} → ${res.status}`,
      );
      const body = (await res.json()) as { error?: { code?: string } };
      assert.ok(body.error?.code, `typed error for ${provider}: ${JSON.stringify(body)}`);
    }
  });
}
