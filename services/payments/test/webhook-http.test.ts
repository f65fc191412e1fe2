// The webhook route on a real PostgreSQL (payments' migrations, its own role), behind the shared
// service plumbing (startService: the same JSON parser and error handler as in the mesh). No
// sidecar: the cases here need none (malformed, unknown reference, unusable hash, limits), and
// one that does (a known reference) shows what a real server fault answers.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import net from "node:net";
import path from "node:path";
import { sql } from "kysely";
import { createLogger, startService, type RunningService } from "@lsp/runtime";
import { sidecarReady } from "@lsp/dapr";
import { withTenant } from "@lsp/db";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { PaymentsDB } from "../src/db.js";
import { vnpaySignData } from "../src/providers/vnpay.js";
import { WebhookGuard, type GuardOptions } from "../src/webhook-guard.js";
import { mountWebhookRoutes } from "../src/webhook-http.js";

const log = createLogger("test", "silent");
const APP_API_TOKEN = "a".repeat(32);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const roomy: GuardOptions = {
  sourceRejections: { ratePerSecond: 1000, burst: 1000 },
  merchant: { ratePerSecond: 1000, burst: 1000 },
  auditPerSource: { ratePerSecond: 1000, burst: 1000 },
  auditOverall: { ratePerSecond: 1000, burst: 1000 },
};

describe("payments webhook route", { timeout: 180_000 }, () => {
  let database: TestServiceDatabase<PaymentsDB>;
  const services: RunningService[] = [];

  before(async () => {
    database = await startServiceDatabase<PaymentsDB>(
      "payments",
      path.join(import.meta.dirname, "..", "migrations"),
    );
  });
  after(async () => {
    for (const s of services) await s.stop();
    await database?.stop();
  });

  /** payments' webhook routes on a free port; the sidecar port answers nothing (closed). */
  async function serve(guard: GuardOptions = roomy): Promise<string> {
    const [port, ops, closed] = [await freePort(), await freePort(), await freePort()];
    const config = {
      SERVICE_NAME: "payments",
      APP_PORT: port,
      APP_HOST: "127.0.0.1",
      OPS_PORT: ops,
      OPS_HOST: "127.0.0.1",
      DAPR_HTTP_PORT: closed,
      DAPR_GRPC_PORT: closed,
      DAPR_API_TOKEN: "d".repeat(32),
      APP_API_TOKEN,
      LOG_LEVEL: "fatal" as const,
      BODY_LIMIT: "256kb",
    };
    // Every provider on (feature flags are tested in test/e2e/flags-live.test.ts).
    const deps = { db: database.db, ports: config, log, flags: { isEnabled: () => true } };
    const service = await startService({
      config,
      log,
      readiness: { sidecar: () => sidecarReady(config) },
      routes: (app) => mountWebhookRoutes(app, deps, new WebhookGuard(guard)),
    });
    services.push(service);
    return `http://127.0.0.1:${port}/v1/webhooks`;
  }

  /** As the edge's sidecar forwards it: always content-type JSON, the body as the provider sent it. */
  function call(
    url: string,
    init: { method?: string; body?: string; envelope?: boolean; source?: string; contentType?: string } = {},
  ): Promise<Response> {
    return fetch(url, {
      method: init.method ?? (init.body === undefined ? "GET" : "POST"),
      headers: {
        "content-type": init.contentType ?? "application/json",
        // As the sidecar calls its app (every route but /healthz demands the app token).
        "dapr-api-token": APP_API_TOKEN,
        ...(init.envelope ? { "x-lsp-envelope": "1" } : {}),
        ...(init.source ? { "x-lsp-client-ip": init.source } : {}),
      },
      ...(init.body === undefined ? {} : { body: init.body }),
    });
  }

  const momoIpn = (over: Record<string, unknown> = {}) =>
    JSON.stringify({
      partnerCode: "MOMO",
      orderId: `LSP-${randomUUID()}`,
      requestId: "r",
      amount: 50_000,
      orderInfo: "x",
      orderType: "momo_wallet",
      transId: 1,
      resultCode: 0,
      message: "ok",
      payType: "qr",
      responseTime: 1,
      extraData: "",
      signature: "ab".repeat(32),
      ...over,
    });

  const vnpParams = {
    vnp_Amount: "5000000",
    vnp_TmnCode: "TMN",
    vnp_TxnRef: "LSPnone",
    vnp_TransactionNo: "1",
    vnp_ResponseCode: "00",
    vnp_TransactionStatus: "00",
  };

  async function auditRows(source: string) {
    const { rows } = await sql<{
      outcome: string;
      raw_payload: string;
      raw_payload_bytes: number | null;
    }>`SELECT outcome, raw_payload, raw_payload_bytes FROM webhook_audit WHERE reason LIKE ${`%(source ${source})`} ORDER BY created_at`.execute(
      database.db,
    );
    return rows;
  }

  test("envelope: every answer that is not a server fault is HTTP 200 carrying the provider's exact status, type and body", async () => {
    const url = await serve();
    const cases: [string, { method?: string; body?: string; contentType?: string }, number][] = [
      ["momo", { body: "hello", contentType: "text/plain" }, 415],
      ["momo", { body: "{not json" }, 400],
      ["momo", { body: "{}" }, 400],
      ["momo", { body: momoIpn() }, 404],
      ["zalopay", { body: "[]" }, 400],
      ["vnpay", { method: "GET" }, 400],
      ["paypal", { body: "{}" }, 404],
      ["vnpay", { method: "POST", body: "{}" }, 405],
    ];
    for (const [provider, init, status] of cases) {
      const plain = await call(`${url}/${provider}`, init);
      const plainBody = await plain.text();
      assert.equal(plain.status, status, `${provider} ${init.body ?? ""} without the envelope`);
      const wrapped = await call(`${url}/${provider}`, { ...init, envelope: true });
      assert.equal(wrapped.status, 200);
      const envelope = (await wrapped.json()) as { status: number; contentType: string; body: string };
      assert.deepEqual(Object.keys(envelope).sort(), ["body", "contentType", "status"]);
      assert.equal(envelope.status, status);
      assert.match(envelope.contentType, /^application\/json/);
      assert.equal(
        envelope.body.replace(/"message":"[^"]*"/, ""),
        plainBody.replace(/"message":"[^"]*"/, ""),
        "the same body",
      );
      const code = (JSON.parse(envelope.body) as { error?: { code?: string } }).error?.code;
      assert.ok(code, `a typed error inside: ${envelope.body}`);
    }
  });

  test("VNPay: a malformed vnp_SecureHash is a checksum failure: RspCode 97, with or without the envelope", async () => {
    const url = await serve();
    const query = `${vnpaySignData(vnpParams)}&vnp_SecureHash=not-a-hash`;
    const plain = await call(`${url}/vnpay?${query}`, { source: "198.51.100.97" });
    assert.equal(plain.status, 200);
    assert.deepEqual(await plain.json(), { RspCode: "97", Message: "Invalid signature" });
    const wrapped = await call(`${url}/vnpay?${query}`, { envelope: true });
    assert.deepEqual(await wrapped.json(), {
      status: 200,
      contentType: "application/json; charset=utf-8",
      body: JSON.stringify({ RspCode: "97", Message: "Invalid signature" }),
    });
    assert.deepEqual(
      (await auditRows("198.51.100.97")).map((r) => r.outcome),
      ["invalid_signature"],
    );
  });

  test("a real server fault stays a 5xx even when the envelope is asked for", async () => {
    const url = await serve();
    // A known reference: its tenant's credentials are needed, and the secret store is down.
    const tenant = randomUUID();
    const reference = `LSP-${randomUUID()}`;
    await withTenant(database.db, tenant, (trx) =>
      trx
        .insertInto("payment_intents")
        .values({
          provider: "momo",
          reference,
          tenant_id: tenant,
          location_id: randomUUID(),
          order_id: randomUUID(),
          amount_vnd: 50_000,
        })
        .execute(),
    );
    const res = await call(`${url}/momo`, { body: momoIpn({ orderId: reference }), envelope: true });
    assert.equal(res.status, 503);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, "UNAVAILABLE");
  });

  test("audit rows are bounded: at most 4 KiB of a payload, marked, with its original size", async () => {
    const url = await serve();
    const big = momoIpn({ orderInfo: "x".repeat(20_000) }).replace(/}$/, ',"junk":'); // not JSON
    await call(`${url}/momo`, { body: big, source: "198.51.100.4" });
    const vnpBig = `${vnpaySignData({ ...vnpParams, vnp_OrderInfo: "y".repeat(1999), vnp_Bank: "z".repeat(1999), vnp_Card: "w".repeat(1999) })}&vnp_SecureHash=00`;
    await call(`${url}/vnpay?${vnpBig}`, { source: "198.51.100.4" });
    const rows = await auditRows("198.51.100.4");
    assert.deepEqual(
      rows.map((r) => r.outcome),
      ["malformed", "invalid_signature"],
    );
    assert.equal(rows[0]?.raw_payload_bytes, Buffer.byteLength(big));
    assert.equal(rows[1]?.raw_payload_bytes, vnpBig.length);
    for (const r of rows) {
      assert.ok(Buffer.byteLength(r.raw_payload) <= 4096, `${Buffer.byteLength(r.raw_payload)} bytes stored`);
      assert.match(r.raw_payload, /…\[truncated: \d+ bytes\]$/);
    }
  });

  test("rate limits: a source sending junk is refused early (429, no audit row) once its rejections are used up, while another source is served; audit rows are sampled", async () => {
    const url = await serve({
      ...roomy,
      sourceRejections: { ratePerSecond: 0.01, burst: 5 },
      auditPerSource: { ratePerSecond: 0.01, burst: 3 },
    });
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const res = await call(`${url}/momo`, { body: momoIpn(), envelope: true, source: "203.0.113.66" });
      statuses.push(((await res.json()) as { status: number }).status);
    }
    assert.deepEqual(statuses, [404, 404, 404, 404, 404, ...Array<number>(7).fill(429)]);
    const refused = await call(`${url}/momo`, { body: momoIpn(), source: "203.0.113.66" });
    assert.equal(refused.status, 429);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, "RATE_LIMITED");
    assert.equal((await auditRows("203.0.113.66")).length, 3, "audit rows of one source are sampled");

    const other = await call(`${url}/momo`, { body: momoIpn(), envelope: true, source: "203.0.113.7" });
    assert.equal(((await other.json()) as { status: number }).status, 404, "another source is still served");
    const vnp = await call(`${url}/vnpay?${vnpaySignData(vnpParams)}&vnp_SecureHash=x`, {
      source: "203.0.113.66",
    });
    assert.equal(vnp.status, 429);
    assert.equal(((await vnp.json()) as { RspCode: string }).RspCode, "99", "VNPay: retry later");
  });

  test("audit rows of unverified rejections are capped overall too, whatever the number of sources", async () => {
    const url = await serve({ ...roomy, auditOverall: { ratePerSecond: 0.01, burst: 4 } });
    for (let i = 0; i < 10; i++) await call(`${url}/momo`, { body: "junk", source: `198.18.0.${i + 1}` });
    const { rows } = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM webhook_audit WHERE reason LIKE '%(source 198.18.0.%'`.execute(
      database.db,
    );
    assert.equal(rows[0]?.n, 4);
  });

  test("rate limits: one merchant code cannot take more than its share, whatever the sources; other merchants are served", async () => {
    const url = await serve({ ...roomy, merchant: { ratePerSecond: 0.01, burst: 3 } });
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(`${url}/momo`, {
        body: momoIpn({ partnerCode: "BUSY" }),
        envelope: true,
        source: `192.0.2.${i + 1}`,
      });
      statuses.push(((await res.json()) as { status: number }).status);
    }
    assert.deepEqual(statuses, [404, 404, 404, 429, 429]);
    const quiet = await call(`${url}/momo`, { body: momoIpn({ partnerCode: "QUIET" }), envelope: true });
    assert.equal(((await quiet.json()) as { status: number }).status, 404);
  });
});
