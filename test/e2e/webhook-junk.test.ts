// Junk and forged provider notices on the real mesh, through the edge only: they never delay a
// genuine notice (no breaker opened by 4xx answers, a junk source throttled on its own), the
// audit they cause stays bounded, and VNPay's checksum failure is answered with its own code.
// Junk is sent from another loopback address (127.0.0.2) than the genuine notices (127.0.0.1):
// the edge passes each connection's address to payments, which limits per source.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import { randomUUID } from "node:crypto";
import pg from "pg";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { merchantSecrets } from "../../scripts/mesh/dev-secrets.js";
import { migrationDatabaseUrl } from "../../scripts/mesh/infra.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeClient, eventually } from "../support/graphql-client.js";
import { momoCredentials, openMomoOrder, postMomoIpn } from "../support/momo.js";
import { signMomoIpn } from "../../services/payments/src/providers/momo.js";
import { vnpaySignData, type VnpayCredentials } from "../../services/payments/src/providers/vnpay.js";

/** A POST from a chosen local address (a source other than the genuine provider's). */
function postFrom(
  localAddress: string,
  agent: http.Agent,
  url: string,
  body: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: "POST",
        localAddress,
        agent,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        timeout: 15_000,
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", reject);
    req.end(body);
  });
}

const ORDER_STATUS = /* GraphQL */ `
  query ($id: ID!) {
    order(id: $id) {
      status
    }
  }
`;

describe("junk webhooks never delay genuine ones", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let gql: ReturnType<typeof edgeClient>;
  let webhooks: string;
  let auditDb: pg.Pool;

  before(async () => {
    mesh = await startTestMesh();
    gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    webhooks = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks`;
    // The audit across tenants (and of no tenant) is the schema owner's view.
    auditDb = new pg.Pool({ connectionString: migrationDatabaseUrl(mesh.plan.postgres, "payments"), max: 1 });
  });
  after(async () => {
    await auditDb?.end();
    await mesh?.stop();
  });

  const orderStatus = async (id: string) =>
    (await gql<{ order: { status: string } }>(ORDER_STATUS, { id })).data?.order.status;

  test("a dozen junk MoMo notices in a row, then a genuine one: accepted at once (4xx answers open no breaker)", async () => {
    const agent = new http.Agent({ keepAlive: true });
    const payment = await openMomoOrder(gql);
    for (let i = 0; i < 12; i++) {
      const res = await postFrom("127.0.0.3", agent, `${webhooks}/momo`, "{not json");
      assert.equal(res.status, 400, res.body);
    }
    const genuine = await postMomoIpn(mesh, payment);
    assert.equal(genuine.status, 204, await genuine.text());
    await eventually("order paid", async () =>
      (await orderStatus(payment.order.id)) === "paid" ? true : undefined,
    );
    agent.destroy();
  });

  test("junk MoMo notices at full rate from one source, interleaved with genuine signed ones: every genuine one settles; the junk source is throttled and its audit bounded", async () => {
    const genuine: Awaited<ReturnType<typeof openMomoOrder>>[] = [];
    for (let i = 0; i < 8; i++) genuine.push(await openMomoOrder(gql));
    const momo = momoCredentials(mesh);
    const junkSource = "127.0.0.2";
    const since = new Date();

    // Kinds of junk, in turn: not JSON; well-formed for a reference nobody has; a forged notice
    // (bad signature) for a genuine pending payment; a 60 KB body.
    const forged = (reference: string, amount: number) => {
      const ipn = signMomoIpn(momo, {
        partnerCode: momo.partnerCode,
        orderId: reference,
        requestId: `${reference}-forged`,
        amount,
        orderInfo: "forged",
        orderType: "momo_wallet",
        transId: Date.now(),
        resultCode: 0,
        message: "Successful.",
        payType: "qr",
        responseTime: Date.now(),
        extraData: "",
      });
      return JSON.stringify({ ...ipn, signature: "0".repeat(64) });
    };
    const junk = (i: number): string => {
      const target = genuine[i % genuine.length]!;
      switch (i % 4) {
        case 0:
          return "{not json";
        case 1:
          return forged(`LSP-${randomUUID()}`, 1000);
        case 2:
          return forged(target.reference, target.order.totalVnd);
        default:
          return JSON.stringify({ orderId: "x".repeat(60_000) });
      }
    };

    const statuses = new Map<number, number>();
    let sent = 0;
    let stop = false;
    const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    const flood = Array.from({ length: 8 }, async () => {
      while (!stop) {
        const res = await postFrom(junkSource, agent, `${webhooks}/momo`, junk(sent++)).catch(() => ({
          status: -1,
        }));
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      }
    });
    try {
      await eventually(
        "the junk source is throttled",
        async () => ((statuses.get(429) ?? 0) >= 20 ? true : undefined),
        60_000,
      );
      // Genuine notices, one after another while the flood goes on: each accepted at once.
      for (const payment of genuine) {
        const res = await postMomoIpn(mesh, payment);
        assert.equal(
          res.status,
          204,
          `genuine notice for ${payment.reference}: ${res.status} ${await res.text()}`,
        );
      }
    } finally {
      stop = true;
      await Promise.all(flood);
      agent.destroy();
    }
    for (const payment of genuine)
      await eventually(`order ${payment.order.id} paid`, async () =>
        (await orderStatus(payment.order.id)) === "paid" ? true : undefined,
      );

    // Junk got typed 4xx answers only: never a 5xx (no breaker opened, nothing failed).
    const seen = Object.fromEntries(statuses);
    assert.ok(sent > 100, `the flood sent ${sent}`);
    for (const status of statuses.keys())
      assert.ok(
        [400, 401, 404, 413, 429].includes(status),
        `junk answered ${status}: ${JSON.stringify(seen)}`,
      );

    // Audit rows from the junk source: a burst, then about one a second, whatever it sent.
    const seconds = (Date.now() - since.getTime()) / 1000;
    const { rows } = await auditDb.query<{ n: number; max: number }>(
      `SELECT count(*)::int AS n, coalesce(max(octet_length(raw_payload)), 0)::int AS max FROM webhook_audit
       WHERE created_at >= $1 AND reason LIKE $2`,
      [since, `%${junkSource})`],
    );
    assert.ok(rows[0]!.n >= 1, "the junk was audited");
    assert.ok(
      rows[0]!.n <= 30 + seconds + 2,
      `audit rows ${rows[0]!.n} in ${seconds.toFixed(1)} s of ${sent} junk notices`,
    );
    assert.ok(rows[0]!.max <= 4096, `stored payloads are cut to 4 KiB (${rows[0]!.max})`);
  });

  test("VNPay: a malformed vnp_SecureHash answers RspCode 97 (checksum failure); nothing recorded", async () => {
    const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(
      `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id totalVnd } }`,
      {
        input: {
          locationId: DEMO.phoBo.hoanKiem,
          idempotencyKey: randomUUID(),
          paymentMethod: "vnpay",
          lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
        },
      },
    );
    const order = created.data?.createOrder;
    assert.ok(order, JSON.stringify(created.errors));
    const started = await gql<{ startPayment: { reference: string } }>(
      `mutation ($orderId: ID!) { startPayment(orderId: $orderId, provider: vnpay) { reference } }`,
      { orderId: order.id },
    );
    const reference = started.data?.startPayment.reference;
    assert.ok(reference, JSON.stringify(started.errors));
    const tenantId = (
      await auditDb.query<{ t: string }>("SELECT payment_intent_tenant('vnpay', $1) AS t", [reference])
    ).rows[0]?.t;
    const creds = JSON.parse(merchantSecrets()[`payments-vnpay-${tenantId}`] ?? "null") as VnpayCredentials;
    const params = {
      vnp_Amount: String(order.totalVnd * 100),
      vnp_BankCode: "NCB",
      vnp_OrderInfo: `Thanh toan don ${reference}`,
      vnp_PayDate: "20261129100000",
      vnp_ResponseCode: "00",
      vnp_TmnCode: creds.tmnCode,
      vnp_TransactionNo: String(Date.now()),
      vnp_TransactionStatus: "00",
      vnp_TxnRef: reference,
    };
    for (const hash of ["not-a-hash", "z".repeat(128), "ab".repeat(63)]) {
      const res = await fetch(`${webhooks}/vnpay?${vnpaySignData(params)}&vnp_SecureHash=${hash}`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { RspCode: "97", Message: "Invalid signature" });
    }
    assert.equal(await orderStatus(order.id), "open");
    const audit = await auditDb.query<{ outcome: string }>(
      "SELECT outcome FROM webhook_audit WHERE provider = 'vnpay' AND raw_payload LIKE $1",
      [`%${reference}%`],
    );
    assert.deepEqual(
      audit.rows.map((r) => r.outcome),
      ["invalid_signature", "invalid_signature", "invalid_signature"],
    );
  });
});
