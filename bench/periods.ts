// Periods and the chain view over a year of a busy branch (issue 17: ≤ 100 ms), through the edge
// on a fresh mesh (LSP_PORT_BASE, default 8100). The read model is seeded directly in PostgreSQL
// as the dashboard's own serving role (row-level security applies): `--days` (366) business days
// ending yesterday, and as many before them (the previous period and last year read those), each
// with `--items` (80) menu items, 16 open hours and 4 payment methods: the rows 600 orders a day
// would leave in location_days, day_items, day_hours and day_payments. Then each query runs
// through the edge (`Cache-Control: no-cache`: executed every time, the edge's response cache is
// not what is measured) with wrk, one connection (one request at a time: latency, not
// throughput) for `--seconds` (10) after a 2 s warm-up, pinned with taskset to BENCH_WRK_CPU (1):
//   (a) baseline: one business day's report (Location.day), read from the same aggregates
//   (f) (a)'s fields asked straight from the dashboard app: where one day's tail comes from
//   (b) a year: totals, the daily series, ISO weeks, months, previous period, same period last year
//   (c) (b) with menu engineering over the year (the day_items rows of the whole year)
//   (e) (c)'s fields asked straight from the dashboard app (no edge, no Dapr hop): the split
//   (d) the chain view over the year (the tenant's two branches)
// and prints p50/p99 of each and its ratio to (a), so that a busy machine still shows the shape.
//   node --import tsx bench/periods.ts [--days 366] [--items 80] [--seconds 10]
//   smoke: LSP_PORT_BASE=8100 node --import tsx bench/periods.ts --days 30 --items 10 --seconds 2
// BENCH_CPU_PROFILE=<dir>: V8 CPU profiles of the dashboard and the edge during each measured run
// (not start-up nor warm-up), written to <dir> and summarised: who holds the time.
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { serviceDatabaseUrl } from "../scripts/mesh/infra.js";
import { DEMO, edgeAuthHeaders, edgeClient } from "../test/support/graphql-client.js";
import { cpuProfilesFromEnv } from "./cpu-profiles.js";
import { numberArg, say, startBenchMesh, wrk, type WrkResult } from "./support.js";

const base = Number(process.env.LSP_PORT_BASE ?? 8100);
const days = numberArg("days", 366);
const items = numberArg("items", 80);
const seconds = numberArg("seconds", 10);
const core = Number(process.env.BENCH_WRK_CPU ?? 1);
process.env.EDGE_RATE_LIMIT_MAX = "100000000"; // latency, not the per-caller limit
const profiler = cpuProfilesFromEnv(["dashboard", "edge"]);

const TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01"; // pho-bo-hanoi, demo/demo-data.json
const LOCATION = DEMO.phoBo.hoanKiem;

const iso = (d: Date) => d.toISOString().slice(0, 10);
const yesterday = new Date(Date.now() - 86_400_000);
const to = iso(yesterday);
const from = iso(new Date(yesterday.getTime() - (days - 1) * 86_400_000));
const seedFrom = iso(new Date(yesterday.getTime() - (2 * days + 1) * 86_400_000));

/** The rows of a busy branch, written in one transaction as svc_dashboard in the tenant. */
async function seed(postgresPort: number): Promise<{ revenue: number; portions: number }> {
  const db = new Kysely<Record<string, never>>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({
        connectionString: serviceDatabaseUrl(postgresPort, "dashboard"),
        options: "-c search_path=dashboard",
        max: 1,
      }),
    }),
  });
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('lsp.tenant_id', ${TENANT}, true)`.execute(trx);
      // Revenue varies by weekday and by day so that no two days are alike.
      await sql`
        INSERT INTO location_days (tenant_id, location_id, business_day, revenue_vnd, orders, gross_vnd,
          paid_orders, guests, guest_orders, discounted_orders, discount_vnd, voided_orders, voided_vnd, cutover_hour)
        SELECT ${TENANT}, ${LOCATION}, d::date,
          (600 + extract(dow FROM d)::int * 20 + (extract(doy FROM d)::int % 37)) * 85000,
          600 + extract(dow FROM d)::int * 20 + (extract(doy FROM d)::int % 37),
          (600 + extract(dow FROM d)::int * 20 + (extract(doy FROM d)::int % 37)) * 87000,
          590, 1500, 600, 40, 400000, 6, 510000, 4
        FROM generate_series(${seedFrom}::date, ${to}::date, interval '1 day') d
        ON CONFLICT (tenant_id, location_id, business_day) DO NOTHING`.execute(trx);
      await sql`
        INSERT INTO day_items (tenant_id, location_id, business_day, item_id, name, category, quantity, revenue_vnd, cost_vnd)
        SELECT ${TENANT}, ${LOCATION}, d::date,
          (lpad(to_hex(i), 8, '0') || '-0000-4000-8000-000000000000')::uuid,
          'Món ' || i, 'Nhóm ' || (i % 8),
          1 + (i * 7 + extract(doy FROM d)::int) % 40,
          (1 + (i * 7 + extract(doy FROM d)::int) % 40) * (30000 + i * 1000),
          (1 + (i * 7 + extract(doy FROM d)::int) % 40) * (12000 + i * 300)
        FROM generate_series(${seedFrom}::date, ${to}::date, interval '1 day') d, generate_series(1, ${items}) i
        ON CONFLICT DO NOTHING`.execute(trx);
      // The monthly item roll-ups the same events would have kept (migration 0006).
      await sql`
        INSERT INTO month_items (tenant_id, location_id, month, item_id, name, category, quantity, revenue_vnd, cost_vnd)
        SELECT tenant_id, location_id, date_trunc('month', business_day)::date, item_id, max(name), max(category),
          sum(quantity), sum(revenue_vnd), sum(cost_vnd)
        FROM day_items WHERE location_id = ${LOCATION}
        GROUP BY tenant_id, location_id, date_trunc('month', business_day), item_id
        ON CONFLICT DO NOTHING`.execute(trx);
      await sql`
        INSERT INTO day_hours (tenant_id, location_id, business_day, hour, revenue_vnd, orders)
        SELECT ${TENANT}, ${LOCATION}, d::date, h, 3000000 + h * 1000, 35 + h
        FROM generate_series(${seedFrom}::date, ${to}::date, interval '1 day') d, generate_series(6, 21) h
        ON CONFLICT DO NOTHING`.execute(trx);
      await sql`
        INSERT INTO day_payments (tenant_id, location_id, business_day, method, orders, revenue_vnd)
        SELECT ${TENANT}, ${LOCATION}, d::date, m, 150, 12750000
        FROM generate_series(${seedFrom}::date, ${to}::date, interval '1 day') d,
          unnest(ARRAY['cash', 'momo', 'vnpay', 'zalopay']) m
        ON CONFLICT DO NOTHING`.execute(trx);
      const { rows } = await sql<{ revenue: string; portions: string }>`
        SELECT
          (SELECT coalesce(sum(revenue_vnd), 0) FROM location_days
            WHERE location_id = ${LOCATION} AND business_day BETWEEN ${from}::date AND ${to}::date) AS revenue,
          (SELECT coalesce(sum(quantity), 0) FROM day_items
            WHERE location_id = ${LOCATION} AND business_day BETWEEN ${from}::date AND ${to}::date) AS portions`.execute(
        trx,
      );
      return { revenue: Number(rows[0]?.revenue ?? 0), portions: Number(rows[0]?.portions ?? 0) };
    });
  } finally {
    await db.destroy();
  }
}

const FIGURES = "from to days revenue orders averageTicket";
const YEAR = `
  totals { ${FIGURES} grossSales discounts voids }
  daily: series { ${FIGURES} }
  weeks: series(grain: week) { ${FIGURES} complete }
  months: series(grain: month) { ${FIGURES} complete }
  previousPeriod { totals { ${FIGURES} } revenueChange ordersChange averageTicketChange }
  samePeriodLastYear { totals { ${FIGURES} } revenueChange ordersChange averageTicketChange }`;
/** Where a query is sent: the edge, or the dashboard app itself as its sidecar calls it. */
type Target = "edge" | "dashboard";
const QUERIES: { name: string; query: string; target?: Target }[] = [
  {
    name: "(a) one day's report (baseline)",
    query: `{ location(id: "${LOCATION}") { day(businessDay: "${to}") { netRevenue orders averageTicket hourly { hour revenue } topItems { name quantity } } } }`,
  },
  {
    // The split of (a): where one day's tail comes from (the edge and the Dapr hops, or the dashboard).
    name: "(f) (a) at the dashboard, no edge",
    query: `{ _dashboardLocations(ids: ["${LOCATION}"]) { day(businessDay: "${to}") { netRevenue orders averageTicket hourly { hour revenue } topItems { name quantity } } } }`,
    target: "dashboard",
  },
  {
    name: `(b) period of ${days} days`,
    query: `{ location(id: "${LOCATION}") { period(from: "${from}", to: "${to}") { ${YEAR} } } }`,
  },
  {
    name: `(c) (b) + menu engineering`,
    query: `{ location(id: "${LOCATION}") { period(from: "${from}", to: "${to}") { ${YEAR} menuEngineering { itemId quantity quadrant } } } }`,
  },
  {
    // The split of (c): the same fields straight from the dashboard app (as its sidecar calls it:
    // app token + the caller's own token), no edge, no Dapr hop. (c) − (e) is the edge's share.
    name: `(e) (c) at the dashboard, no edge`,
    query: `{ _dashboardLocations(ids: ["${LOCATION}"]) { period(from: "${from}", to: "${to}") { ${YEAR} menuEngineering { itemId quantity quadrant } } } }`,
    target: "dashboard",
  },
  {
    name: `(d) chain over ${days} days`,
    query: `{ chain(from: "${from}", to: "${to}") { branches { location { id name } rank revenue orders revenueChange } totals { revenue orders revenueChange } } }`,
  },
];

const queryOf = (letter: string) => {
  const q = QUERIES.find((q) => q.name.startsWith(`(${letter})`));
  if (!q) throw new Error(`no query (${letter})`);
  return q.query;
};

const mesh = await startBenchMesh("bench-periods", base);
try {
  say(`seeding ${2 * days + 1} business days × ${items} items (${seedFrom} … ${to})`);
  const expected = await seed(mesh.plan.postgres);
  const gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  const check = await gql<{ location: { period: { totals: { revenue: number } } } }>(queryOf("b"));
  if (check.errors || check.data?.location.period.totals.revenue !== expected.revenue)
    throw new Error(`the period does not add up: ${JSON.stringify(check).slice(0, 500)}`);
  const menu = await gql<{ location: { period: { menuEngineering: { quantity: number }[] } } }>(queryOf("c"));
  const portions = menu.data?.location.period.menuEngineering.reduce((s, i) => s + i.quantity, 0);
  if (menu.errors || portions !== expected.portions)
    throw new Error(`menu engineering does not add up (${portions} ≠ ${expected.portions} portions)`);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "cache-control": "no-cache",
    ...(await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug)),
  };
  const dashboardUrl = `http://127.0.0.1:${mesh.plan.apps.dashboard.app}/graphql`;
  const asSidecar = {
    "content-type": "application/json",
    "dapr-api-token": mesh.tokens.dashboard.appApiToken,
    authorization: headers.authorization ?? "",
  };
  const results: WrkResult[] = [];
  const profiles: string[] = [];
  for (const q of QUERIES) {
    const body = JSON.stringify({ query: q.query });
    const to =
      q.target === "dashboard" ? { url: dashboardUrl, headers: asSidecar } : { url: mesh.edgeUrl, headers };
    const answer = (await (await fetch(to.url, { method: "POST", headers: to.headers, body })).json()) as {
      errors?: unknown;
    };
    if (answer.errors) throw new Error(`${q.name}: ${JSON.stringify(answer.errors)}`);
    await wrk({ ...to, body, connections: 1, seconds: 2, core }); // warm-up
    say(`${q.name}: ${seconds} s`);
    profiler?.start(mesh);
    results.push(await wrk({ ...to, body, connections: 1, seconds, core }));
    if (profiler) profiles.push(...(await profiler.stop(mesh, q.name)));
  }
  const baseline = results[0]!;
  console.log(
    `a year of a busy branch: ${days} days × ${items} items (and as many days before); wrk -t1 -c1 -d${seconds}s pinned to core ${core}, through the edge (but (e)), Cache-Control: no-cache`,
  );
  QUERIES.forEach((q, i) => {
    const r = results[i]!;
    console.log(
      `${q.name.padEnd(36)} p50 ${r.p50Ms.toFixed(1).padStart(7)} ms  p99 ${r.p99Ms.toFixed(1).padStart(7)} ms  ` +
        `(${(r.p50Ms / baseline.p50Ms).toFixed(2)}× / ${(r.p99Ms / baseline.p99Ms).toFixed(2)}× the baseline)  ` +
        `${r.requests} requests, errors ${r.errors + r.non2xx}`,
    );
  });
  for (const p of profiles) console.log(p);
} finally {
  await mesh.stop();
}
