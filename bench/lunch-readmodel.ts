// Lunch-rush benchmark of the order → read model → live figure path (issue 13), on a fresh mesh
// (LSP_PORT_BASE, default 6200), through public APIs only (the edge's GraphQL and graphql-ws), so
// the same file measures any version of the mesh (copy it and mesh-cpu.ts into an old checkout):
//  (1) ingest: BENCH_ORDERS (2,000) paid orders through the edge from BENCH_CONCURRENCY (32)
//      connections of wrk (pinned with `taskset -c BENCH_WRK_CPU`, default 1; its CPU share is
//      printed): orders/s persisted, orders/s persisted and aggregated (the dashboardUpdates push
//      counting the last order), and the aggregation lag p50/p99 — per order, from its createdAt
//      (sales' clock, the same machine) to the first push whose todayOrders counts it; and the CPU
//      ms per order of every mesh process over the ingest (bench/mesh-cpu.ts: who holds the cores).
//  (2) order → dashboardUpdates at BENCH_RATES (20,200) orders/s for BENCH_SECONDS (10) each: an
//      open-loop sender (requests leave on schedule, whatever the answers) in this process (its
//      CPU share printed); latency from the request to the first push counting the order
//      (orders ranked by when their answers came back).
//   node --import tsx bench/lunch-readmodel.ts
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { DEMO, edgeAuthHeaders, edgeClient } from "../test/support/graphql-client.js";
import { cpuBetween, formatCpuPerUnit, meshCpu } from "./mesh-cpu.js";
import { fmtMs, pct, say, startBenchMesh } from "./support.js";

const base = Number(process.env.LSP_PORT_BASE ?? 6200);
const orders = Number(process.env.BENCH_ORDERS ?? 2000);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 32);
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rates = (process.env.BENCH_RATES ?? "20,200").split(",").map(Number);
const wrkCpu = process.env.BENCH_WRK_CPU ?? "1";
process.env.EDGE_RATE_LIMIT_MAX = "100000000"; // throughput, not the per-caller limit

/** createOrder asking back only what the benchmark reads (createdAt: when sales made the order). */
const CREATE = /* GraphQL */ `
  mutation ($input: CreateOrderInput!) {
    createOrder(input: $input) {
      id
      createdAt
    }
  }
`;

const loc = DEMO.phoBo.hoanKiem;
const item = DEMO.phoBo.traDa;

/** Pushes of the location's dashboardUpdates: todayOrders and when each arrived (ms epoch). */
function subscribe(url: string, headers: Record<string, string>) {
  const pushes: { orders: number; at: number }[] = [];
  const client = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: headers,
    lazy: false,
    retryAttempts: 0,
  });
  client.subscribe<{ dashboardUpdates: { todayOrders: number } }>(
    { query: `subscription { dashboardUpdates(locationId: "${loc}") { todayOrders } }` },
    {
      next: (v) =>
        void (v.data && pushes.push({ orders: v.data.dashboardUpdates.todayOrders, at: Date.now() })),
      error: (e) => say(`subscription error: ${JSON.stringify(e)}`),
      complete: () => undefined,
    },
  );
  /**
   * When the day first counted `n` orders, among pushes since `since` (pushes may skip counts:
   * one push per batch; and may arrive out of order).
   */
  const reached = (n: number, since = 0) => pushes.find((p) => p.at >= since && p.orders >= n)?.at;
  /** The highest count pushed so far. */
  const highest = () => pushes.reduce((m, p) => Math.max(m, p.orders), 0);
  return { pushes, reached, highest, dispose: () => client.dispose() };
}

async function until<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * wrk's Lua: the first N requests are orders, each with its own key; then, while the last orders
 * are answered, a `{ __typename }` a second per connection keeps wrk busy (it must send something). When every
 * order was answered, the script touches BENCH_DONE and this process stops wrk (SIGINT: wrk then
 * prints its figures and runs done(), which writes each order's id and createdAt).
 */
function wrkScript(headers: Record<string, string>, run: string): string {
  const body = (key: string) =>
    JSON.stringify({
      query: CREATE,
      variables: {
        input: {
          locationId: loc,
          idempotencyKey: key,
          paymentMethod: "momo",
          paid: true,
          lines: [{ itemId: item, quantity: 1 }],
        },
      },
    });
  const [pre, post] = body("@@KEY@@").split("@@KEY@@");
  const lua = (s: string) => JSON.stringify(s); // a JSON string is a valid Lua string here (ASCII)
  return `
wrk.method = "POST"
${Object.entries({ ...headers, "content-type": "application/json" })
  .map(([k, v]) => `wrk.headers[${lua(k)}] = ${lua(v)}`)
  .join("\n")}
local pre, post, run, n = ${lua(pre ?? "")}, ${lua(post ?? "")}, ${lua(run)}, ${orders}
local filler = ${lua(JSON.stringify({ query: "{ __typename }" }))}
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) sent = 0; answered = 0; stamps = {}; failed = 0; finished = false; last = os.time() end
function finish()
  finished = true
  io.open(os.getenv("BENCH_DONE"), "w"):close()
end
-- Fillers wait a second each, so they cost the edge almost nothing.
function delay() if sent >= n then return 1000 end return 0 end
function request()
  if sent >= n then return wrk.format(nil, nil, nil, filler) end
  sent = sent + 1
  return wrk.format(nil, nil, nil, pre .. run .. "-" .. sent .. post)
end
function response(status, headers, body)
  if body:find('"__typename"', 1, true) then
    -- An order wrk timed out never reaches response(): 35 s without an order's answer ends it too.
    if sent >= n and not finished and os.time() - last > 35 then finish() end
    return
  end
  last = os.time()
  answered = answered + 1
  local id = body:match('"id":"([^"]+)"')
  local at = body:match('"createdAt":"([^"]+)"')
  if status == 200 and id and at then stamps[id] = at else failed = failed + 1 end
  if answered >= n and not finished then finish() end
end
function done(summary, latency, requests)
  local f = io.open(os.getenv("BENCH_STAMPS"), "w")
  for _, t in ipairs(threads) do
    for id, at in pairs(t:get("stamps")) do f:write(id, " ", at, "\\n") end
    f:write("# failed ", t:get("failed"), "\\n")
  end
  f:close()
end
`;
}

/** Runs wrk pinned to one core until every order was answered; its CPU time from `times`. */
function runWrk(url: string, script: string, dir: string) {
  const scriptPath = path.join(dir, "orders.lua");
  writeFileSync(scriptPath, script);
  const stamps = path.join(dir, "stamps.txt");
  const done = path.join(dir, "done");
  return new Promise<{ wallMs: number; cpuMs: number; stamps: string }>((resolve, reject) => {
    const t0 = Date.now();
    // wrk runs for a fixed time: it is stopped (SIGINT) once the script says every order was
    // answered. `times` prints the shell's children's CPU (user, sys) after wrk ended.
    const child = spawn(
      "taskset",
      [
        "-c",
        wrkCpu,
        "bash",
        "-c",
        `wrk -t1 -c${concurrency} -d3600s --timeout 30s -s "$0" "$1" >&2 & echo "wrk $!"; wait $!; times`,
        scriptPath,
        url,
      ],
      {
        env: { ...process.env, BENCH_STAMPS: stamps, BENCH_DONE: done },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    const poll = setInterval(() => {
      const pid = /wrk (\d+)/.exec(out)?.[1];
      if (pid && existsSync(done)) {
        clearInterval(poll);
        process.kill(Number(pid), "SIGINT");
      }
    }, 20);
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("exit", (code) => {
      clearInterval(poll);
      if (code !== 0) return reject(new Error(`wrk exited ${code}`));
      const children = out.trim().split("\n").pop() ?? "";
      const secs = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      resolve({ wallMs: Date.now() - t0, cpuMs: ((secs[0] ?? 0) + (secs[1] ?? 0)) * 1000, stamps });
    });
  });
}

const mesh = await startBenchMesh(`bench-${base}`, base);
const dir = mkdtempSync(path.join(tmpdir(), "lsp-bench-readmodel-"));
try {
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const headers = await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug);
  const createOrder = () =>
    gql<{ createOrder: { id: string } }>(CREATE, {
      input: {
        locationId: loc,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: item, quantity: 1 }],
      },
    });
  const live = subscribe(mesh.edgeUrl, headers);
  // The subscription is live once it hears an order; then the day's count is known.
  await until(
    "subscription live",
    async () => {
      await createOrder();
      const n = live.pushes.length;
      await new Promise((r) => setTimeout(r, 500));
      return n > 0 || live.pushes.length > 0 ? true : undefined;
    },
    120_000,
  );
  // The count before a phase: what the edge answers now (every order answered so far), once a
  // push has caught up with it, so that no earlier order's late push is taken for a new one.
  const countNow = async () => {
    const res = await gql<{ location: { todayOrders: number } }>(
      `query { location(id: "${loc}") { todayOrders } }`,
    );
    const queried = res.data?.location.todayOrders;
    if (queried === undefined) throw new Error(`todayOrders: ${JSON.stringify(res.errors)}`);
    return until(
      "pushes caught up",
      async () => (live.highest() >= queried ? live.highest() : undefined),
      120_000,
    );
  };

  // (1) ingest
  const start = await countNow();
  const t0 = Date.now();
  const cpuBefore = meshCpu(mesh.processes());
  const wrk = await runWrk(mesh.edgeUrl, wrkScript({ ...headers }, randomUUID()), dir);
  const lines = readFileSync(wrk.stamps, "utf8").trim().split("\n");
  const failed = lines
    .filter((l) => l.startsWith("# failed"))
    .reduce((s, l) => s + Number(l.split(" ")[2]), 0);
  const created = lines
    .filter((l) => !l.startsWith("#"))
    .map((l) => Date.parse(l.split(" ")[1] ?? ""))
    .sort((a, b) => a - b);
  // Orders that failed (errors, wrk timeouts) are not retried: the figures count the orders made.
  const made = created.length;
  if (made === 0) throw new Error("no order was created");
  const persistedS = ((created[created.length - 1] as number) - t0) / 1000;
  const aggregatedAt = await until("every order aggregated", () => live.reached(start + made, t0), 600_000);
  const aggregatedS = (aggregatedAt - t0) / 1000;
  // From the first order sent to the last one aggregated: everything each order cost the mesh.
  const cpuPerOrder = formatCpuPerUnit(cpuBetween(cpuBefore, meshCpu(mesh.processes())), made, "order");
  const lags = created.map((at, k) => (live.reached(start + k + 1, t0) as number) - at);
  console.log(
    `(1) ingest through the edge, ${made} paid orders made of ${orders} sent (${failed} failed), wrk c=${concurrency} on cpu ${wrkCpu} (wrk CPU ${((100 * wrk.cpuMs) / wrk.wallMs).toFixed(1)}% of one core): ` +
      `persisted ${(made / persistedS).toFixed(0)} orders/s (${persistedS.toFixed(1)} s); persisted and aggregated ${(made / aggregatedS).toFixed(0)} orders/s (${aggregatedS.toFixed(1)} s); ` +
      `aggregation lag p50 ${fmtMs(pct(lags, 50))}, p99 ${fmtMs(pct(lags, 99))}`,
  );
  console.log(`(1) who holds the cores during the ingest: ${cpuPerOrder}`);

  // (2) order → dashboardUpdates at fixed rates
  for (const rate of rates) {
    const before = await countNow();
    const n = Math.round(rate * seconds);
    const cpu0 = process.cpuUsage();
    const w0 = performance.now();
    const sent: { at: number; answered: number }[] = [];
    const tStart = Date.now();
    await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const due = tStart + (i * 1000) / rate;
        if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
        const at = Date.now();
        const res = await createOrder().catch(() => null);
        if (res?.data?.createOrder) sent.push({ at, answered: Date.now() });
      }),
    );
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - w0;
    sent.sort((a, b) => a.answered - b.answered);
    await until(
      `all ${rate}/s orders pushed`,
      () => live.reached(before + sent.length, tStart),
      120_000,
    ).catch(() => undefined);
    const latencies = sent.flatMap((s, k) => {
      const at = live.reached(before + k + 1, tStart);
      return at === undefined ? [] : [at - s.at];
    });
    console.log(
      `(2) order → dashboardUpdates at ${rate}/s, ${n} orders (${sent.length} answered, ${latencies.length} pushed): p50 ${fmtMs(pct(latencies, 50))}, p99 ${fmtMs(pct(latencies, 99))}; sender CPU ${((100 * (cpu.user + cpu.system)) / 1000 / wallMs).toFixed(0)}% of one core`,
    );
  }
  await live.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
  await mesh.stop();
}
