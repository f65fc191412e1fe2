// payments.vnpay per tenant: a start is refused and a webhook records nothing while it is off, and
// the provider's retry settles once it is back on. Leaves an explicit rule for Cà Phê (on).
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { merchantSecrets } from "../../../scripts/mesh/dev-secrets.js";
import { vnpaySecureHash, vnpaySignData } from "../../../services/payments/src/providers/vnpay.js";
import { CREATE_ORDER, DEMO, edgeClient, eventually } from "../../support/graphql-client.js";
import { TENANT, type FlagsLiveMesh } from "../../support/flags-live.js";

export function vnpayScenarios(h: FlagsLiveMesh): void {
  test("payments.vnpay per tenant: startPayment refuses with FEATURE_DISABLED, the webhook answers merchant not enabled and records nothing; back on, it settles", async () => {
    const { mesh, admin, flags } = h;
    const caPhe = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    const phoBo = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const order = async (gql: typeof caPhe, locationId: string, itemId: string) => {
      const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
        input: {
          locationId,
          idempotencyKey: randomUUID(),
          paymentMethod: "vnpay",
          lines: [{ itemId, quantity: 1 }],
        },
      });
      assert.ok(created.data?.createOrder, JSON.stringify(created.errors));
      return created.data.createOrder;
    };
    const START = `mutation ($orderId: ID!) { startPayment(orderId: $orderId, provider: vnpay) { reference } }`;
    // A payment started while VNPay is on for Cà Phê; then the platform switches it off.
    const early = await order(caPhe, DEMO.caPhe.quan1, DEMO.caPhe.caPheSuaDa);
    const started = await caPhe<{ startPayment: { reference: string } }>(START, { orderId: early.id });
    assert.ok(started.data?.startPayment, JSON.stringify(started.errors));
    await flags("set", "payments.vnpay", "off", "--tenant", DEMO.caPhe.slug);

    const late = await order(caPhe, DEMO.caPhe.quan1, DEMO.caPhe.caPheSuaDa);
    const refused = await eventually("startPayment refused for Cà Phê", async () => {
      const r = await caPhe(START, { orderId: late.id });
      return r.errors?.[0]?.extensions?.code === "FEATURE_DISABLED" ? r : undefined;
    });
    assert.equal(refused.data, null);
    const intents = await admin.query(
      "SELECT count(*)::int AS n FROM payments.payment_intents WHERE order_id = $1",
      [late.id],
    );
    assert.equal(intents.rows[0].n, 0, "a refused start writes no intent");
    const other = await order(phoBo, DEMO.phoBo.hoanKiem, DEMO.phoBo.phoTai);
    const allowed = await phoBo(START, { orderId: other.id });
    assert.ok(allowed.data?.startPayment, `Phở Bò still pays by VNPay: ${JSON.stringify(allowed.errors)}`);

    const creds = JSON.parse(merchantSecrets()[`payments-vnpay-${TENANT.caPhe}`] ?? "{}") as {
      tmnCode: string;
      hashSecret: string;
    };
    const reference = started.data.startPayment.reference;
    const params: Record<string, string> = {
      vnp_Amount: String(early.totalVnd * 100),
      vnp_OrderInfo: `Thanh toan don ${reference}`,
      vnp_ResponseCode: "00",
      vnp_TmnCode: creds.tmnCode,
      vnp_TransactionNo: String(Date.now()),
      vnp_TransactionStatus: "00",
      vnp_TxnRef: reference,
    };
    const ipn = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks/vnpay?${vnpaySignData(params)}&vnp_SecureHashType=HmacSHA512&vnp_SecureHash=${vnpaySecureHash(creds.hashSecret, params)}`;
    const disabled = (await (await fetch(ipn)).json()) as { RspCode: string; Message: string };
    assert.deepEqual(disabled, { RspCode: "99", Message: "Merchant not enabled" });
    const payments = async () =>
      (await admin.query("SELECT count(*)::int AS n FROM payments.payments WHERE order_id = $1", [early.id]))
        .rows[0].n;
    assert.equal(await payments(), 0, "nothing recorded while VNPay is off");

    await flags("set", "payments.vnpay", "on", "--tenant", DEMO.caPhe.slug);
    const settled = await eventually("VNPay's retry settles once it is back on", async () => {
      const r = (await (await fetch(ipn)).json()) as { RspCode: string };
      return r.RspCode === "00" ? r : undefined;
    });
    assert.equal(settled.RspCode, "00");
    assert.equal(await payments(), 1);
  });
}
