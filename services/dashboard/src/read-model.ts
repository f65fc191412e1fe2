import { sql, type Kysely, type Transaction } from "kysely";
import type { OrderCreated } from "@lsp/contracts";
import { Counter } from "prom-client";
import { enqueueEvent, withTenant } from "@lsp/db";
import { registry } from "@lsp/runtime";
import {
  applyToFacts,
  dayKey,
  monthItemDeltas,
  type DayDelta,
  type FactLine,
  type OrderEvent,
  type OrderFact,
} from "./aggregate.js";
import type { DashboardDB } from "./db.js";

export type { OrderEvent } from "./aggregate.js";

type Trx = Transaction<DashboardDB>;

export interface Applied {
  tenantId: string;
  locationId: string;
  businessDay: string;
  version: number;
}

export interface IncomingEvent {
  eventId: string;
  event: OrderEvent;
}

export interface ApplyOptions {
  /** Claim the event ids (false when replaying the journal: they were claimed when first applied). */
  claim?: boolean;
  /** Journal the events for rebuilds (false when replaying the journal). */
  journal?: boolean;
  /** Queue dashboard.updated per location-day (false when replaying the journal). */
  publish?: boolean;
  /**
   * Time zone for order.created events journaled before events carried it (resolved before the
   * transaction; the service asks its location cache, a rebuild uses the default zone).
   */
  legacyTimeZones?: ReadonlyMap<string, string>;
}

const orderEvents = new Counter({
  name: "dashboard_order_events_total",
  help: "Order events by outcome once their batch committed: applied, or duplicate (an event id applied before; changed nothing)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});
const batchEvents = new Counter({
  name: "dashboard_order_batches_total",
  help: "Committed batches of order events (events per batch = dashboard_order_events_total / this)",
  registers: [registry],
});

const TYPE_RANK = { "order.created": 0, "order.paid": 1, "order.voided": 2 } as const;

/** The earliest provider payment among a location-day's paid events (the longest wait shown). */
function providerPayment(events: readonly OrderEvent[]): { providerPaidAt?: string } {
  const paidAt = events
    .flatMap((e) => (e.type === "order.paid" && e.data.paymentId ? [e.data.paidAt] : []))
    .sort()[0];
  return paidAt ? { providerPaidAt: paidAt } : {};
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The stored facts (and lines) of some orders, locked by the caller's day locks. */
async function loadFacts(trx: Trx, orderIds: string[]): Promise<Map<string, OrderFact>> {
  const facts = new Map<string, OrderFact>();
  if (orderIds.length === 0) return facts;
  const rows = await trx.selectFrom("order_facts").selectAll().where("order_id", "in", orderIds).execute();
  const lines = await trx
    .selectFrom("order_fact_lines")
    .selectAll()
    .where("order_id", "in", orderIds)
    .orderBy("order_id")
    .orderBy("line_no")
    .execute();
  const linesOf = new Map<string, FactLine[]>();
  for (const l of lines)
    linesOf.set(l.order_id, [
      ...(linesOf.get(l.order_id) ?? []),
      {
        itemId: l.item_id,
        name: l.name,
        category: l.category,
        quantity: l.quantity,
        unitPriceVnd: l.unit_price_vnd,
        unitCostVnd: l.unit_cost_vnd,
      },
    ]);
  for (const r of rows)
    facts.set(r.order_id, {
      tenantId: r.tenant_id,
      orderId: r.order_id,
      locationId: r.location_id,
      businessDay: r.business_day,
      createdSeen: r.created_seen,
      createdAt: iso(r.created_at),
      localHour: r.local_hour,
      paymentMethod: r.payment_method,
      subtotalVnd: r.subtotal_vnd,
      discountVnd: r.discount_vnd,
      totalVnd: r.total_vnd,
      guests: r.guests,
      staffId: r.staff_id,
      paidAt: iso(r.paid_at),
      voidedAt: iso(r.voided_at),
      lines: linesOf.get(r.order_id) ?? [],
    });
  return facts;
}

async function storeFacts(trx: Trx, facts: Map<string, OrderFact>, withNewLines: Set<string>): Promise<void> {
  const rows = [...facts.values()].map((f) => ({
    tenant_id: f.tenantId,
    order_id: f.orderId,
    location_id: f.locationId,
    business_day: f.businessDay,
    created_seen: f.createdSeen,
    created_at: f.createdAt ? new Date(f.createdAt) : null,
    local_hour: f.localHour,
    payment_method: f.paymentMethod,
    subtotal_vnd: f.subtotalVnd,
    discount_vnd: f.discountVnd,
    total_vnd: f.totalVnd,
    guests: f.guests,
    staff_id: f.staffId,
    paid_at: f.paidAt ? new Date(f.paidAt) : null,
    voided_at: f.voidedAt ? new Date(f.voidedAt) : null,
  }));
  if (rows.length === 0) return;
  await trx
    .insertInto("order_facts")
    .values(rows)
    .onConflict((c) =>
      c.column("order_id").doUpdateSet((eb) => ({
        created_seen: eb.ref("excluded.created_seen"),
        created_at: eb.ref("excluded.created_at"),
        local_hour: eb.ref("excluded.local_hour"),
        payment_method: eb.ref("excluded.payment_method"),
        subtotal_vnd: eb.ref("excluded.subtotal_vnd"),
        discount_vnd: eb.ref("excluded.discount_vnd"),
        total_vnd: eb.ref("excluded.total_vnd"),
        guests: eb.ref("excluded.guests"),
        staff_id: eb.ref("excluded.staff_id"),
        paid_at: eb.ref("excluded.paid_at"),
        voided_at: eb.ref("excluded.voided_at"),
      })),
    )
    .execute();
  const replaced = [...withNewLines];
  if (replaced.length === 0) return;
  await trx.deleteFrom("order_fact_lines").where("order_id", "in", replaced).execute();
  const lines = replaced.flatMap((id) => {
    const f = facts.get(id) as OrderFact;
    return f.lines.map((l, i) => ({
      tenant_id: f.tenantId,
      order_id: f.orderId,
      line_no: i + 1,
      item_id: l.itemId,
      name: l.name,
      category: l.category,
      quantity: l.quantity,
      unit_price_vnd: l.unitPriceVnd,
      unit_cost_vnd: l.unitCostVnd,
    }));
  });
  if (lines.length) await trx.insertInto("order_fact_lines").values(lines).execute();
}

const nonZero = (o: object) => Object.values(o).some((v) => typeof v === "number" && v !== 0);

/** Adds one location-day's differences to its aggregate rows; returns the day's new totals. */
async function applyDelta(
  trx: Trx,
  d: DayDelta,
): Promise<{ revenueVnd: number; orders: number; version: number }> {
  const t = d.totals;
  const row = await sql<{ revenue_vnd: number; orders: number; version: number }>`
    UPDATE location_days SET
      revenue_vnd = revenue_vnd + ${t.revenueVnd}, orders = orders + ${t.orders},
      gross_vnd = gross_vnd + ${t.grossVnd}, paid_orders = paid_orders + ${t.paidOrders},
      guests = guests + ${t.guests}, guest_orders = guest_orders + ${t.guestOrders},
      discounted_orders = discounted_orders + ${t.discountedOrders},
      discount_vnd = discount_vnd + ${t.discountVnd},
      voided_orders = voided_orders + ${t.voidedOrders}, voided_vnd = voided_vnd + ${t.voidedVnd}
    WHERE location_id = ${d.locationId} AND business_day = ${d.businessDay}
    RETURNING revenue_vnd, orders, version`.execute(trx);
  const key = { tenant_id: d.tenantId, location_id: d.locationId, business_day: d.businessDay };
  const keyColumns = ["tenant_id", "location_id", "business_day"] as const;
  // table.column + excluded.column: the stored sum plus this batch's difference.
  const add = (column: string) =>
    sql<number>`${sql.ref(column)} + ${sql.ref(`excluded.${column.split(".")[1]}`)}`;
  const hours = [...d.hours].filter(([, h]) => nonZero(h));
  if (hours.length)
    await trx
      .insertInto("day_hours")
      .values(hours.map(([hour, h]) => ({ ...key, hour, revenue_vnd: h.revenueVnd, orders: h.orders })))
      .onConflict((c) =>
        c
          .columns([...keyColumns, "hour"])
          .doUpdateSet({ revenue_vnd: add("day_hours.revenue_vnd"), orders: add("day_hours.orders") }),
      )
      .execute();
  const items = [...d.items].filter(([, i]) => nonZero(i));
  if (items.length)
    await trx
      .insertInto("day_items")
      .values(
        items.map(([itemId, i]) => ({
          ...key,
          item_id: itemId,
          name: i.name,
          category: i.category,
          quantity: i.quantity,
          revenue_vnd: i.revenueVnd,
          cost_vnd: i.costVnd,
        })),
      )
      .onConflict((c) =>
        c.columns([...keyColumns, "item_id"]).doUpdateSet({
          // Names and categories: the greatest seen, whatever the order of the events.
          name: sql`greatest(day_items.name, excluded.name)`,
          category: sql`greatest(day_items.category, excluded.category)`,
          quantity: add("day_items.quantity"),
          revenue_vnd: add("day_items.revenue_vnd"),
          cost_vnd: add("day_items.cost_vnd"),
        }),
      )
      .execute();
  const payments = [...d.payments].filter(([, p]) => nonZero(p));
  if (payments.length)
    await trx
      .insertInto("day_payments")
      .values(
        payments.map(([method, p]) => ({ ...key, method, orders: p.orders, revenue_vnd: p.revenueVnd })),
      )
      .onConflict((c) =>
        c.columns([...keyColumns, "method"]).doUpdateSet({
          orders: add("day_payments.orders"),
          revenue_vnd: add("day_payments.revenue_vnd"),
        }),
      )
      .execute();
  const r = row.rows[0];
  if (!r) throw new Error(`location-day ${dayKey(d)} was not locked before its delta`);
  return { revenueVnd: Number(r.revenue_vnd), orders: r.orders, version: Number(r.version) };
}

/**
 * Applies a batch of one tenant's order events in one transaction: each event id once
 * (redeliveries change nothing), journaled for rebuilds, merged into its order's fact; the
 * difference each order's contribution made (aggregate.ts) is added to its location-day's
 * aggregate rows, and one `dashboard.updated` per location-day carries the totals those rows now
 * hold. The location-day rows are locked first, in a fixed order, so concurrent batches of one
 * day apply one after another (never on stale facts) and never deadlock.
 * Returns the location-days that changed (none when every event was a duplicate).
 */
export async function applyOrderEvents(
  db: Kysely<DashboardDB>,
  tenantId: string,
  incoming: readonly IncomingEvent[],
  opts: ApplyOptions = {},
): Promise<Applied[]> {
  if (incoming.some((i) => i.event.data.tenantId !== tenantId))
    throw new Error("applyOrderEvents: every event must belong to the batch's tenant");
  const result = await withTenant(db, tenantId, (trx) => applyBatch(trx, tenantId, incoming, opts));
  orderEvents.inc({ outcome: "applied" }, result.fresh);
  orderEvents.inc({ outcome: "duplicate" }, incoming.length - result.fresh);
  batchEvents.inc();
  return result.applied;
}

/** applyOrderEvents inside the caller's tenant transaction (also the rebuild's replay). */
export async function applyInTransaction(
  trx: Trx,
  tenantId: string,
  incoming: readonly IncomingEvent[],
  opts: ApplyOptions = {},
): Promise<Applied[]> {
  return (await applyBatch(trx, tenantId, incoming, opts)).applied;
}

async function applyBatch(
  trx: Trx,
  tenantId: string,
  incoming: readonly IncomingEvent[],
  opts: ApplyOptions,
): Promise<{ applied: Applied[]; fresh: number }> {
  // Claimed in a fixed order: batches sharing event ids (redeliveries) would otherwise lock the
  // ids' index entries in opposite orders and deadlock.
  const ids = [...new Set(incoming.map((i) => i.eventId))].sort();
  const fresh =
    (opts.claim ?? true)
      ? new Set(
          (
            await sql<{ event_id: string }>`INSERT INTO processed_events (event_id)
              SELECT unnest(${ids}::text[]) ON CONFLICT DO NOTHING RETURNING event_id`.execute(trx)
          ).rows.map((r) => r.event_id),
        )
      : new Set(ids);
  // Each claimed id once, even if the batch carries it twice; an order's events in causal order.
  const todo = incoming
    .filter((i) => fresh.delete(i.eventId))
    .sort(
      (a, b) =>
        a.event.data.orderId.localeCompare(b.event.data.orderId) ||
        TYPE_RANK[a.event.type] - TYPE_RANK[b.event.type],
    );
  if (todo.length === 0) return { applied: [], fresh: 0 };
  if (opts.journal ?? true)
    await trx
      .insertInto("event_journal")
      .values(
        todo.map((i) => ({
          event_id: i.eventId,
          tenant_id: tenantId,
          type: i.event.type,
          data: JSON.stringify(i.event.data),
        })),
      )
      .execute();

  const eventsByDay = new Map<string, OrderEvent[]>();
  for (const { event } of todo) {
    const key = dayKey(event.data);
    eventsByDay.set(key, [...(eventsByDay.get(key) ?? []), event]);
  }
  const dayKeys = [...eventsByDay.keys()].sort();
  // Lock (or create) each location-day row in key order: the day lock serialises every batch that
  // touches the day's orders, so the facts read below are current.
  for (const key of dayKeys) {
    const events = eventsByDay.get(key) as OrderEvent[];
    const { locationId, businessDay } = (events[0] as OrderEvent).data;
    const cutover = events.findLast((e) => e.data.cutoverHour !== undefined)?.data.cutoverHour ?? null;
    await trx
      .insertInto("location_days")
      .values({
        tenant_id: tenantId,
        location_id: locationId,
        business_day: businessDay,
        version: 1,
        cutover_hour: cutover,
      })
      .onConflict((c) =>
        c.columns(["tenant_id", "location_id", "business_day"]).doUpdateSet({
          version: sql`location_days.version + 1`,
          cutover_hour: sql`coalesce(excluded.cutover_hour, location_days.cutover_hour)`,
          updated_at: sql`now()`,
        }),
      )
      .execute();
  }

  const orderIds = [...new Set(todo.map((i) => i.event.data.orderId))];
  const before = await loadFacts(trx, orderIds);
  const { facts, deltas } = applyToFacts(
    before,
    todo.map((i) => i.event),
    (e) => opts.legacyTimeZones?.get(e.data.locationId),
  );
  const withNewLines = new Set(
    todo.filter((i) => i.event.type === "order.created").map((i) => i.event.data.orderId),
  );
  await storeFacts(trx, facts, withNewLines);

  const applied: Applied[] = [];
  for (const key of [...deltas.keys()].sort()) {
    const delta = deltas.get(key) as DayDelta;
    const totals = await applyDelta(trx, delta);
    const update = {
      tenantId,
      locationId: delta.locationId,
      businessDay: delta.businessDay,
      revenueVnd: totals.revenueVnd,
      orders: totals.orders,
      // Subscribers drop an update older than the last they got (it can arrive late).
      version: totals.version,
    };
    if (opts.publish ?? true)
      await enqueueEvent(trx, "dashboard.updated", {
        ...update,
        ...providerPayment(eventsByDay.get(key) ?? []),
      });
    applied.push({
      tenantId,
      locationId: delta.locationId,
      businessDay: delta.businessDay,
      version: totals.version,
    });
  }
  await applyMonthItems(trx, tenantId, deltas.values());
  return { applied, fresh: todo.length };
}

/**
 * Adds the batch's item differences to the monthly roll-ups (`month_items`), once per location,
 * month and item, in key order (after every location-day row is locked: one global lock order).
 */
async function applyMonthItems(trx: Trx, tenantId: string, deltas: Iterable<DayDelta>): Promise<void> {
  const months = monthItemDeltas(deltas);
  if (months.length === 0) return;
  const add = (column: string) => sql<number>`month_items.${sql.ref(column)} + excluded.${sql.ref(column)}`;
  await trx
    .insertInto("month_items")
    .values(
      months.map((m) => ({
        tenant_id: tenantId,
        location_id: m.locationId,
        month: m.month,
        item_id: m.itemId,
        name: m.name,
        category: m.category,
        quantity: m.quantity,
        revenue_vnd: m.revenueVnd,
        cost_vnd: m.costVnd,
      })),
    )
    .onConflict((c) =>
      c.columns(["tenant_id", "location_id", "month", "item_id"]).doUpdateSet({
        name: sql`greatest(month_items.name, excluded.name)`,
        category: sql`greatest(month_items.category, excluded.category)`,
        quantity: add("quantity"),
        revenue_vnd: add("revenue_vnd"),
        cost_vnd: add("cost_vnd"),
      }),
    )
    .execute();
}

/** One event (a batch of one); null for a duplicate. */
export async function applyOrderEvent(
  db: Kysely<DashboardDB>,
  eventId: string,
  e: OrderEvent,
  opts: ApplyOptions = {},
): Promise<Applied | null> {
  const [applied] = await applyOrderEvents(db, e.data.tenantId, [{ eventId, event: e }], opts);
  return applied ?? null;
}

/** Kept for callers of the first version of the read model. */
export async function applyOrderCreated(
  db: Kysely<DashboardDB>,
  eventId: string,
  e: OrderCreated,
): Promise<boolean> {
  return (await applyOrderEvent(db, eventId, { type: "order.created", data: e })) !== null;
}

export interface DayFigures {
  revenueVnd: number;
  orders: number;
}

/**
 * Figures for several (location, business day) pairs of one tenant in one query, from the same
 * aggregate row the day report and dashboard.updated read.
 */
export async function dayFigures(
  db: Kysely<DashboardDB>,
  tenantId: string,
  keys: readonly { locationId: string; businessDay: string }[],
): Promise<DayFigures[]> {
  if (keys.length === 0) return [];
  const rows = await withTenant(db, tenantId, (trx) =>
    trx
      .selectFrom("location_days")
      .select(["location_id", "business_day", "revenue_vnd", "orders"])
      .where((eb) =>
        eb.or(
          keys.map((k) =>
            eb.and([eb("location_id", "=", k.locationId), eb("business_day", "=", k.businessDay)]),
          ),
        ),
      )
      .execute(),
  );
  const byKey = new Map(
    rows.map((r) => [dayKey({ locationId: r.location_id, businessDay: r.business_day }), r]),
  );
  return keys.map((k) => {
    const r = byKey.get(dayKey(k));
    return { revenueVnd: Number(r?.revenue_vnd ?? 0), orders: r?.orders ?? 0 };
  });
}
