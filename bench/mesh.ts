// Benchmarks of the local mesh (issue: foundation). Prints:
//  - cold start of the whole mesh to ready (fresh state: initdb, migrations, demo data);
//  - idle RSS per process group and in total, and the peak RSS of each under load (concurrent
//    clients creating orders and reading the stitched query; --clients, --load-seconds);
//  - latency of the end-to-end path (createOrder at the edge → outbox → pub/sub → dashboard and
//    the ai actor → stitched query shows both), p50/p99 over N iterations, next to the two
//    single hops it is made of (the mutation alone, the stitched query alone) as baselines.
// Usage: npm run bench:mesh [-- --iterations 500 --clients 8 --load-seconds 30]
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { CREATE_ORDER, DEMO, LOCATION_TODAY, edgeClient } from "../test/support/graphql-client.js";
import { fmtMs, numberArg, pct, say, startBenchMesh } from "./support.js";

const iterations = numberArg("iterations", 500);
const clients = numberArg("clients", 8);
const loadSeconds = numberArg("load-seconds", 30);
const base = numberArg("port-base", Number(process.env.LSP_BENCH_PORT_BASE ?? 4800));

const fmt = (ms: number) => fmtMs(ms);

/** RSS (MB) of every process in each of the given process groups. */
function groupRss(groups: { name: string; pid: number }[]): { name: string; mb: number }[] {
  const ps = execFileSync("ps", ["-e", "-o", "pgid=,rss="]).toString().trim().split("\n");
  const byGroup = new Map<number, number>();
  for (const line of ps) {
    const [pgid, rss] = line.trim().split(/\s+/).map(Number);
    if (pgid !== undefined && rss !== undefined) byGroup.set(pgid, (byGroup.get(pgid) ?? 0) + rss);
  }
  return groups.map((g) => ({ name: g.name, mb: (byGroup.get(g.pid) ?? 0) / 1024 }));
}

const t0 = performance.now();
const mesh = await startBenchMesh(`bench-${base}`, base);
const coldStartS = (performance.now() - t0) / 1000;
try {
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  type Today = { location: { todayOrders: number; insights: { ordersSeen: number } | null } | null };
  const today = async () => (await gql<Today>(LOCATION_TODAY, { id: DEMO.phoBo.hoanKiem })).data?.location;

  say("idle 10 s before measuring RSS…");
  await new Promise((r) => setTimeout(r, 10_000));
  const rss = groupRss(mesh.processes());

  const order = () => ({
    locationId: DEMO.phoBo.hoanKiem,
    idempotencyKey: randomUUID(),
    paymentMethod: "cash",
    lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
  });
  say("warm-up…");
  for (let i = 0; i < 20; i++) await gql(CREATE_ORDER, { input: order() });
  await new Promise((r) => setTimeout(r, 2000));

  const queryOnly: number[] = [];
  for (let i = 0; i < Math.min(iterations, 200); i++) {
    const s = performance.now();
    await today();
    queryOnly.push(performance.now() - s);
  }

  say(`${iterations} iterations of the end-to-end path…`);
  const mutation: number[] = [];
  const path: number[] = [];
  let timeouts = 0;
  let seen = await today();
  for (let i = 0; i < iterations; i++) {
    const s = performance.now();
    const res = await gql(CREATE_ORDER, { input: order() });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    mutation.push(performance.now() - s);
    const wantOrders = (seen?.todayOrders ?? 0) + 1;
    const wantSeen = (seen?.insights?.ordersSeen ?? 0) + 1;
    for (;;) {
      const t = await today();
      if (t && t.todayOrders >= wantOrders && (t.insights?.ordersSeen ?? 0) >= wantSeen) {
        seen = t;
        break;
      }
      if (performance.now() - s > 10_000) {
        timeouts++;
        seen = t;
        break;
      }
    }
    path.push(performance.now() - s);
    if ((i + 1) % 100 === 0) say(`  ${i + 1}/${iterations}`);
  }

  // Loaded RSS: concurrent clients for a fixed time; RSS sampled every second, the peak kept.
  say(`loaded phase: ${clients} concurrent clients for ${loadSeconds} s…`);
  const peak = new Map<string, number>();
  const sample = () => {
    for (const r of groupRss(mesh.processes())) peak.set(r.name, Math.max(peak.get(r.name) ?? 0, r.mb));
  };
  const sampler = setInterval(sample, 1000);
  let loadedRequests = 0;
  let loadedErrors = 0;
  const loadEnd = performance.now() + loadSeconds * 1000;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < loadEnd) {
        const res = await gql(CREATE_ORDER, { input: order() });
        if (res.errors) loadedErrors++;
        await today();
        loadedRequests += 2;
      }
    }),
  );
  clearInterval(sampler);
  sample();

  console.log(
    `\nLSP local mesh benchmark (port base ${base}, ${iterations} iterations, this machine: ${process.env.HOSTNAME ?? "local"})`,
  );
  console.log(`cold start to ready (fresh state):           ${coldStartS.toFixed(1)} s`);
  console.log(
    `\nRSS per process group (MB): idle, and peak under load (${clients} clients × ${loadSeconds} s: ${loadedRequests} requests, ${(loadedRequests / loadSeconds).toFixed(0)}/s, ${loadedErrors} errors)`,
  );
  console.log(`  ${"process".padEnd(24)} ${"idle".padStart(8)} ${"loaded".padStart(8)}`);
  for (const r of rss.sort((a, b) => b.mb - a.mb))
    console.log(
      `  ${r.name.padEnd(24)} ${r.mb.toFixed(1).padStart(8)} ${(peak.get(r.name) ?? 0).toFixed(1).padStart(8)}`,
    );
  console.log(
    `  ${"total".padEnd(24)} ${rss
      .reduce((s, r) => s + r.mb, 0)
      .toFixed(1)
      .padStart(8)} ${[...peak.values()]
      .reduce((s, v) => s + v, 0)
      .toFixed(1)
      .padStart(8)}`,
  );
  console.log(`\nlatency                                      p50        p99`);
  console.log(
    `  stitched query alone (baseline)       ${fmt(pct(queryOnly, 50)).padStart(10)} ${fmt(pct(queryOnly, 99)).padStart(10)}`,
  );
  console.log(
    `  createOrder mutation alone (baseline) ${fmt(pct(mutation, 50)).padStart(10)} ${fmt(pct(mutation, 99)).padStart(10)}`,
  );
  console.log(
    `  end-to-end path                       ${fmt(pct(path, 50)).padStart(10)} ${fmt(pct(path, 99)).padStart(10)}`,
  );
  console.log(`  end-to-end / mutation (p50 ratio)     ${(pct(path, 50) / pct(mutation, 50)).toFixed(2)}×`);
  if (timeouts) console.log(`  ${timeouts} iterations did not complete within 10 s`);
} finally {
  await mesh.stop();
}
