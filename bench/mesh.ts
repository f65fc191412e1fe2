// Benchmarks of the local mesh (issue: foundation). Prints:
//  - cold start of the whole mesh to ready (fresh state: initdb, migrations, demo data);
//  - idle RSS per process group and in total, and the peak RSS of each under load (concurrent
//    clients creating orders and reading the stitched query; --clients, --load-seconds);
//  - latency of the end-to-end path (createOrder at the edge → outbox → pub/sub → dashboard and
//    the ai actor → stitched query shows both), p50/p99 over N iterations, next to the two
//    single hops it is made of (the mutation alone, the stitched query alone) as baselines.
// Usage: npm run bench:mesh [-- --iterations 500 --clients 8 --load-seconds 30] [--write-figures]
// --write-figures also writes the memory figures to bench/results/mesh-memory.json, from which the
// chart's requests and limits are derived and checked (scripts/chart-sizing.ts) and the README's
// memory table is generated.
// What daprd's metrics and tracing cost: the same with LSP_DAPR_TELEMETRY=off (both off in every
// sidecar), compared on its "daprd sidecars" line (idle memory, CPU seconds under the same load).
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { randomUUID } from "node:crypto";
import { CREATE_ORDER, DEMO, LOCATION_TODAY, edgeClient } from "../test/support/graphql-client.js";
import { MESH_MEMORY_FILE, type MeshMemoryFigures } from "../scripts/chart-sizing.js";
import { fmtMs, numberArg, pct, say, startBenchMesh } from "./support.js";

const iterations = numberArg("iterations", 500);
const clients = numberArg("clients", 8);
const loadSeconds = numberArg("load-seconds", 30);
const base = numberArg("port-base", Number(process.env.LSP_BENCH_PORT_BASE ?? 4800));

const fmt = (ms: number) => fmtMs(ms);

interface GroupMemory {
  name: string;
  /** Resident set, MB: counts pages shared with other processes (the daprd and node binaries) in full. */
  mb: number;
  /** Proportional set, MB: shared pages split among the processes sharing them; sums to what the mesh holds. */
  pssMb: number;
  /** CPU time used so far, seconds (user + system). */
  cpuS: number;
}

/** Memory and CPU time of every process in each of the given process groups (from /proc). */
function groupRss(groups: { name: string; pid: number }[]): GroupMemory[] {
  const ps = execFileSync("ps", ["-e", "-o", "pgid=,pid="]).toString().trim().split("\n");
  const byGroup = new Map<number, { rss: number; pss: number; ticks: number }>();
  for (const line of ps) {
    const [pgid, pid] = line.trim().split(/\s+/).map(Number);
    if (pgid === undefined || pid === undefined || !groups.some((g) => g.pid === pgid)) continue;
    try {
      const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
      const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, "m").exec(rollup)?.[1] ?? 0);
      // /proc/<pid>/stat: utime and stime are fields 14 and 15 (after the command in parentheses).
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      const g = byGroup.get(pgid) ?? { rss: 0, pss: 0, ticks: 0 };
      byGroup.set(pgid, {
        rss: g.rss + kb("Rss"),
        pss: g.pss + kb("Pss"),
        ticks: g.ticks + Number(stat[11] ?? 0) + Number(stat[12] ?? 0),
      });
    } catch {
      // The process ended between ps and /proc.
    }
  }
  const hz = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;
  return groups.map((g) => {
    const m = byGroup.get(g.pid);
    return {
      name: g.name,
      mb: (m?.rss ?? 0) / 1024,
      pssMb: (m?.pss ?? 0) / 1024,
      cpuS: (m?.ticks ?? 0) / hz,
    };
  });
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
  const cpuBefore = new Map(groupRss(mesh.processes()).map((r) => [r.name, r.cpuS]));
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
  const cpuUnderLoad = new Map(
    groupRss(mesh.processes()).map((r) => [r.name, r.cpuS - (cpuBefore.get(r.name) ?? r.cpuS)]),
  );

  console.log(
    `\nLSP local mesh benchmark (port base ${base}, ${iterations} iterations, this machine: ${process.env.HOSTNAME ?? "local"})`,
  );
  console.log(`cold start to ready (fresh state):           ${coldStartS.toFixed(1)} s`);
  console.log(
    `\nRSS per process group (MB): idle, and peak under load (${clients} clients × ${loadSeconds} s: ${loadedRequests} requests, ${(loadedRequests / loadSeconds).toFixed(0)}/s, ${loadedErrors} errors)`,
  );
  console.log(
    `  ${"process".padEnd(24)} ${"idle RSS".padStart(9)} ${"idle PSS".padStart(9)} ${"loaded RSS".padStart(11)} ${"CPU s loaded".padStart(13)}`,
  );
  for (const r of rss.sort((a, b) => b.mb - a.mb))
    console.log(
      `  ${r.name.padEnd(24)} ${r.mb.toFixed(1).padStart(9)} ${r.pssMb.toFixed(1).padStart(9)} ${(peak.get(r.name) ?? 0).toFixed(1).padStart(11)} ${(cpuUnderLoad.get(r.name) ?? 0).toFixed(2).padStart(13)}`,
    );
  const sum = (values: Iterable<number>) => [...values].reduce((s, v) => s + v, 0);
  console.log(
    `  ${"total".padEnd(24)} ${sum(rss.map((r) => r.mb))
      .toFixed(1)
      .padStart(9)} ${sum(rss.map((r) => r.pssMb))
      .toFixed(1)
      .padStart(
        9,
      )} ${sum(peak.values()).toFixed(1).padStart(11)} ${sum(cpuUnderLoad.values()).toFixed(2).padStart(13)}`,
  );
  const sidecars = rss.filter((r) => r.name.endsWith(".daprd"));
  console.log(
    `  daprd sidecars (${sidecars.length}): idle RSS ${sum(sidecars.map((r) => r.mb)).toFixed(1)}, PSS ${sum(sidecars.map((r) => r.pssMb)).toFixed(1)}, CPU s loaded ${sum(sidecars.map((r) => cpuUnderLoad.get(r.name) ?? 0)).toFixed(2)}` +
      (process.env.LSP_DAPR_TELEMETRY === "off" ? " (daprd metrics and tracing off)" : ""),
  );
  console.log(
    "  (RSS counts pages shared between processes, such as the daprd and node binaries, in each of them; PSS splits them: the PSS total is what the mesh holds)",
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

  if (process.argv.includes("--write-figures")) {
    const figures: MeshMemoryFigures = {
      measuredAt: new Date().toISOString(),
      commit: execFileSync("git", ["rev-parse", "--short", "HEAD"]).toString().trim(),
      command: `npm run bench:mesh -- ${process.argv.slice(2).join(" ")}`,
      coldStartS: Number(coldStartS.toFixed(1)),
      load: { clients, seconds: loadSeconds, requests: loadedRequests, errors: loadedErrors },
      processes: Object.fromEntries(
        rss
          .sort((a, b) => a.name.localeCompare(b.name))
          .map((r) => [
            r.name,
            {
              idleRssMb: Number(r.mb.toFixed(1)),
              idlePssMb: Number(r.pssMb.toFixed(1)),
              loadedRssMb: Number((peak.get(r.name) ?? 0).toFixed(1)),
            },
          ]),
      ),
    };
    writeFileSync(MESH_MEMORY_FILE, `${JSON.stringify(figures, null, 2)}\n`);
    say(`memory figures written to ${MESH_MEMORY_FILE}`);
  }
} finally {
  await mesh.stop();
}
