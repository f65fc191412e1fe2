// CSV export benchmark (issue 17, item 4): a year of a busy branch streamed through the edge's
// signed download link, on a fresh mesh (LSP_PORT_BASE, default 6300).
//  Seed: BENCH_DAYS (366) business days of BENCH_ORDERS_PER_DAY (800) orders of BENCH_LINES (3)
//        lines each at Phở Bò Hoàn Kiếm, written straight into sales' tables (and the dashboard's
//        day aggregates) with SQL as the services' own roles (row-level security applies): the
//        export reads what it would read after a year of service, without a year of requests.
//  Baseline (same run): the same rows read by a PostgreSQL cursor in this process and thrown
//        away (pg-query-stream, no CSV, no HTTP): what the database alone gives.
//  Measure: each kind (ORDERS, ORDER_LINES, DAILY_SUMMARIES, ITEM_SALES) requested by
//        requestExport and downloaded by GET, the body counted and dropped as it arrives. Printed:
//        rows, MB, rows/s and the ratio to the baseline; the peak RSS (sampled every 20 ms from
//        /proc, and the kernel's VmHWM) of the exporting service and of the edge, against their
//        RSS before the download: flat whatever the range when nothing is buffered.
//   node --import tsx bench/export.ts
//   smoke: BENCH_DAYS=14 BENCH_ORDERS_PER_DAY=50 node --import tsx bench/export.ts
//   slow client: BENCH_CLIENT_KBPS=50 (reads at most that many kB/s), BENCH_KINDS=ORDER_LINES
//   bounded heap: LSP_NODE_FLAGS=--max-old-space-size=128 (every Node app): the year of order lines
//     (128 MB of CSV) must still stream whole; RSS growth without the cap is V8's GC headroom.
import { readFileSync } from "node:fs";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import pg from "pg";
import QueryStream from "pg-query-stream";
import { DEMO, edgeClient } from "../test/support/graphql-client.js";
import { serviceDatabaseUrl } from "../scripts/mesh/infra.js";
import type { Mesh } from "../scripts/mesh/mesh.js";
import { say, startBenchMesh } from "./support.js";

const base = Number(process.env.LSP_PORT_BASE ?? 6300);
const days = Number(process.env.BENCH_DAYS ?? 366);
const ordersPerDay = Number(process.env.BENCH_ORDERS_PER_DAY ?? 800);
const linesPerOrder = Number(process.env.BENCH_LINES ?? 3);
/** A slow client (kB/s; 0: as fast as it can): backpressure must hold the service, not time it out. */
const clientKBps = Number(process.env.BENCH_CLIENT_KBPS ?? 0);
const kinds = (process.env.BENCH_KINDS ?? "ORDERS,ORDER_LINES,DAILY_SUMMARIES,ITEM_SALES").split(",");
process.env.EDGE_RATE_LIMIT_MAX = "100000000";

const TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01"; // Phở Bò Hà Nội
const LOCATION = DEMO.phoBo.hoanKiem;
const ITEMS = [
  { id: "c1a0b2c3-d4e5-4f60-8a7b-000000000101", name: "Phở bò tái", price: 55_000, cost: 21_000 },
  { id: "c1a0b2c3-d4e5-4f60-8a7b-000000000102", name: "Phở bò chín", price: 50_000, cost: 19_000 },
  { id: "c1a0b2c3-d4e5-4f60-8a7b-000000000103", name: "Trà đá", price: 5_000, cost: 800 },
];

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const lastDay = isoDay(Date.now() - 86_400_000);
const firstDay = isoDay(Date.parse(lastDay) - (days - 1) * 86_400_000);

async function asTenant(client: pg.PoolClient, run: () => Promise<unknown>) {
  await client.query("BEGIN");
  await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [TENANT]);
  await run();
  await client.query("COMMIT");
}

/** A year of orders and lines in sales, a day per statement; the dashboard's day aggregates. */
async function seed(mesh: Mesh): Promise<void> {
  const sales = new pg.Pool({
    connectionString: serviceDatabaseUrl(mesh.plan.postgres, "sales"),
    options: "-c search_path=sales",
  });
  const dash = new pg.Pool({
    connectionString: serviceDatabaseUrl(mesh.plan.postgres, "dashboard"),
    options: "-c search_path=dashboard",
  });
  const started = Date.now();
  const s = await sales.connect();
  const d = await dash.connect();
  try {
    for (let i = 0; i < days; i++) {
      const day = isoDay(Date.parse(firstDay) + i * 86_400_000);
      await asTenant(s, async () => {
        // Orders from 10:00 to 22:00 local (03:00–15:00 UTC); item k of line j: (n + j) mod 3.
        await s.query(
          `WITH o AS (
             INSERT INTO orders (tenant_id, location_id, status, payment_method, subtotal_vnd, total_vnd,
               business_day, idempotency_key, created_at, paid_at, staff_id)
             SELECT $1, $2, 'paid', 'cash', 0, 0, $3::date, 'bench-' || $3 || '-' || n,
               $3::date + interval '3 hours' + n * (interval '12 hours' / $4::int), $3::date + interval '3 hours'
                 + n * (interval '12 hours' / $4::int), 'bench-staff'
             FROM generate_series(0, $4::int - 1) AS n
             RETURNING id, idempotency_key)
           INSERT INTO order_lines (order_id, line_no, tenant_id, item_id, name, quantity, unit_price_vnd)
           SELECT o.id, j, $1, ((($6::jsonb) -> (((split_part(o.idempotency_key, '-', 5))::int + j) % 3)) ->> 'id')::uuid,
             (($6::jsonb) -> (((split_part(o.idempotency_key, '-', 5))::int + j) % 3)) ->> 'name', 1 + j % 2,
             ((($6::jsonb) -> (((split_part(o.idempotency_key, '-', 5))::int + j) % 3)) ->> 'price')::bigint
           FROM o, generate_series(1, $5::int) AS j`,
          [TENANT, LOCATION, day, ordersPerDay, linesPerOrder, JSON.stringify(ITEMS)],
        );
        await s.query(
          `UPDATE orders o SET subtotal_vnd = t.s, total_vnd = t.s
           FROM (SELECT order_id, sum(quantity * unit_price_vnd) AS s FROM order_lines l
                 JOIN orders x ON x.id = l.order_id AND x.business_day = $1::date AND x.location_id = $2
                 GROUP BY order_id) t
           WHERE o.id = t.order_id`,
          [day, LOCATION],
        );
      });
      await asTenant(d, async () => {
        await d.query(
          `INSERT INTO location_days (tenant_id, location_id, business_day, revenue_vnd, orders, gross_vnd, paid_orders)
           VALUES ($1, $2, $3, $4, $5, $4, $5)`,
          [TENANT, LOCATION, day, ordersPerDay * 100_000, ordersPerDay],
        );
        for (const item of ITEMS)
          await d.query(
            `INSERT INTO day_items (tenant_id, location_id, business_day, item_id, name, category, quantity, revenue_vnd, cost_vnd)
             VALUES ($1, $2, $3, $4, $5, 'Phở', $6, $7, $8)`,
            [
              TENANT,
              LOCATION,
              day,
              item.id,
              item.name,
              ordersPerDay,
              ordersPerDay * item.price,
              ordersPerDay * item.cost,
            ],
          );
      });
      if (i % 30 === 29) say(`seeded ${i + 1}/${days} days`);
    }
  } finally {
    s.release();
    d.release();
    await sales.end();
    await dash.end();
  }
  say(
    `seeded ${days * ordersPerDay} orders, ${days * ordersPerDay * linesPerOrder} lines in ${((Date.now() - started) / 1000).toFixed(1)} s`,
  );
}

/** The baseline: the same order lines through a PostgreSQL cursor, dropped (rows/s). */
async function baseline(mesh: Mesh): Promise<number> {
  const pool = new pg.Pool({
    connectionString: serviceDatabaseUrl(mesh.plan.postgres, "sales"),
    options: "-c search_path=sales",
  });
  const client = await pool.connect();
  const started = process.hrtime.bigint();
  let rows = 0;
  try {
    await client.query("BEGIN READ ONLY");
    await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [TENANT]);
    const stream = client.query(
      new QueryStream(
        `SELECT o.id, o.business_day, o.created_at, o.status, l.line_no, l.item_id, l.name, l.quantity, l.unit_price_vnd
         FROM orders o JOIN order_lines l ON l.order_id = o.id
         WHERE o.location_id = $1 AND o.business_day BETWEEN $2 AND $3
         ORDER BY o.business_day, o.created_at, o.id, l.line_no`,
        [LOCATION, firstDay, lastDay],
        { batchSize: 1000 },
      ),
    );
    for await (const _row of stream) rows++;
    await client.query("COMMIT");
  } finally {
    client.release();
    await pool.end();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return rows / seconds;
}

function rssKb(pid: number): { rss: number; hwm: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status)?.[1] ?? 0);
  return { rss: field("VmRSS"), hwm: field("VmHWM") };
}

const mb = (kb: number) => `${(kb / 1024).toFixed(0)} MB`;

async function main() {
  const mesh = await startBenchMesh("bench-export", base);
  try {
    await seed(mesh);
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const pidOf = (name: string) => {
      const p = mesh.processes().find((x) => x.name === name);
      if (!p)
        throw new Error(
          `no process ${name}: ${mesh
            .processes()
            .map((x) => x.name)
            .join(", ")}`,
        );
      return p.pid;
    };
    const baseRate = await baseline(mesh);
    say(`baseline: order lines by a PostgreSQL cursor in this process: ${baseRate.toFixed(0)} rows/s`);
    const ownerApp: Record<string, "sales" | "dashboard"> = {
      ORDERS: "sales",
      ORDER_LINES: "sales",
      DAILY_SUMMARIES: "dashboard",
      ITEM_SALES: "dashboard",
    };
    console.log(
      `export of ${firstDay}..${lastDay} (${days} days × ${ordersPerDay} orders × ${linesPerOrder} lines)`,
    );
    console.log(
      "kind             rows      MB     rows/s  ×baseline  service RSS before→peak (HWM)   edge RSS before→peak (HWM)",
    );
    for (const kind of kinds) {
      const app = ownerApp[kind];
      if (!app) throw new Error(`unknown kind ${kind}`);
      const link = await owner<{ requestExport: { url: string } }>(
        `mutation ($i: ExportInput!) { requestExport(input: $i) { url } }`,
        { i: { kind, locationId: LOCATION, from: firstDay, to: lastDay } },
      );
      const url = link.data?.requestExport.url;
      if (!url) throw new Error(`requestExport refused: ${JSON.stringify(link.errors)}`);
      const pids = { service: pidOf(app), edge: pidOf("edge") };
      const before = { service: rssKb(pids.service), edge: rssKb(pids.edge) };
      const peak = { service: before.service.rss, edge: before.edge.rss };
      const sampler = setInterval(() => {
        peak.service = Math.max(peak.service, rssKb(pids.service).rss);
        peak.edge = Math.max(peak.edge, rssKb(pids.edge).rss);
      }, 20);
      const started = process.hrtime.bigint();
      const res = await fetch(url);
      if (res.status !== 200 || !res.body) throw new Error(`download answered ${res.status}`);
      let bytes = 0;
      let newlines = 0;
      for await (const chunk of Readable.fromWeb(
        res.body as WebReadableStream<Uint8Array>,
      ) as AsyncIterable<Buffer>) {
        bytes += chunk.byteLength;
        // Paced reading: the stream is pulled no faster than clientKBps.
        if (clientKBps > 0) {
          const due = (bytes / 1024 / clientKBps) * 1000 - Number(process.hrtime.bigint() - started) / 1e6;
          if (due > 0) await new Promise((r) => setTimeout(r, due));
        }
        for (const b of chunk) if (b === 10) newlines++;
      }
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      clearInterval(sampler);
      const after = { service: rssKb(pids.service), edge: rssKb(pids.edge) };
      const rows = newlines - 1; // the header (no cell here holds a line break)
      const rate = rows / seconds;
      const expected = {
        ORDERS: days * ordersPerDay,
        ORDER_LINES: days * ordersPerDay * linesPerOrder,
        DAILY_SUMMARIES: days,
        ITEM_SALES: days * ITEMS.length,
      }[kind];
      if (rows !== expected) throw new Error(`${kind}: ${rows} rows downloaded, ${expected} seeded`);
      console.log(
        [
          kind.padEnd(16),
          String(rows).padStart(8),
          (bytes / 1e6).toFixed(1).padStart(7),
          rate.toFixed(0).padStart(10),
          (rate / baseRate).toFixed(2).padStart(10),
          `   ${mb(before.service.rss)}→${mb(peak.service)} (${mb(after.service.hwm)})`.padEnd(33),
          `${mb(before.edge.rss)}→${mb(peak.edge)} (${mb(after.edge.hwm)})`,
        ].join(" "),
      );
    }
  } finally {
    await mesh.stop();
  }
}

await main();
