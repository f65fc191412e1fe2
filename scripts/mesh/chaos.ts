/**
 * Chaos on the real local mesh: under steady load (orders taken through the edge, half of them
 * paid by MoMo's signed webhook), kill -9 one process after another — apps, sidecars, the
 * control plane, Redis, PostgreSQL — let the supervisor restart it, and time the recovery. Then,
 * with the load stopped: the dashboard's totals equal sales' truth, every webhook was answered
 * (retried to success), sales' paid MoMo orders equal payments' records, and no payment or
 * notification exists twice. `npm run chaos` runs every fault; test/e2e/chaos.test.ts a short list.
 */
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { DATABASE } from "./infra.js";
import type { Mesh } from "./mesh.js";
import { kafkaLibDir, pubsubEngineOf } from "./kafka.js";
import { readKafkaLag } from "./kafka-lag.js";
import { tcpOpen } from "./processes.js";
import { REPO } from "./repo.js";
import {
  progressLine,
  rssTable,
  takeSample,
  throughputTable,
  type LagReader,
  type SoakSample,
} from "./soak.js";
import { readStreamGroups } from "./stream-metrics.js";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, eventually } from "../../test/support/graphql-client.js";
import { postMomoIpn } from "../../test/support/momo.js";
import { gqlFor, untilDashboardEqualsSales } from "../../test/support/readmodel.js";

export interface FaultResult {
  fault: string;
  killedPid: number;
  /** kill -9 until the process runs again and an order goes through the edge end to end. */
  recoveryMs: number;
  /** kill -9 until the supervisor had started it again (its back-off included). */
  restartedMs: number;
  /** kill -9 until it answered its own health check again (an app's /readyz). */
  readyMs: number;
  /** Client calls that failed (and were retried) while the fault lasted. */
  retries: number;
}

export interface ChaosReport {
  faults: FaultResult[];
  orders: number;
  momoPayments: number;
  webhookRetries: number;
  /** From sales' final truth (every paid order applied) until the dashboard equalled it. */
  convergedMs: number;
  /** A soak run's samples (empty otherwise). */
  samples: SoakSample[];
}

export interface ChaosOptions {
  mesh: Mesh;
  /** Process names as in mesh.json (`sales`, `sales-2`, `edge.daprd`, `redis`, …), in order. */
  faults: readonly string[];
  /** Concurrent clients of the load. */
  clients?: number;
  /** Steady load before the first fault and between two faults. */
  steadyMs?: number;
  /**
   * A soak run: the faults go round (in order, again and again, steadyMs apart) until this much
   * time has passed, while RSS, throughput and consumer lag are sampled (soak.ts).
   */
  soakMs?: number;
  /** How often a soak run samples and prints a progress line (default 30 s). */
  sampleEveryMs?: number;
  log?: (line: string) => void;
}

/** Every fault `npm run chaos` runs on a mesh of single replicas (the first replicas otherwise). */
export const ALL_FAULTS = [
  "sales",
  "dashboard",
  "payments",
  "notifications",
  "auth",
  "ai",
  "edge",
  "sales.daprd",
  "dashboard.daprd",
  "payments.daprd",
  "notifications.daprd",
  "edge.daprd",
  "placement",
  "scheduler",
  "redis",
  "postgres",
] as const;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number) => (ms / 1000).toFixed(1);

/** The superuser's view across every schema (the checks read all services' tables at once). */
/** Tries (about 30 s of back-off) after which a failing call is reported. */
const STILL_FAILING_AFTER = 20;

function adminPool(mesh: Mesh): pg.Pool {
  return new pg.Pool({
    host: "127.0.0.1",
    port: mesh.plan.postgres,
    user: "postgres",
    database: DATABASE,
    max: 2,
  });
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const { mesh } = opts;
  const log = opts.log ?? ((l: string) => console.log(l));
  const steadyMs = opts.steadyMs ?? 3_000;
  const gql = gqlFor(mesh, DEMO.phoBo.slug);
  // Asked per call: the session is refreshed before its access token expires (15 min), which a
  // soak outlives (a token read once at the start stalled every soak at minute 15).
  const auth = () => edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
  const tenantId = (await gql<{ tenant: { id: string } }>("query { tenant { id } }")).data?.tenant.id;
  assert.ok(tenantId, "the demo tenant answers");

  let running = true;
  let failures = 0;
  let webhookRetries = 0;
  const momoOrders: string[] = [];
  let orders = 0;

  /**
   * A GraphQL call through the edge, retried (same input: idempotency key) until it answers.
   * A call still failing after many tries says why, once: a load that silently stops is how a
   * client-side fault (an expired token) once passed for a mesh that stopped taking orders.
   */
  const call = async <T>(query: string, variables: Record<string, unknown>, pick: (d: T) => unknown) => {
    for (let attempt = 0; ; attempt++) {
      let why: string;
      try {
        const res = await fetch(mesh.edgeUrl, {
          method: "POST",
          headers: { "content-type": "application/json", "cache-control": "no-cache", ...(await auth()) },
          body: JSON.stringify({ query, variables }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await res.json()) as { data?: T; errors?: { extensions?: { code?: string } }[] };
        if (body.data && pick(body.data)) return body.data;
        why = `HTTP ${res.status} ${body.errors?.[0]?.extensions?.code ?? "no data"}`;
      } catch (err) {
        // the edge or something behind it is down: retried below
        why = err instanceof Error ? err.message : String(err);
      }
      failures++;
      if (attempt === STILL_FAILING_AFTER) log(`[chaos]   a call still fails after ${attempt} tries: ${why}`);
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
  };

  const oneOrder = async (i: number) => {
    const momo = i % 2 === 1;
    const input = {
      locationId: DEMO.phoBo.hoanKiem,
      idempotencyKey: randomUUID(),
      paymentMethod: momo ? "momo" : "cash",
      lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 + (i % 3) }],
      ...(momo ? {} : { paid: true }),
    };
    const created = await call<{ createOrder: { id: string; totalVnd: number } }>(
      CREATE_ORDER,
      { input },
      (d) => d.createOrder,
    );
    orders++;
    if (!momo) return;
    const order = created.createOrder;
    const started = await call<{ startPayment: { reference: string } }>(
      `mutation ($orderId: ID!) { startPayment(orderId: $orderId, provider: momo) { reference } }`,
      { orderId: order.id },
      (d) => d.startPayment,
    );
    // MoMo resends the same IPN (same transaction id) until it is answered with 204: so does
    // this client. A new transaction id for a paid order would rightly be refused (409).
    const transId = Date.now() * 1000 + (i % 1000);
    for (let attempt = 0; ; attempt++) {
      const res = await postMomoIpn(
        mesh,
        { order, reference: started.startPayment.reference },
        { transId },
      ).catch(() => undefined);
      if (res?.status === 204) break;
      webhookRetries++;
      await sleep(Math.min(2_000, 100 * 2 ** attempt));
    }
    momoOrders.push(order.id);
  };

  let next = 0;
  const client = async () => {
    while (running) await oneOrder(next++);
  };
  const load = Promise.all(Array.from({ length: opts.clients ?? 4 }, client));

  /** Time until an order goes through the edge again (a probe of its own, retried). */
  const probe = () => oneOrder(next++);

  const results: FaultResult[] = [];
  const samples: SoakSample[] = [];
  const loadBegan = Date.now();
  let sampler: NodeJS.Timeout | undefined;
  const readLag = lagReader(mesh);
  if (opts.soakMs !== undefined) {
    const sample = async () => {
      const cur = await takeSample(mesh.describe(), readLag, Date.now() - loadBegan, orders);
      log(progressLine(samples[samples.length - 1], cur));
      samples.push(cur);
    };
    await sample();
    sampler = setInterval(() => void sample(), opts.sampleEveryMs ?? 30_000);
  }
  /** The faults in order; a soak run goes round them until its time is up. */
  function* faultSequence(): Generator<string> {
    if (opts.soakMs === undefined) return yield* opts.faults;
    const soakMs = opts.soakMs;
    for (let k = 0; Date.now() - loadBegan + steadyMs < soakMs; k++)
      yield opts.faults[k % opts.faults.length]!;
  }
  try {
    await sleep(steadyMs);
    for (const fault of faultSequence()) {
      const before = failures + webhookRetries;
      const t0 = Date.now();
      const killedPid = await mesh.crash(fault);
      log(`[chaos] kill -9 ${fault} (pid ${killedPid})`);
      await eventually(
        `${fault} restarted`,
        async () => {
          const p = mesh.describe().find((x) => x.name === fault);
          return p?.pid !== undefined && p.pid !== killedPid ? true : undefined;
        },
        60_000,
      );
      const restartedMs = Date.now() - t0;
      await readyAgain(mesh, fault);
      const readyMs = Date.now() - t0;
      await probe();
      const recoveryMs = Date.now() - t0;
      const retries = failures + webhookRetries - before;
      results.push({ fault, killedPid, recoveryMs, restartedMs, readyMs, retries });
      log(
        `[chaos]   recovered in ${seconds(recoveryMs)} s (restarted ${seconds(restartedMs)} s, ready ${seconds(readyMs)} s; ${retries} client retries)`,
      );
      await sleep(steadyMs);
    }
    // A soak run keeps the load on for its whole time, however quickly the faults went.
    if (opts.soakMs !== undefined) await sleep(Math.max(0, opts.soakMs - (Date.now() - loadBegan)));
  } finally {
    if (sampler) clearInterval(sampler);
    running = false;
    await load;
  }
  if (opts.soakMs !== undefined)
    samples.push(await takeSample(mesh.describe(), readLag, Date.now() - loadBegan, orders));

  const db = adminPool(mesh);
  let convergedMs = 0;
  try {
    // Every MoMo order answered 204 ends paid in sales (a payment event redelivered after a fault
    // waits for the stream's processing timeout, 60 s: awaited, not assumed).
    const paid = await eventually(
      "every webhook-paid order paid in sales",
      async () => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM sales.orders WHERE id = ANY($1::uuid[]) AND status = 'paid'`,
          [momoOrders],
        );
        return rows[0]?.n === momoOrders.length ? rows[0].n : undefined;
      },
      300_000,
    );
    // Only now is sales' truth final: the dashboard must then equal it.
    const t1 = Date.now();
    await untilDashboardEqualsSales(mesh, gql, tenantId, DEMO.phoBo.hoanKiem, 300_000);
    convergedMs = Date.now() - t1;
    const { rows: recorded } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM payments.payments WHERE order_id = ANY($1::uuid[]) AND status = 'succeeded'`,
      [momoOrders],
    );
    assert.equal(recorded[0]?.n, paid, "sales' paid MoMo orders equal payments' records");
    const doubledPayments = await db.query(
      `SELECT order_id, count(*)::int AS n FROM payments.payments WHERE status = 'succeeded'
       GROUP BY order_id HAVING count(*) > 1`,
    );
    assert.deepEqual(doubledPayments.rows, [], "no payment recorded twice");
    const doubledNotices = await db.query(
      `SELECT source_event_id, user_id, count(*)::int AS n FROM notifications.notifications
       WHERE source_event_id IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1`,
    );
    assert.deepEqual(doubledNotices.rows, [], "no notification written twice");
  } finally {
    await db.end();
  }
  return { faults: results, orders, momoPayments: momoOrders.length, webhookRetries, convergedMs, samples };
}

/**
 * The consumer lag of the mesh's pub/sub engine: the Kafka groups when the mesh runs a broker
 * (LSP_PUBSUB=kafka), the Redis stream groups otherwise.
 */
export function lagReader(mesh: Mesh): LagReader {
  if (pubsubEngineOf(mesh.describe()) === "redis") return () => readStreamGroups(mesh.plan.redis);
  const libDir = kafkaLibDir(REPO);
  const brokers = `127.0.0.1:${mesh.plan.kafka.broker}`;
  return () => readKafkaLag(REPO, libDir, brokers);
}

/** Waits until the restarted process serves again (its own health, not just a pid). */
async function readyAgain(mesh: Mesh, name: string): Promise<void> {
  const p = mesh.describe().find((x) => x.name === name);
  if (!p) return;
  const ok = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(1_000) })).ok;
  if (p.role === "app" && p.opsPort !== undefined) {
    const port = p.opsPort;
    await eventually(
      `${name} ready`,
      async () => ((await ok(`http://127.0.0.1:${port}/readyz`)) ? true : undefined),
      60_000,
    );
  } else if (p.role === "sidecar" && p.sidecar) {
    const port = p.sidecar.http;
    await eventually(
      `${name} healthy`,
      async () => ((await ok(`http://127.0.0.1:${port}/v1.0/healthz`)) ? true : undefined),
      60_000,
    );
  } else if (p.role === "redis") {
    await eventually(
      "redis answers",
      async () => ((await tcpOpen(mesh.plan.redis)) ? true : undefined),
      60_000,
    );
  } else if (p.role === "postgres") {
    await eventually(
      "postgres answers",
      async () => ((await tcpOpen(mesh.plan.postgres)) ? true : undefined),
      60_000,
    );
  }
}

/** The table `npm run chaos` prints. */
export function chaosTable(report: ChaosReport): string {
  const rows = report.faults.map(
    (f) =>
      `| ${f.fault} | ${seconds(f.recoveryMs)} | ${seconds(f.restartedMs)} | ${seconds(f.readyMs)} | ${f.retries} |`,
  );
  return [
    "| fault (kill -9) | recovery s | restarted s | ready s | client retries |",
    "|---|---|---|---|---|",
    ...rows,
    "",
    `orders ${report.orders}, MoMo payments ${report.momoPayments}, webhook retries ${report.webhookRetries}; ` +
      `dashboard equal to sales ${(report.convergedMs / 1000).toFixed(1)} s after sales applied every payment; ` +
      "0 payments or notifications twice",
    ...(report.samples.length > 1
      ? [
          "",
          `Soak: ${report.samples.length} samples over ${(report.samples[report.samples.length - 1]!.atMs / 60_000).toFixed(1)} min`,
          "",
          rssTable(report.samples),
          "",
          throughputTable(report.samples, 60_000),
        ]
      : []),
  ].join("\n");
}
