// Signed notices of each provider through the edge: one payment each, the order paid in sales
// and on the dashboard, concurrent duplicates, VNPay's replay and failure codes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, eventually } from "../../support/graphql-client.js";
import { momoIpn, zaloPayCallback, vnpayQuery, txnId, type PaymentsMesh } from "../../support/payments.js";
import type { MomoCredentials } from "../../../services/payments/src/providers/momo.js";
import type { ZaloPayCredentials } from "../../../services/payments/src/providers/zalopay.js";
import type { VnpayCredentials } from "../../../services/payments/src/providers/vnpay.js";

export function webhookScenarios(h: PaymentsMesh): void {
  test("a signed MoMo IPN for an open order → 204 and one payment; startPayment signed the create request", async () => {
    const { gql, creds, openOrderWithPayment, payments, post } = h;
    const { order, payment } = await openOrderWithPayment("momo");
    const momo = creds<MomoCredentials>("momo", DEMO.phoBo.slug);
    const res = await post("momo", momoIpn(momo, payment.reference, order.totalVnd, txnId()));
    assert.equal(res.status, 204, await res.text());
    const recorded = await payments(order.id);
    assert.equal(recorded.length, 1);
    assert.deepEqual(
      { provider: recorded[0]?.provider, amountVnd: recorded[0]?.amountVnd, status: recorded[0]?.status },
      { provider: "momo", amountVnd: 60_000, status: "succeeded" },
    );
    assert.match(JSON.parse(payment.body ?? "{}").signature, /^[0-9a-f]{64}$/);
    // Order.payment comes from payments, merged into sales' Order at the edge.
    const merged = await gql<{
      order: { id: string; payment: { provider: string; amountVnd: number } | null };
    }>(`query ($id: ID!) { order(id: $id) { id payment { provider amountVnd } } }`, { id: order.id });
    assert.deepEqual(
      merged.data?.order.payment,
      { provider: "momo", amountVnd: 60_000 },
      JSON.stringify(merged.errors),
    );
  });

  test("a paid webhook marks the order paid in sales and moves the dashboard's paid orders", async () => {
    const { gql, creds, openOrderWithPayment, post, subscribe } = h;
    const PAID = `query ($id: ID!) { location(id: $id) { todayOrders today { paidOrders } } }`;
    const today = async () => {
      const r = await gql<{ location: { todayOrders: number; today: { paidOrders: number } } }>(PAID, {
        id: DEMO.phoBo.hoanKiem,
      });
      assert.ok(r.data?.location, JSON.stringify(r.errors));
      return { orders: r.data.location.todayOrders, paid: r.data.location.today.paidOrders };
    };
    const start = await today();
    const { order, payment } = await openOrderWithPayment("momo");
    // The open order is counted when created; take the baseline once it is.
    const before = await eventually("order counted", async () => {
      const t = await today();
      return t.orders > start.orders ? t : undefined;
    });
    const updates = subscribe<{ data: { dashboardUpdates: { todayOrders: number } } }>(
      `subscription ($id: ID!) { dashboardUpdates(locationId: $id) { todayRevenue todayOrders } }`,
      DEMO.phoBo.slug,
      { id: DEMO.phoBo.hoanKiem },
    );
    await updates.ready;
    const res = await post(
      "momo",
      momoIpn(creds<MomoCredentials>("momo", DEMO.phoBo.slug), payment.reference, order.totalVnd, txnId()),
    );
    assert.equal(res.status, 204);
    // The owner's dashboardUpdates subscription fires for the payment (order.paid → dashboard.updated).
    const update = await eventually("dashboardUpdates fired", async () => updates.events[0]);
    updates.close();
    assert.equal(update.data.dashboardUpdates.todayOrders, before.orders);
    await eventually("order paid in sales", async () => {
      const r = await gql<{ order: { status: string } }>(`query ($id: ID!) { order(id: $id) { status } }`, {
        id: order.id,
      });
      return r.data?.order.status === "paid" ? true : undefined;
    });
    const after = await eventually("dashboard counts it paid", async () => {
      const t = await today();
      return t.paid > before.paid ? t : undefined;
    });
    assert.equal(after.paid, before.paid + 1);
    assert.equal(after.orders, before.orders, "paying does not add an order");
  });

  test("the same ZaloPay callback 100 times at once → exactly one payment, every reply correct", async () => {
    const { creds, openOrderWithPayment, payments, post } = h;
    const { order, payment } = await openOrderWithPayment("zalopay");
    const callback = zaloPayCallback(
      creds<ZaloPayCredentials>("zalopay", DEMO.phoBo.slug),
      payment.reference,
      order.totalVnd,
      txnId(),
    );
    const replies = await Promise.all(
      Array.from({ length: 100 }, async () => {
        const res = await post("zalopay", callback);
        return { status: res.status, body: (await res.json()) as { return_code: number } };
      }),
    );
    assert.ok(replies.every((r) => r.status === 200));
    const codes = replies.map((r) => r.body.return_code);
    assert.equal(codes.filter((c) => c === 1).length, 1, `codes: ${codes.join(",")}`);
    assert.equal(codes.filter((c) => c === 2).length, 99);
    assert.equal((await payments(order.id)).length, 1);
  });

  test("VNPay: signed IPN → 00, replay → 02; a failed payment is recorded as failed", async () => {
    const { webhooks, creds, openOrderWithPayment, payments } = h;
    const { order, payment } = await openOrderWithPayment("vnpay");
    const vnp = creds<VnpayCredentials>("vnpay", DEMO.phoBo.slug);
    const query = vnpayQuery(vnp, payment.reference, order.totalVnd, String(txnId()));
    const first = await (await fetch(`${webhooks}/vnpay?${query}`)).json();
    assert.deepEqual(first, { RspCode: "00", Message: "Confirm Success" });
    const again = await (await fetch(`${webhooks}/vnpay?${query}`)).json();
    assert.deepEqual(again, { RspCode: "02", Message: "Order already confirmed" });

    const declined = await openOrderWithPayment("vnpay");
    const q2 = vnpayQuery(vnp, declined.payment.reference, declined.order.totalVnd, String(txnId()), "24");
    assert.deepEqual(await (await fetch(`${webhooks}/vnpay?${q2}`)).json(), {
      RspCode: "00",
      Message: "Confirm Success",
    });
    const failed = await payments(declined.order.id);
    assert.deepEqual(
      failed.map((p) => p.status),
      ["failed"],
    );
  });
}
