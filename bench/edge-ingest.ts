// Order ingest through the edge (moved out of bench/edge.ts, which measures the edge's read path
// against bare Yoga), one run on a fresh mesh (LSP_PORT_BASE, default 5200):
//  (c) order ingest through the edge: orders/s until every order is persisted and aggregated
//  (d) order created → dashboardUpdates event over graphql-ws: p50/p99 at a steady rate
// The load generator runs on the same 2 cores as the mesh; its own CPU use is part of the figure.
//   npx tsx bench/edge-ingest.ts   (BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_ORDERS, BENCH_RATE)
import { randomUUID } from "node:crypto";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { businessDay } from "@lsp/contracts";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient } from "../test/support/graphql-client.js";
import { pct, seedSales, startBenchMesh } from "./support.js";

const base = Number(process.env.LSP_PORT_BASE ?? 5200);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const ingestOrders = Number(process.env.BENCH_ORDERS ?? 2000);
const rate = Number(process.env.BENCH_RATE ?? 20);
// Benchmarks measure throughput, not the per-caller limit.
process.env.EDGE_RATE_LIMIT_MAX = "100000000";

const ms = (v: number) => `${v.toFixed(2)} ms`;

const mesh = await startBenchMesh(`bench-${base}`, base);
try {
  const loc = DEMO.phoBo.hoanKiem;
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const headers = {
    "content-type": "application/json",
    ...(await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug)),
  };
  await seedSales(gql, loc, DEMO.phoBo.phoTai);
  const post = (url: string, body: string, h: Record<string, string>) => async () => {
    const res = await fetch(url, { method: "POST", headers: h, body });
    const json = (await res.json()) as { errors?: unknown };
    return res.ok && !json.errors;
  };

  // (c) ingest: N orders with `concurrency` in flight, until the dashboard has aggregated them all.
  const dayOrders = async (): Promise<number> => {
    const day = businessDay(new Date(), 4);
    const r = await gql<{ location: { day: { orders: number } } }>(
      `query { location(id: "${loc}") { day(businessDay: "${day}") { orders } } }`,
    );
    return r.data?.location.day.orders ?? NaN;
  };
  const startOrders = await dayOrders();
  const t0 = performance.now();
  let next = 0;
  let ingestRetries = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < ingestOrders) {
        next++;
        const body = JSON.stringify({
          query: CREATE_ORDER,
          variables: {
            input: {
              locationId: loc,
              idempotencyKey: randomUUID(),
              paymentMethod: "momo",
              paid: true,
              lines: [{ itemId: DEMO.phoBo.traDa, quantity: 1 }],
            },
          },
        });
        // A POS retries a failed or timed-out order with the same idempotency key.
        let ok = await post(mesh.edgeUrl, body, headers)().catch(() => false);
        for (let attempt = 1; !ok && attempt <= 5; attempt++) {
          ingestRetries++;
          await new Promise((r) => setTimeout(r, 200 * attempt));
          ok = await post(mesh.edgeUrl, body, headers)().catch(() => false);
        }
        if (!ok) throw new Error("createOrder failed 6 times during ingest");
      }
    }),
  );
  const persisted = (performance.now() - t0) / 1000;
  for (;;) {
    if ((await dayOrders()) - startOrders >= ingestOrders) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  const aggregated = (performance.now() - t0) / 1000;
  console.log(
    `(c) ingest through the edge, ${ingestOrders} orders, c=${concurrency}: persisted ${(ingestOrders / persisted).toFixed(0)} orders/s (${persisted.toFixed(1)} s); persisted and aggregated ${(ingestOrders / aggregated).toFixed(0)} orders/s (${aggregated.toFixed(1)} s); ${ingestRetries} retries`,
  );

  // (d) order created → subscription event.
  const client = createClient({
    url: mesh.edgeUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: headers,
    lazy: false,
    retryAttempts: 0,
  });
  const arrivals = new Map<number, number>();
  client.subscribe<{ dashboardUpdates: { todayOrders: number } }>(
    { query: `subscription { dashboardUpdates(locationId: "${loc}") { todayOrders } }` },
    {
      next: (v) => v.data && arrivals.set(v.data.dashboardUpdates.todayOrders, performance.now()),
      error: () => undefined,
      complete: () => undefined,
    },
  );
  await new Promise((r) => setTimeout(r, 1000));
  const n = Math.round(rate * seconds);
  const sent: { at: number; committed: number; orders: number }[] = [];
  const base0 = await dayOrders();
  for (let i = 0; i < n; i++) {
    const at = performance.now();
    await gql(CREATE_ORDER, {
      input: {
        locationId: loc,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.traDa, quantity: 1 }],
      },
    });
    sent.push({ at, committed: performance.now(), orders: base0 + i + 1 });
    const wait = at + 1000 / rate - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await new Promise((r) => setTimeout(r, 3000));
  const fromSend = sent.flatMap((s) => (arrivals.has(s.orders) ? [arrivals.get(s.orders)! - s.at] : []));
  const fromCommit = sent.flatMap((s) =>
    arrivals.has(s.orders) ? [arrivals.get(s.orders)! - s.committed] : [],
  );
  console.log(
    `(d) order → dashboardUpdates event, ${n} orders at ${rate}/s: from request p50 ${ms(pct(fromSend, 50))}, p99 ${ms(pct(fromSend, 99))}; from createOrder's answer p50 ${ms(pct(fromCommit, 50))}, p99 ${ms(pct(fromCommit, 99))} (${fromSend.length}/${n} events matched)`,
  );
  await client.dispose();
} finally {
  await mesh.stop();
}
