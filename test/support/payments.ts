// The payments suite's mesh and helpers (test/e2e/payments.test.ts runs its scenario files in
// test/e2e/payments/ against one mesh): the fake providers' query APIs, signed provider notices,
// and a context whose fields are set once the mesh is up.
import { after, before } from "node:test";
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
import { startTestMesh } from "./mesh.js";
import { sseSubscription } from "./sse.js";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient, eventually } from "./graphql-client.js";
import { signMomoIpn, type MomoCredentials } from "../../services/payments/src/providers/momo.js";
import { zaloPayMac, type ZaloPayCredentials } from "../../services/payments/src/providers/zalopay.js";
import {
  vnpaySecureHash,
  vnpaySignData,
  type VnpayCredentials,
} from "../../services/payments/src/providers/vnpay.js";

const demo = JSON.parse(readFileSync(path.join(REPO, "demo", "demo-data.json"), "utf8")) as {
  tenants: { id: string; slug: string }[];
};
export const tenantId = (slug: string) => demo.tenants.find((t) => t.slug === slug)?.id ?? "";

export const START_PAYMENT = /* GraphQL */ `
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
export const PAYMENTS = /* GraphQL */ `
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

export interface Payment {
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
export function fakeProviders() {
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

/** MoMo's signed IPN (what MoMo posts). */
export function momoIpn(
  c: MomoCredentials,
  reference: string,
  amount: number,
  transId: number,
  resultCode = 0,
) {
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
/** ZaloPay's signed callback. */
export function zaloPayCallback(c: ZaloPayCredentials, reference: string, amount: number, zpTransId: number) {
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
/** VNPay's signed IPN query string. */
export function vnpayQuery(
  c: VnpayCredentials,
  reference: string,
  amountVnd: number,
  txn: string,
  code = "00",
) {
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
/** A provider transaction id, fresh per call. */
export const txnId = () => Math.floor(Math.random() * 1e12) + 1e12;

export type FakeProviders = ReturnType<typeof fakeProviders>;
type Gql = ReturnType<typeof edgeClient>;

/** What every payments scenario uses; the fields are set by the suite's `before`. */
export interface PaymentsMesh {
  mesh: Mesh;
  /** The edge as Phở Bò's demo owner. */
  gql: Gql;
  /** The edge's provider webhook routes (`${webhooks}/momo`, …). */
  webhooks: string;
  /** payments' database as the service (row-level security: one tenant at a time). */
  paymentsDb: pg.Pool;
  /** payments' database as the schema owner: the audit across tenants (the platform admin's view). */
  auditDb: pg.Pool;
  providers: FakeProviders;
  /** A tenant's DEV ONLY merchant credentials for one provider. */
  creds: <T>(provider: string, slug: string) => T;
  /** An open order of Phở Bò (one phở tái + one trà đá = 60,000 ₫) and a started payment. */
  openOrderWithPayment: (provider: "momo" | "zalopay" | "vnpay") => Promise<{
    order: { id: string; totalVnd: number };
    payment: { reference: string; method: string; url: string; body: string | null };
  }>;
  payments: (orderId: string) => Promise<Payment[]>;
  /** Audit rows of one provider reference. */
  auditCount: (reference: string) => Promise<number>;
  /** Posts a provider's notice to the edge's webhook route. */
  post: (provider: string, body: unknown) => Promise<Response>;
  /** A GraphQL subscription at the edge over SSE (test/support/sse.ts), as the tenant's owner. */
  subscribe: <T>(
    query: string,
    tenant?: string,
    variables?: Record<string, unknown>,
  ) => ReturnType<typeof sseSubscription<T>>;
}

/**
 * Starts the suite's mesh (with reconciliation's query bindings pointed at fake providers, see
 * scripts/mesh/dev-secrets.ts) in a `before` of the calling describe, and stops it after.
 */
export function usePaymentsMesh(): PaymentsMesh {
  const h = {} as PaymentsMesh;
  const providers = fakeProviders();
  let secrets: Record<string, string> = {};
  before(async () => {
    const base = Number(process.env.LSP_TEST_PORT_BASE ?? 4600);
    await new Promise<void>((resolve) => providers.server.listen(base + 95, "127.0.0.1", resolve));
    process.env.LSP_PAYMENT_PROVIDERS_URL = `http://127.0.0.1:${base + 95}`;
    const mesh = await startTestMesh();
    const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    secrets = merchantSecrets();
    const auditDb = new pg.Pool({
      connectionString: migrationDatabaseUrl(mesh.plan.postgres, "payments"),
      max: 1,
    });
    const webhooks = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks`;
    Object.assign(h, {
      mesh,
      gql,
      webhooks,
      paymentsDb: new pg.Pool({
        connectionString: serviceDatabaseUrl(mesh.plan.postgres, "payments"),
        max: 2,
      }),
      auditDb,
      providers,
      creds: <T>(provider: string, slug: string): T =>
        JSON.parse(secrets[`payments-${provider}-${tenantId(slug)}`] ?? "null") as T,
      async openOrderWithPayment(provider: "momo" | "zalopay" | "vnpay") {
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
      },
      async payments(orderId: string) {
        const res = await gql<{ payments: Payment[] }>(PAYMENTS, { orderId });
        assert.ok(res.data, JSON.stringify(res.errors));
        return res.data.payments;
      },
      auditCount: async (reference: string) =>
        Number(
          (await auditDb.query("SELECT count(*) FROM webhook_audit WHERE reference = $1", [reference]))
            .rows[0]?.count ?? 0,
        ),
      post: (provider: string, body: unknown) =>
        fetch(`${webhooks}/${provider}`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: typeof body === "string" ? body : JSON.stringify(body),
        }),
      subscribe: <T>(query: string, tenant: string = DEMO.phoBo.slug, variables?: Record<string, unknown>) =>
        sseSubscription<T>(mesh.edgeUrl, edgeAuthHeaders(mesh.edgeUrl, tenant), query, variables),
    } satisfies PaymentsMesh);
  });
  after(async () => {
    await h.auditDb?.end();
    await h.paymentsDb?.end();
    await h.mesh?.stop();
    providers.server.close();
  });
  return h;
}

/** Pays an order by MoMo; resolves with the order and its payment event's id once it is in the outbox. */
export async function payAndAwaitPaymentEvent(h: PaymentsMesh) {
  const { order, payment } = await h.openOrderWithPayment("momo");
  const res = await h.post(
    "momo",
    momoIpn(h.creds<MomoCredentials>("momo", DEMO.phoBo.slug), payment.reference, order.totalVnd, txnId()),
  );
  assert.equal(res.status, 204);
  const eventId = await eventually("payment event id", async () => {
    const r = await h.paymentsDb.query("SELECT id FROM outbox WHERE payload->>'orderId' = $1", [order.id]);
    return (r.rows[0] as { id: string } | undefined)?.id;
  });
  return { order, eventId };
}
