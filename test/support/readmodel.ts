// Helpers for the read-model scenarios (test/e2e/readmodel-*.test.ts): sales' own totals read
// from its tables, the dashboard's day report and live updates through the edge, order events
// published to the orders topic as sales' sidecar would, and the dashboard's event counters as
// fences ("the events were applied" without a fixed sleep).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { metricSum } from "./metrics.js";
import { randomUUID } from "node:crypto";
import { Kysely, PostgresDialect, sql } from "kysely";
import pg from "pg";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { EVENTS, type EventType } from "@lsp/contracts";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { serviceDatabaseUrl } from "../../scripts/mesh/infra.js";
import { asApp } from "./mesh.js";
import { CREATE_ORDER, edgeAuthHeaders, edgeClient, eventually } from "./graphql-client.js";

export type Gql = <T>(
  query: string,
  variables?: Record<string, unknown>,
) => Promise<{ data?: T; errors?: { message: string; extensions?: { code?: string } }[] }>;

export const gqlFor = (mesh: Mesh, tenant: string) => edgeClient(mesh.edgeUrl, tenant) as Gql;

export interface DayTruth {
  businessDay: string;
  revenueVnd: number;
  orders: number;
  paidOrders: number;
  voidedOrders: number;
}

/** One connection to sales' schema as sales' own role (row-level security applies). */
function salesDatabase(mesh: Mesh): Kysely<Record<string, never>> {
  return new Kysely<Record<string, never>>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({
        connectionString: serviceDatabaseUrl(mesh.plan.postgres, "sales"),
        options: "-c search_path=sales",
        max: 1,
      }),
    }),
  });
}

/** Sales' own figures of a location per business day, read from its tables as sales' role. */
export async function salesTruth(mesh: Mesh, tenantId: string, locationId: string): Promise<DayTruth[]> {
  const db = salesDatabase(mesh);
  try {
    return await db.transaction().execute(async (trx) => {
      await sql`SELECT set_config('lsp.tenant_id', ${tenantId}, true)`.execute(trx);
      const { rows } = await sql<{
        business_day: string;
        revenue: string;
        orders: string;
        paid: string;
        voided: string;
      }>`
        SELECT business_day::text,
          coalesce(sum(total_vnd) FILTER (WHERE status <> 'voided'), 0) AS revenue,
          count(*) FILTER (WHERE status <> 'voided') AS orders,
          count(*) FILTER (WHERE status = 'paid') AS paid,
          count(*) FILTER (WHERE status = 'voided') AS voided
        FROM orders WHERE location_id = ${locationId} GROUP BY business_day ORDER BY 1`.execute(trx);
      return rows.map((r) => ({
        businessDay: r.business_day,
        revenueVnd: Number(r.revenue),
        orders: Number(r.orders),
        paidOrders: Number(r.paid),
        voidedOrders: Number(r.voided),
      }));
    });
  } finally {
    await db.destroy();
  }
}

/** Every order event sales published for a location (its outbox), oldest first. */
export async function salesOrderEvents(
  mesh: Mesh,
  locationId: string,
): Promise<{ id: string; type: EventType; payload: Record<string, unknown> }[]> {
  const db = salesDatabase(mesh);
  try {
    const { rows } = await sql<{ id: string; type: EventType; payload: Record<string, unknown> }>`
      SELECT id::text, type, payload FROM outbox
      WHERE topic = 'orders' AND payload->>'locationId' = ${locationId} ORDER BY created_at`.execute(db);
    return rows;
  } finally {
    await db.destroy();
  }
}

export interface DayFigures {
  netRevenue: number;
  orders: number;
  paidOrders: number;
  voidedOrders: number;
  voids: number;
}

/** The dashboard's day report through the edge (null when the query failed). */
export async function dashboardDay(gql: Gql, locationId: string, day: string): Promise<DayFigures | null> {
  const r = await gql<{ location: { day: DayFigures | null } | null }>(
    `query { location(id: "${locationId}") { day(businessDay: "${day}") { netRevenue orders paidOrders voidedOrders voids } } }`,
  );
  return r.data?.location?.day ?? null;
}

/** Waits until the dashboard's report of every day equals sales' truth; returns the last view. */
export async function untilDashboardEqualsSales(
  mesh: Mesh,
  gql: Gql,
  tenantId: string,
  locationId: string,
  timeoutMs: number,
): Promise<DayTruth[]> {
  const truth = await salesTruth(mesh, tenantId, locationId);
  assert.ok(truth.length > 0, "sales has orders for the location");
  for (const day of truth) {
    let seen: DayFigures | null = null;
    await eventually(
      `dashboard equals sales for ${day.businessDay}`,
      async () => {
        seen = await dashboardDay(gql, locationId, day.businessDay);
        return seen &&
          seen.netRevenue === day.revenueVnd &&
          seen.orders === day.orders &&
          seen.paidOrders === day.paidOrders &&
          seen.voidedOrders === day.voidedOrders
          ? seen
          : undefined;
      },
      timeoutMs,
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}; sales ${JSON.stringify(day)}, dashboard ${JSON.stringify(seen)}; ` +
          `the orders stream: ${ordersStreamState(mesh)}`,
      );
    });
  }
  return truth;
}

export interface LiveUpdate {
  businessDay: string;
  todayRevenue: number;
  todayOrders: number;
}

/** A graphql-ws subscription to a location's dashboardUpdates, collecting what it pushes. */
export async function liveUpdates(mesh: Mesh, tenant: string, locationId: string) {
  const headers = await edgeAuthHeaders(mesh.edgeUrl, tenant);
  const client: Client = createClient({
    url: mesh.edgeUrl.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: headers,
    retryAttempts: 0,
    lazy: false,
  });
  const updates: LiveUpdate[] = [];
  const state: { error?: unknown; subscribed: boolean } = { subscribed: false };
  client.subscribe<{ dashboardUpdates: LiveUpdate }>(
    {
      query: `subscription { dashboardUpdates(locationId: "${locationId}") { businessDay todayRevenue todayOrders } }`,
    },
    {
      next: (v) => void (v.data ? updates.push(v.data.dashboardUpdates) : (state.error = v.errors)),
      error: (e) => void (state.error = e),
      complete: () => undefined,
    },
  );
  return { updates, state, dispose: () => client.dispose() };
}

/** A Prometheus counter's value on an app's ops port (0 when absent), summed over matching labels. */
export async function counter(
  mesh: Mesh,
  app: "dashboard",
  name: string,
  labels: Record<string, string> = {},
) {
  return metricSum(`http://127.0.0.1:${mesh.plan.apps[app].ops}/metrics`, name, labels);
}

/** One line of a seeded order (`category` and `unitCostVnd` only where a test reads them). */
export interface SeededLine {
  itemId: string;
  name: string;
  quantity: number;
  unitPriceVnd: number;
  category?: string;
  unitCostVnd?: number;
}

/**
 * `order.created` of a past business day at one branch, paid in cash at lunch (Vietnam time), its
 * totals the sum of its lines: what the period and chain scenarios seed the read model with.
 */
export function pastOrderCreated(
  tenantId: string,
  locationId: string,
  businessDay: string,
  lines: SeededLine[],
) {
  const totalVnd = lines.reduce((sum, l) => sum + l.quantity * l.unitPriceVnd, 0);
  return {
    type: "order.created" as const,
    data: {
      orderId: randomUUID(),
      tenantId,
      locationId,
      businessDay,
      createdAt: `${businessDay}T05:00:00.000Z`,
      paymentMethod: "cash",
      totalVnd,
      subtotalVnd: totalVnd,
      lines,
      timeZone: "Asia/Ho_Chi_Minh",
      cutoverHour: 4,
    },
  };
}

/** Publishes order events to the orders topic through sales' sidecar, as sales' outbox relay does. */
export async function publishAsSales(
  mesh: Mesh,
  events: { id?: string; type: EventType; data: Record<string, unknown> }[],
): Promise<void> {
  for (const e of events) {
    EVENTS[e.type].schema.parse(e.data); // only events sales could have sent
    const res = await fetch(
      `http://127.0.0.1:${mesh.plan.apps.sales.daprHttp}/v1.0/publish/pubsub/${EVENTS[e.type].topic}`,
      {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json", ...asApp(mesh, "sales") },
        body: JSON.stringify({
          specversion: "1.0",
          id: e.id ?? randomUUID(),
          source: "sales",
          type: e.type,
          datacontenttype: "application/json",
          data: e.data,
        }),
      },
    );
    assert.ok(res.ok, `publish ${e.type}: ${res.status} ${await res.text()}`);
  }
}

/**
 * What the dashboard's consumer group of the orders stream holds (a failure's evidence: an event
 * left pending was delivered and never acknowledged; none pending means it was acknowledged, or
 * never read).
 */
function ordersStreamState(mesh: Mesh): string {
  const redis = (...args: string[]) =>
    execFileSync("redis-cli", ["-p", String(mesh.plan.redis), ...args], { timeout: 5_000 })
      .toString()
      .trim()
      .replace(/\s+/g, " ");
  try {
    return `groups [${redis("XINFO", "GROUPS", "orders")}], dashboard pending [${redis("XPENDING", "orders", "dashboard")}]`;
  } catch (err) {
    return `unreadable (${String(err)})`;
  }
}

/** The café of the read-model bursts: its location and one menu item (demo data). */
export const CA_PHE = {
  slug: "ca-phe-sai-gon",
  location: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b11",
  caPheSuaDa: "c1a0b2c3-d4e5-4f60-8a7b-000000000201",
};

/**
 * The i-th order of a burst at CA_PHE: cash or MoMo in turn, one to four drinks, two in three paid
 * on the spot, so that totals, paid counts and the payment mix all move.
 */
export function burstOrderInput(i: number) {
  return {
    locationId: CA_PHE.location,
    idempotencyKey: randomUUID(),
    paymentMethod: i % 2 ? "cash" : "momo",
    lines: [{ itemId: CA_PHE.caPheSuaDa, quantity: 1 + (i % 4) }],
    paid: i % 3 !== 0,
  };
}

/**
 * `count` orders of burstOrderInput through the edge from `clients` concurrent clients; each
 * order must be taken. `onOrder(i)` runs after the i-th order is taken (a fault injected mid-burst).
 */
export async function orderBurst(
  gql: Gql,
  count: number,
  clients: number,
  onOrder?: (i: number) => Promise<void> | void,
): Promise<void> {
  let next = 0;
  const client = async () => {
    while (next < count) {
      const i = next++;
      const res = await gql<{ createOrder: { id: string } }>(CREATE_ORDER, { input: burstOrderInput(i) });
      assert.ok(res.data?.createOrder, JSON.stringify(res.errors));
      await onOrder?.(i);
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
}

/** A live subscriber's todayOrders pushes, in arrival order. */
interface PushedUpdates {
  events: { data: { dashboardUpdates: { todayOrders: number } } }[];
  close: () => void;
}

/**
 * Waits until the dashboard counts `count` orders more than `start` (the fence), then until every
 * subscriber (one per edge replica) received the update that says so; closes them and checks that
 * no replica's updates caused by these orders (todayOrders above `start`) ever went back. Updates
 * at or below `start` are the tail of earlier tests still in flight when the subscribers joined: a
 * replica whose consumer was ahead delivered them before its subscriber existed, one that lagged
 * delivers them after, so they differ between replicas by timing alone.
 */
export async function untilEveryReplicaPushed(
  subscribers: readonly PushedUpdates[],
  todayOrders: () => Promise<number>,
  start: number,
  count: number,
): Promise<number[]> {
  const seen = (s: PushedUpdates) =>
    s.events.map((e) => e.data.dashboardUpdates.todayOrders).filter((n) => n > start);
  await eventually(`the dashboard counted the ${count} orders`, async () =>
    (await todayOrders()) === start + count ? true : undefined,
  );
  for (const [i, s] of subscribers.entries())
    await eventually(`edge replica ${i + 1} pushed the update with all ${count}`, async () =>
      seen(s).includes(start + count) ? true : undefined,
    );
  for (const s of subscribers) s.close();
  // Not the same list on every replica: an update that arrives after a newer one is dropped
  // (dashboard-live.ts newerOnly), and which arrive late differs per replica. Each replica's
  // tiles only move forward.
  for (const [i, s] of subscribers.entries()) {
    const pushed = seen(s);
    assert.deepEqual(
      pushed,
      [...pushed].sort((a, b) => a - b),
      `edge replica ${i + 1} never went back to older totals`,
    );
  }
  return seen(subscribers[0]!);
}
