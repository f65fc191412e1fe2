// Payments and notifications on the real mesh: provider webhooks through the edge (REST
// pass-through → Dapr service invocation → payments), idempotency under concurrent duplicates,
// rejects that write nothing but an audit record, and the payment events downstream.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { readFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { REPO } from "../../scripts/mesh/mesh.js";
import { merchantSecrets } from "../../scripts/mesh/dev-secrets.js";
import { migrationDatabaseUrl, serviceDatabaseUrl } from "../../scripts/mesh/infra.js";
import { asApp, asSidecarOf, startTestMesh } from "../support/mesh.js";
import { sseSubscription } from "../support/sse.js";
import { businessDay } from "@lsp/contracts";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient, eventually } from "../support/graphql-client.js";
import {
  buildMomoQueryRequest,
  signMomoIpn,
  type MomoCredentials,
} from "../../services/payments/src/providers/momo.js";
import {
  buildZaloPayQueryRequest,
  zaloPayMac,
  type ZaloPayCredentials,
} from "../../services/payments/src/providers/zalopay.js";
import {
  vnpaySecureHash,
  vnpaySignData,
  type VnpayCredentials,
} from "../../services/payments/src/providers/vnpay.js";

const demo = JSON.parse(readFileSync(path.join(REPO, "demo", "demo-data.json"), "utf8")) as {
  tenants: { id: string; slug: string }[];
};
const tenantId = (slug: string) => demo.tenants.find((t) => t.slug === slug)?.id ?? "";

const START_PAYMENT = /* GraphQL */ `
  mutation ($orderId: ID!, $provider: PaymentProvider!) {
    startPayment(orderId: $orderId, provider: $provider) {
      provider
      reference
      method
      url
      body
    }
  }
`;
const PAYMENTS = /* GraphQL */ `
  query ($orderId: ID!) {
    payments(orderId: $orderId) {
      id
      provider
      providerTransactionId
      amountVnd
      status
    }
  }
`;

interface Payment {
  id: string;
  provider: string;
  providerTransactionId: string;
  amountVnd: number;
  status: string;
}

/**
 * A stand-in for the providers' transaction-status APIs (reached by payments only through its Dapr
 * http bindings): it answers "paid" for the references the test marks paid, and keeps what it was asked.
 */
function fakeProviders() {
  const paid = new Map<string, { amountVnd: number; txn: number }>();
  const requests: { path: string; body: Record<string, unknown> }[] = [];
  const server: Server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString("utf8")));
    req.on("end", () => {
      const body = JSON.parse(text || "{}") as Record<string, unknown>;
      requests.push({ path: req.url ?? "", body });
      const reply = (v: unknown) =>
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(v));
      if (req.url === "/momo/v2/gateway/api/query") {
        const p = paid.get(String(body.orderId));
        return reply(
          p
            ? {
                orderId: body.orderId,
                transId: p.txn,
                amount: p.amountVnd,
                resultCode: 0,
                message: "Thành công.",
              }
            : { orderId: body.orderId, transId: 0, amount: 0, resultCode: 1005, message: "expired" },
        );
      }
      if (req.url === "/zalopay/v2/query") {
        const p = paid.get(String(body.app_trans_id));
        return reply(
          p
            ? {
                return_code: 1,
                return_message: "Giao dịch thành công",
                amount: p.amountVnd,
                zp_trans_id: p.txn,
              }
            : { return_code: 2, return_message: "Giao dịch thất bại" },
        );
      }
      if (req.url === "/vnpay/merchant_webapi/api/transaction") {
        const p = paid.get(String(body.vnp_TxnRef));
        return reply(
          p
            ? {
                vnp_ResponseCode: "00",
                vnp_TxnRef: body.vnp_TxnRef,
                vnp_Amount: String(p.amountVnd * 100),
                vnp_TransactionNo: String(p.txn),
                vnp_TransactionStatus: "00",
              }
            : { vnp_ResponseCode: "91", vnp_TxnRef: body.vnp_TxnRef },
        );
      }
      res.writeHead(404).end();
    });
  });
  return { server, paid, requests };
}

describe("payments through the real mesh", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let gql: ReturnType<typeof edgeClient>;
  let webhooks: string;
  let paymentsDb: pg.Pool;
  let auditDb: pg.Pool;
  let secrets: Record<string, string>;
  const creds = <T>(provider: string, slug: string): T =>
    JSON.parse(secrets[`payments-${provider}-${tenantId(slug)}`] ?? "null") as T;

  const providers = fakeProviders();

  before(async () => {
    // Reconciliation's query bindings point at the fake providers (see scripts/mesh/dev-secrets.ts).
    const base = Number(process.env.LSP_TEST_PORT_BASE ?? 4600);
    await new Promise<void>((resolve) => providers.server.listen(base + 95, "127.0.0.1", resolve));
    process.env.LSP_PAYMENT_PROVIDERS_URL = `http://127.0.0.1:${base + 95}`;
    mesh = await startTestMesh();
    gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    webhooks = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks`;
    paymentsDb = new pg.Pool({
      connectionString: serviceDatabaseUrl(mesh.plan.postgres, "payments"),
      max: 2,
    });
    // The audit across tenants (and of unknown tenants) is the platform admin's view: the schema
    // owner; the service's own role sees one tenant's rows at a time (row-level security).
    auditDb = new pg.Pool({
      connectionString: migrationDatabaseUrl(mesh.plan.postgres, "payments"),
      max: 1,
    });
    secrets = merchantSecrets();
  });
  after(async () => {
    await auditDb?.end();
    await paymentsDb?.end();
    await mesh?.stop();
    providers.server.close();
  });

  /** An open order of Phở Bò (one phở tái + one trà đá = 60,000 ₫) and a started payment. */
  async function openOrderWithPayment(provider: "momo" | "zalopay" | "vnpay") {
    const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
      input: {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: randomUUID(),
        paymentMethod: provider,
        lines: [
          { itemId: DEMO.phoBo.phoTai, quantity: 1 },
          { itemId: DEMO.phoBo.traDa, quantity: 1 },
        ],
      },
    });
    assert.ok(created.data?.createOrder, JSON.stringify(created.errors));
    const order = created.data.createOrder;
    const started = await gql<{
      startPayment: { reference: string; method: string; url: string; body: string | null };
    }>(START_PAYMENT, { orderId: order.id, provider });
    assert.ok(started.data?.startPayment, JSON.stringify(started.errors));
    return { order, payment: started.data.startPayment };
  }

  const payments = async (orderId: string) => {
    const res = await gql<{ payments: Payment[] }>(PAYMENTS, { orderId });
    assert.ok(res.data, JSON.stringify(res.errors));
    return res.data.payments;
  };
  const auditCount = async (reference: string) =>
    Number(
      (await auditDb.query("SELECT count(*) FROM webhook_audit WHERE reference = $1", [reference])).rows[0]
        ?.count ?? 0,
    );

  function momoIpn(c: MomoCredentials, reference: string, amount: number, transId: number, resultCode = 0) {
    return signMomoIpn(c, {
      partnerCode: c.partnerCode,
      orderId: reference,
      requestId: `${reference}-req`,
      amount,
      orderInfo: "Thanh toán đơn hàng",
      orderType: "momo_wallet",
      transId,
      resultCode,
      message: resultCode === 0 ? "Successful." : "Transaction denied by user.",
      payType: "qr",
      responseTime: Date.now(),
      extraData: "",
    });
  }
  function zaloPayCallback(c: ZaloPayCredentials, reference: string, amount: number, zpTransId: number) {
    const data = JSON.stringify({
      app_id: c.appId,
      app_trans_id: reference,
      app_time: Date.now(),
      app_user: "demo",
      amount,
      embed_data: "{}",
      item: "[]",
      zp_trans_id: zpTransId,
      server_time: Date.now(),
      channel: 38,
      merchant_user_id: "u1",
      user_fee_amount: 0,
      discount_amount: 0,
    });
    return { data, mac: zaloPayMac(c.key2, data), type: 1 };
  }
  function vnpayQuery(c: VnpayCredentials, reference: string, amountVnd: number, txn: string, code = "00") {
    const params: Record<string, string> = {
      vnp_Amount: String(amountVnd * 100),
      vnp_BankCode: "NCB",
      vnp_CardType: "ATM",
      vnp_OrderInfo: `Thanh toan don ${reference}`,
      vnp_PayDate: "20260101120000",
      vnp_ResponseCode: code,
      vnp_TmnCode: c.tmnCode,
      vnp_TransactionNo: txn,
      vnp_TransactionStatus: code,
      vnp_TxnRef: reference,
    };
    return `${vnpaySignData(params)}&vnp_SecureHashType=HmacSHA512&vnp_SecureHash=${vnpaySecureHash(c.hashSecret, params)}`;
  }
  const post = (provider: string, body: unknown) =>
    fetch(`${webhooks}/${provider}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
  const txnId = () => Math.floor(Math.random() * 1e12) + 1e12;

  test("a signed MoMo IPN for an open order → 204 and one payment; startPayment signed the create request", async () => {
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

  test("forged, tampered, unknown and cross-tenant notices get the provider's error, zero writes, an audit record", async () => {
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

  test("an accepted notice publishes payment.succeeded through the outbox", async () => {
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

  // ---- notifications -------------------------------------------------------------------------

  const sink = () => `${mesh.devSinksUrl}/push`;
  const pushed = async () =>
    (
      (await (await fetch(sink())).json()) as {
        messages: {
          message: { token: string; notification: { title: string }; data: { notificationId: string } };
        }[];
      }
    ).messages;
  const setPreferences = async (input: Record<string, unknown>) => {
    const res = await gql(
      `mutation ($input: NotificationPreferencesInput!) { updateNotificationPreferences(input: $input) { mutedKinds pushEnabled quietHoursStart quietHoursEnd } }`,
      { input },
    );
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  };
  interface Feed {
    notifications: { id: string; kind: string; title: string; body: string; read: boolean }[];
    unreadNotificationCount: number;
  }
  const feed = async () => {
    const res = await gql<Feed>(
      `{ notifications(first: 50) { id kind title body read } unreadNotificationCount }`,
    );
    assert.ok(res.data, JSON.stringify(res.errors));
    return res.data;
  };
  /** Pays an order by MoMo and returns the notification about it once it is in the feed. */
  async function payAndAwaitNotification() {
    const { order, payment } = await openOrderWithPayment("momo");
    const res = await post(
      "momo",
      momoIpn(creds<MomoCredentials>("momo", DEMO.phoBo.slug), payment.reference, order.totalVnd, txnId()),
    );
    assert.equal(res.status, 204);
    const eventId = await eventually("payment event id", async () => {
      const r = await paymentsDb.query("SELECT id FROM outbox WHERE payload->>'orderId' = $1", [order.id]);
      return (r.rows[0] as { id: string } | undefined)?.id;
    });
    return { order, eventId };
  }
  /** A GraphQL subscription at the edge over SSE (test/support/sse.ts), as the tenant's owner. */
  const subscribe = <T>(
    query: string,
    tenant: string = DEMO.phoBo.slug,
    variables?: Record<string, unknown>,
  ) => sseSubscription<T>(mesh.edgeUrl, edgeAuthHeaders(mesh.edgeUrl, tenant), query, variables);
  const hcmMinute = () => {
    const p = new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Ho_Chi_Minh",
      hour: "2-digit",
      minute: "2-digit",
      hourCycle: "h23",
    }).format(new Date());
    const [h, m] = p.split(":").map(Number);
    return (h ?? 0) * 60 + (m ?? 0);
  };
  const clock = (minute: number) => {
    const m = ((minute % 1440) + 1440) % 1440;
    return `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  };
  const metric = async (name: string) => {
    const text = await (await fetch(`http://127.0.0.1:${mesh.plan.apps.notifications.ops}/metrics`)).text();
    const line = text.split("\n").find((l) => l.startsWith(name));
    return Number(line?.split(" ").pop() ?? 0);
  };

  test("a payment reaches the owner's feed in Vietnamese and their device as an FCM v1 message", async () => {
    const now = hcmMinute();
    await setPreferences({
      pushToken: "dev-device-token-1",
      mutedKinds: [],
      pushEnabled: true,
      quietHoursStart: clock(now + 120),
      quietHoursEnd: clock(now + 180),
    });
    const live = subscribe<{ data: { notificationReceived: { id: string; kind: string; title: string } } }>(
      `subscription { notificationReceived { id kind title } }`,
    );
    const otherTenant = subscribe<{ data: { notificationReceived: { id: string } } }>(
      `subscription { notificationReceived { id } }`,
      DEMO.caPhe.slug,
    );
    await Promise.all([live.ready, otherTenant.ready]);
    const before = await feed();
    await payAndAwaitNotification();
    const after = await eventually("feed entry", async () => {
      const f = await feed();
      return f.notifications.length > before.notifications.length ? f : undefined;
    });
    const entry = after.notifications[0];
    assert.equal(entry?.kind, "payment");
    assert.equal(entry?.title.replace(/\u00a0/g, " "), "Thanh toán mới: 60.000 ₫ — Phở bò tái, Trà đá");
    assert.match(entry?.body ?? "", /qua MoMo lúc \d{2}:\d{2} \d{2}\/\d{2}\/\d{4}\.$/);
    assert.equal(after.unreadNotificationCount, before.unreadNotificationCount + 1);
    // The owner's notificationReceived subscription fired with the same entry.
    const received = await eventually("notificationReceived", async () =>
      live.events.find((e) => e.data.notificationReceived.id === entry?.id),
    );
    live.close();
    otherTenant.close();
    assert.deepEqual(otherTenant.events, [], "another tenant's subscription sees nothing");
    assert.equal(received.data.notificationReceived.title, entry?.title);
    assert.equal(received.data.notificationReceived.kind, "payment");
    const push = await eventually("push delivered", async () =>
      (await pushed()).find((m) => m.message.data.notificationId === entry?.id),
    );
    assert.equal(push.message.token, "dev-device-token-1");
    assert.equal(push.message.notification.title, entry?.title);

    const marked = await gql<{ markNotificationsRead: number }>(`mutation { markNotificationsRead }`);
    assert.ok((marked.data?.markNotificationsRead ?? 0) >= 1);
    assert.equal((await feed()).unreadNotificationCount, 0);
  });

  test("preferences: quiet hours on the location's clock hold the push back; a muted kind writes nothing", async () => {
    const now = hcmMinute();
    await setPreferences({ quietHoursStart: clock(now - 60), quietHoursEnd: clock(now + 60) });
    const quietBefore = await metric('notifications_push_total{result="quiet_hours"}');
    const sentBefore = (await pushed()).length;
    const before = await feed();
    await payAndAwaitNotification();
    await eventually("feed entry in quiet hours", async () =>
      (await feed()).notifications.length > before.notifications.length ? true : undefined,
    );
    await eventually("push held back", async () =>
      (await metric('notifications_push_total{result="quiet_hours"}')) > quietBefore ? true : undefined,
    );
    assert.equal((await pushed()).length, sentBefore);

    await setPreferences({ mutedKinds: ["payment"], quietHoursStart: null, quietHoursEnd: null });
    const count = (await feed()).notifications.length;
    const { eventId } = await payAndAwaitNotification();
    const notificationsDb = new pg.Pool({
      connectionString: serviceDatabaseUrl(mesh.plan.postgres, "notifications"),
      max: 1,
    });
    try {
      await eventually("muted event processed", async () => {
        const r = await notificationsDb.query("SELECT 1 FROM processed_events WHERE event_id = $1", [
          eventId,
        ]);
        return r.rows.length ? true : undefined;
      });
    } finally {
      await notificationsDb.end();
    }
    assert.equal((await feed()).notifications.length, count);

    const bad = await gql(
      `mutation { updateNotificationPreferences(input: { quietHoursStart: "25:00", quietHoursEnd: "07:00" }) { pushEnabled } }`,
    );
    assert.equal(bad.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
    const half = await gql(
      `mutation { updateNotificationPreferences(input: { quietHoursStart: "22:00" }) { pushEnabled } }`,
    );
    assert.equal(half.errors?.[0]?.extensions?.code, "BAD_USER_INPUT");
  });

  test("a push that keeps failing ends in the dead-letter topic and replays once the sink is back", async () => {
    await setPreferences({ mutedKinds: [], pushToken: "dev-device-token-2" });
    await fetch(`${sink()}/failing`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failing: true }),
    });
    const before = await feed();
    await payAndAwaitNotification();
    const entry = await eventually("feed entry", async () => {
      const f = await feed();
      return f.notifications.length > before.notifications.length ? f.notifications[0] : undefined;
    });
    interface DeadLetter {
      id: string;
      eventType: string;
      data: string;
      replays: number;
    }
    const dead = await eventually(
      "dead letter listed",
      async () => {
        const res = await gql<{ deadLetters: DeadLetter[] }>(`{ deadLetters { id eventType data replays } }`);
        return res.data?.deadLetters.find(
          (d) => (JSON.parse(d.data) as { notificationId?: string }).notificationId === entry?.id,
        );
      },
      60_000,
    );
    assert.equal(dead.eventType, "notification.created");
    assert.equal(
      (await pushed()).some((m) => m.message.data.notificationId === entry?.id),
      false,
    );

    await fetch(`${sink()}/failing`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ failing: false }),
    });
    const replayed = await gql<{ replayDeadLetter: DeadLetter }>(
      `mutation ($id: ID!) { replayDeadLetter(id: $id) { id replays } }`,
      { id: dead.id },
    );
    assert.equal(replayed.data?.replayDeadLetter.replays, 1, JSON.stringify(replayed.errors));
    const push = await eventually("replayed push delivered", async () =>
      (await pushed()).find((m) => m.message.data.notificationId === entry?.id),
    );
    assert.equal(push.message.token, "dev-device-token-2");
    const left = await gql<{ deadLetters: DeadLetter[] }>(`{ deadLetters { id } }`);
    assert.equal(
      left.data?.deadLetters.some((d) => d.id === dead.id),
      false,
    );
    const missing = await gql(
      `mutation { replayDeadLetter(id: "00000000-0000-4000-8000-000000000000") { id } }`,
    );
    assert.equal(missing.errors?.[0]?.extensions?.code, "NOT_FOUND");
  });

  test("daily digest: once a business day is closed its figures reach the feed in Vietnamese", async () => {
    const yesterday = businessDay(new Date(Date.now() - 86_400_000), 4, "Asia/Ho_Chi_Minh");
    // Published as the dashboard publishes it (only dashboard may publish to `dashboard`).
    const sidecar = `http://127.0.0.1:${mesh.plan.apps.dashboard.daprHttp}/v1.0/publish/pubsub/dashboard`;
    const res = await fetch(sidecar, {
      method: "POST",
      headers: { "content-type": "application/cloudevents+json", ...asApp(mesh, "dashboard") },
      body: JSON.stringify({
        specversion: "1.0",
        id: randomUUID(),
        source: "test",
        type: "dashboard.updated",
        datacontenttype: "application/json",
        data: {
          tenantId: tenantId(DEMO.phoBo.slug),
          locationId: DEMO.phoBo.hoanKiem,
          businessDay: yesterday,
          revenueVnd: 1_250_000,
          orders: 25,
        },
      }),
    });
    assert.equal(res.status, 204);
    const [y, m, d] = yesterday.split("-");
    const title = `Tổng kết ngày ${d}/${m}/${y}: 1.250.000 ₫`;
    // What the `digest-cron` input binding does on its schedule.
    const digest = `http://127.0.0.1:${mesh.plan.apps.notifications.app}/digest-cron`;
    const entry = await eventually("digest in the feed", async () => {
      await fetch(digest, { method: "POST", headers: asSidecarOf(mesh, "notifications") });
      return (await feed()).notifications.find((n) => n.title.replace(/\u00a0/g, " ") === title);
    });
    assert.equal(entry.kind, "digest");
    assert.match(entry.body.replace(/\u00a0/g, " "), /: 25 đơn, trung bình 50.000 ₫ mỗi đơn\.$/);
    const sent = (await (
      await fetch(digest, { method: "POST", headers: asSidecarOf(mesh, "notifications") })
    ).json()) as {
      sent: number;
    };
    assert.equal(sent.sent, 0, "one digest per location and day");
  });

  test("AI recommendations and anomalies reach the feed in Vietnamese", async () => {
    const publish = async (type: string, data: Record<string, unknown>) => {
      const res = await fetch(
        // Published as the ai service publishes it (only ai may publish to `ai`).
        `http://127.0.0.1:${mesh.plan.apps.ai.daprHttp}/v1.0/publish/pubsub/ai`,
        {
          method: "POST",
          headers: { "content-type": "application/cloudevents+json", ...asApp(mesh, "ai") },
          body: JSON.stringify({
            specversion: "1.0",
            id: randomUUID(),
            source: "test",
            type,
            datacontenttype: "application/json",
            data,
          }),
        },
      );
      assert.equal(res.status, 204);
    };
    const common = { tenantId: tenantId(DEMO.phoBo.slug), locationId: DEMO.phoBo.hoanKiem };
    await publish("ai.recommendation.created", {
      ...common,
      recommendationId: randomUUID(),
      kind: "promote",
      title: "Đẩy mạnh Phở bò chín vào buổi trưa",
      reason: "Bán chậm hơn 30% so với tuần trước",
      priority: "medium",
      createdAt: new Date().toISOString(),
    });
    await publish("ai.anomaly.detected", {
      ...common,
      anomalyId: randomUUID(),
      businessDay: businessDay(new Date(), 4, "Asia/Ho_Chi_Minh"),
      at: "2026-01-01T05:00:00Z",
      kind: "revenue_drop",
      description: "Doanh thu giảm mạnh so với dự báo",
      severity: "high",
      score: -0.4,
    });
    const entries = await eventually("AI entries in the feed", async () => {
      const f = await feed();
      const rec = f.notifications.find((n) => n.kind === "recommendation");
      const anomaly = f.notifications.find((n) => n.kind === "anomaly");
      return rec && anomaly ? { rec, anomaly } : undefined;
    });
    assert.equal(entries.rec.title, "Gợi ý: Đẩy mạnh Phở bò chín vào buổi trưa");
    assert.equal(entries.anomaly.title, "Cảnh báo bất thường (mức cao)");
    assert.equal(entries.anomaly.body, "Doanh thu giảm mạnh so với dự báo — 12:00 01/01/2026");
  });
});
