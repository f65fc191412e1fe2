// The edge's read path against bare graphql-yoga, one run on a fresh mesh (LSP_PORT_BASE,
// default 5200). The baseline: graphql-yoga on node:http answering the mobile query
// `location(id) { todayRevenue todayOrders }` from a static resolver (bench/bare-yoga.ts), run
// before and after the edge figures; every figure is given as a ratio to it.
//  (a) the mobile query at the edge, answered from the response cache
//  (b) the same query executed (`Cache-Control: no-cache`: stitched, the dashboard's cache warm)
//  (c) the web dashboard query of SPEC §4 executed (with AI recommendations): p99 at c connections
//  (d) the stitched query at the edge vs the same fields asked straight from the dashboard service
//      (its app port, as its sidecar calls it: app token + the user's own token): p50 ratio
//  (e) anonymous `{ __typename }`
// The generator is wrk (1 thread, BENCH_CONCURRENCY connections), pinned with taskset to core
// BENCH_WRK_CORE (default: the last core); the mesh shares the machine, so the generator's CPU
// share is printed beside each figure, and each run's CPU milliseconds per request of every mesh
// process (bench/mesh-cpu.ts: who holds the cores; stable on a busy machine where req/s is not).
// Order ingest: bench/edge-ingest.ts.
// BENCH_CPU_PROFILE=<dir>: a V8 CPU profile of the edge during each measured edge run (not its
// start-up nor the warm-up), written to <dir> and summarised: who holds the cores.
//   npm run bench:edge   (BENCH_SECONDS, BENCH_CONCURRENCY, BENCH_WRK_CORE, BENCH_ONLY, LSP_PORT_BASE)
import { fork } from "node:child_process";
import { availableParallelism } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { DEMO, edgeAuthHeaders, edgeClient } from "../test/support/graphql-client.js";
import { cpuBetween, formatCpuPerUnit, meshCpu } from "./mesh-cpu.js";
import { cpuProfilesFromEnv } from "./cpu-profiles.js";
import { say, seedSales, startBenchMesh, wrk, type WrkResult } from "./support.js";

const base = Number(process.env.LSP_PORT_BASE ?? 5200);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONCURRENCY ?? 32);
const core = Number(process.env.BENCH_WRK_CORE ?? availableParallelism() - 1);
/** A subset of the runs by letter (e.g. "a,e"; profiling), the baseline always included. */
const only = process.env.BENCH_ONLY?.split(",").map((s) => s.trim());
// Benchmarks measure throughput, not the per-caller limit. The limiter's work per call grows
// with the caller's calls in its window (it filters their timestamps): in production at most
// EDGE_RATE_LIMIT_MAX (600; the edge keeps no more), here a 1 s window keeps it to a second of
// benchmark traffic (a few hundred) instead of a whole minute of it (tens of thousands), which
// made every figure cost more the faster it ran.
process.env.EDGE_RATE_LIMIT_MAX = "100000000";
process.env.EDGE_RATE_LIMIT_WINDOW = "1s";
const profiles = cpuProfilesFromEnv(["edge"]);

const here = path.dirname(fileURLToPath(import.meta.url));

/** bench/bare-yoga.ts in a process of its own, on a port of this mesh's span that nothing uses. */
async function startBareYoga(port: number): Promise<{ pid: number | undefined; stop: () => void }> {
  const child = fork(path.join(here, "bare-yoga.ts"), [String(port)], {
    execArgv: ["--import", "tsx"],
    stdio: "inherit",
  });
  await new Promise<void>((resolve, reject) => {
    child.once("message", () => resolve());
    child.once("exit", (code) => reject(new Error(`bare yoga exited (${code})`)));
  });
  return { pid: child.pid, stop: () => void child.kill("SIGTERM") };
}

/** One POST answered 200 without GraphQL errors (a figure of failing requests means nothing). */
async function check(url: string, body: string, headers: Record<string, string>): Promise<unknown> {
  const res = await fetch(url, { method: "POST", headers, body });
  const json = (await res.json()) as { data?: unknown; errors?: unknown };
  if (res.status !== 200 || json.errors)
    throw new Error(`${url} answered ${res.status}: ${JSON.stringify(json).slice(0, 500)}`);
  return json.data;
}

const q = (query: string) => JSON.stringify({ query });

const bareUrl = `http://127.0.0.1:${base + 19}/graphql`;
const bareYoga = await startBareYoga(base + 19);
const stopBare = bareYoga.stop;
const mesh = await startBenchMesh(`bench-${base}`, base).catch((err: unknown) => {
  stopBare();
  throw err;
});
try {
  const loc = DEMO.phoBo.hoanKiem;
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const auth = await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
  const json = { "content-type": "application/json" };
  const caller = { ...json, ...auth };
  const executed = { ...caller, "cache-control": "no-cache" };
  await seedSales(gql, loc, DEMO.phoBo.phoTai);

  const mobile = q(`query { location(id: "${loc}") { todayRevenue todayOrders } }`);
  const web = q(
    `query { location(id: "${loc}") { todayRevenue todayOrders hourlyTrends { hour revenue } topItems { name quantity revenue } recommendations { title priority } } }`,
  );
  const direct = q(`query { _dashboardLocations(ids: ["${loc}"]) { todayRevenue todayOrders } }`);
  const dashboardUrl = `http://127.0.0.1:${mesh.plan.apps.dashboard.app}/graphql`;
  // As the edge's delegation arrives there: the dashboard's app token (from its sidecar) and the
  // caller's own access token, which the dashboard verifies.
  const asSidecar = {
    ...json,
    "dapr-api-token": mesh.tokens.dashboard.appApiToken,
    authorization: auth.authorization ?? "",
  };

  const runs: { name: string; url: string; body: string; headers: Record<string, string> }[] = [
    { name: "bare Yoga, mobile query (static resolver)", url: bareUrl, body: mobile, headers: json },
    { name: "(a) edge, mobile query, response-cache hit", url: mesh.edgeUrl, body: mobile, headers: caller },
    {
      name: "(b) edge, mobile query executed (no-cache)",
      url: mesh.edgeUrl,
      body: mobile,
      headers: executed,
    },
    { name: "(c) edge, web dashboard query executed", url: mesh.edgeUrl, body: web, headers: executed },
    { name: "(d) dashboard direct, same fields as (b)", url: dashboardUrl, body: direct, headers: asSidecar },
    {
      name: "(e) edge, anonymous { __typename }",
      url: mesh.edgeUrl,
      body: q("{ __typename }"),
      headers: json,
    },
    { name: "bare Yoga again (drift check)", url: bareUrl, body: mobile, headers: json },
  ];
  const results: WrkResult[] = [];
  const summaries: string[] = [];
  const cpuLines: string[] = [];
  // The mesh's processes and the bare Yoga server: who spends what per request in each run.
  const measured = () => [...mesh.processes(), { name: "bare-yoga", pid: bareYoga.pid }];
  for (const run of runs) {
    const letter = /^\((\w)\)/.exec(run.name)?.[1];
    if (only && letter && !only.includes(letter)) {
      results.push({
        rps: NaN,
        p50Ms: NaN,
        p99Ms: NaN,
        requests: 0,
        errors: 0,
        non2xx: 0,
        generatorCpu: NaN,
      });
      continue;
    }
    await check(run.url, run.body, run.headers);
    await wrk({ ...run, connections, seconds: 2, core }); // warm-up
    say(`${run.name}: ${seconds} s`);
    const profiled = profiles !== undefined && run.url === mesh.edgeUrl;
    if (profiled) profiles.start(mesh);
    const cpuBefore = meshCpu(measured());
    const result = await wrk({ ...run, connections, seconds, core });
    results.push(result);
    cpuLines.push(
      `${run.name}: ${formatCpuPerUnit(cpuBetween(cpuBefore, meshCpu(measured())), result.requests, "request")}`,
    );
    if (profiled) summaries.push(...(await profiles.stop(mesh, run.name)));
  }
  const bare = ((results[0]?.rps ?? NaN) + (results[6]?.rps ?? NaN)) / 2;
  const row = (name: string, r: WrkResult) =>
    `${name.padEnd(46)} ${r.rps.toFixed(0).padStart(6)} req/s ${(r.rps / bare).toFixed(2).padStart(5)}×  p50 ${r.p50Ms.toFixed(1).padStart(6)} ms  p99 ${r.p99Ms.toFixed(1).padStart(6)} ms  errors ${r.errors + r.non2xx}  wrk CPU ${(r.generatorCpu * 100).toFixed(0)}%`;
  console.log(
    `wrk -t1 -c${connections} -d${seconds}s pinned to core ${core}; ratios to bare Yoga (mean of both runs: ${bare.toFixed(0)} req/s)`,
  );
  runs.forEach((run, i) => console.log(row(run.name, results[i]!)));
  const [, a, b, c, d] = results as [WrkResult, WrkResult, WrkResult, WrkResult, WrkResult];
  console.log(
    [
      `targets: (a) cache hit ${(a.rps / bare).toFixed(2)}× bare (≥ 1.0)`,
      `(b) executed ${(b.rps / bare).toFixed(2)}× (≥ 0.5)`,
      `(c) web p99 ${c.p99Ms.toFixed(0)} ms at c=${connections} (≤ 100)`,
      `(d) stitched/direct p50 ${(b.p50Ms / d.p50Ms).toFixed(2)}× (≤ 1.3)`,
    ].join("; "),
  );
  for (const line of cpuLines) console.log(line);
  for (const summary of summaries) console.log(summary);
  if (profiles) console.log(`profiles (open in Chrome DevTools or speedscope): ${profiles.dir}`);
} finally {
  stopBare();
  await mesh.stop();
}
