import { sql, type Kysely, type Transaction } from "kysely";
import type { DashboardUpdated, OrderCreated, OrderPaid, OrderVoided } from "@lsp/contracts";
import { enqueueEvent, withTenant } from "@lsp/service-kit";
import type { DashboardDB } from "./db.js";

export type OrderEvent =
  | { type: "order.created"; data: OrderCreated }
  | { type: "order.paid"; data: OrderPaid }
  | { type: "order.voided"; data: OrderVoided };

type Trx = Transaction<DashboardDB>;

/** Merges one event into the order's facts; each event sets only what it knows. */
async function mergeFacts(trx: Trx, e: OrderEvent): Promise<void> {
  const base = {
    tenant_id: e.data.tenantId,
    order_id: e.data.orderId,
    location_id: e.data.locationId,
    business_day: e.data.businessDay,
  };
  if (e.type === "order.created") {
    const d = e.data;
    const facts = {
      created_at: new Date(d.createdAt),
      subtotal_vnd: d.subtotalVnd ?? d.totalVnd,
      discount_vnd: d.discountVnd ?? 0,
      total_vnd: d.totalVnd,
      guests: d.guests ?? null,
      staff_id: d.staffId ?? null,
      created_seen: true,
    };
    await trx
      .insertInto("order_facts")
      .values({ ...base, ...facts, payment_method: d.paymentMethod, paid_at: null, voided_at: null })
      .onConflict((c) =>
        c.column("order_id").doUpdateSet({
          ...facts,
          // A paid event that came first knows the method actually used.
          payment_method: sql`coalesce(order_facts.payment_method, excluded.payment_method)`,
        }),
      )
      .execute();
    await trx.deleteFrom("order_fact_lines").where("order_id", "=", d.orderId).execute();
    await trx
      .insertInto("order_fact_lines")
      .values(
        d.lines.map((l, i) => ({
          tenant_id: d.tenantId,
          order_id: d.orderId,
          line_no: i + 1,
          item_id: l.itemId,
          name: l.name,
          category: l.category ?? null,
          quantity: l.quantity,
          unit_price_vnd: l.unitPriceVnd,
          unit_cost_vnd: l.unitCostVnd ?? null,
        })),
      )
      .execute();
  } else if (e.type === "order.paid") {
    const paid = { paid_at: new Date(e.data.paidAt), payment_method: e.data.paymentMethod };
    await trx
      .insertInto("order_facts")
      .values({ ...base, ...paid, created_at: null, guests: null, staff_id: null, voided_at: null })
      .onConflict((c) => c.column("order_id").doUpdateSet(paid))
      .execute();
  } else {
    const voided = { voided_at: new Date(e.data.voidedAt) };
    await trx
      .insertInto("order_facts")
      .values({
        ...base,
        ...voided,
        created_at: null,
        payment_method: null,
        guests: null,
        staff_id: null,
        paid_at: null,
      })
      .onConflict((c) => c.column("order_id").doUpdateSet(voided))
      .execute();
  }
}

/**
 * Recomputes the (location, day) totals under that row's lock, so concurrent events of one
 * location-day are serialised and every `dashboard.updated` carries totals that include all
 * events committed before it.
 */
async function refreshDay(
  trx: Trx,
  tenantId: string,
  locationId: string,
  day: string,
): Promise<DashboardUpdated & { version: number }> {
  const locked = await trx
    .insertInto("location_days")
    .values({ tenant_id: tenantId, location_id: locationId, business_day: day, version: 1 })
    .onConflict((c) =>
      c.columns(["tenant_id", "location_id", "business_day"]).doUpdateSet({
        version: sql`location_days.version + 1`,
        updated_at: sql`now()`,
      }),
    )
    .returning("version")
    .executeTakeFirstOrThrow();
  const t = await dayTotals(trx, locationId, day);
  await trx
    .updateTable("location_days")
    .set({ revenue_vnd: t.revenueVnd, orders: t.orders })
    .where("location_id", "=", locationId)
    .where("business_day", "=", day)
    .execute();
  return {
    tenantId,
    locationId,
    businessDay: day,
    revenueVnd: t.revenueVnd,
    orders: t.orders,
    version: locked.version,
  };
}

/** Net revenue and orders of one location-day: created, not voided. */
async function dayTotals(
  trx: Trx,
  locationId: string,
  day: string,
): Promise<{ revenueVnd: number; orders: number }> {
  const row = await trx
    .selectFrom("order_facts")
    .select([
      sql<number>`coalesce(sum(total_vnd), 0)::bigint`.as("revenue"),
      sql<number>`count(*)::int`.as("orders"),
    ])
    .where("location_id", "=", locationId)
    .where("business_day", "=", day)
    .where("created_seen", "=", true)
    .where("voided_at", "is", null)
    .executeTakeFirstOrThrow();
  return { revenueVnd: Number(row.revenue), orders: row.orders };
}

/** For rebuilds: the same merge, inside the caller's tenant transaction. */
export const mergeFactsForRebuild = mergeFacts;

/** For rebuilds: the stored totals of every location-day of the transaction's tenant, recomputed. */
export async function recomputeDays(trx: Trx): Promise<void> {
  await sql`UPDATE location_days d SET revenue_vnd = t.revenue, orders = t.orders
    FROM (SELECT location_id, business_day, coalesce(sum(total_vnd), 0) AS revenue, count(*) AS orders
          FROM order_facts WHERE created_seen AND voided_at IS NULL
          GROUP BY location_id, business_day) t
    WHERE d.location_id = t.location_id AND d.business_day = t.business_day`.execute(trx);
}

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

const TYPE_RANK = { "order.created": 0, "order.paid": 1, "order.voided": 2 } as const;

/** The earliest provider payment among a location-day's paid events (the longest wait shown). */
function providerPayment(events: readonly OrderEvent[]): { providerPaidAt?: string } {
  const paidAt = events
    .flatMap((e) => (e.type === "order.paid" && e.data.paymentId ? [e.data.paidAt] : []))
    .sort()[0];
  return paidAt ? { providerPaidAt: paidAt } : {};
}

/**
 * Applies a batch of one tenant's order events (a bulk delivery) in one transaction: each event
 * id once (redeliveries change nothing), journaled for rebuilds, merged into the order facts;
 * then each location-day touched is recomputed once and one `dashboard.updated` with its new
 * totals is queued, all committed together. Facts and location-days are locked in a fixed order
 * (order id, then location and day), so concurrent batches wait for each other, never deadlock.
 * Returns the location-days that changed (none when every event was a duplicate).
 */
export async function applyOrderEvents(
  db: Kysely<DashboardDB>,
  tenantId: string,
  incoming: readonly IncomingEvent[],
  opts: { journal?: boolean; publish?: boolean } = {},
): Promise<Applied[]> {
  if (incoming.some((i) => i.event.data.tenantId !== tenantId))
    throw new Error("applyOrderEvents: every event must belong to the batch's tenant");
  return withTenant(db, tenantId, async (trx) => {
    // Claimed in a fixed order too: batches sharing event ids (redeliveries) would otherwise lock
    // the ids' index entries in opposite orders and deadlock.
    const ids = [...new Set(incoming.map((i) => i.eventId))].sort();
    const claimed = await sql<{ event_id: string }>`INSERT INTO processed_events (event_id)
      SELECT unnest(${ids}::text[]) ON CONFLICT DO NOTHING RETURNING event_id`.execute(trx);
    const fresh = new Set(claimed.rows.map((r) => r.event_id));
    // Each claimed id once, even if the batch carries it twice.
    const todo = incoming
      .filter((i) => fresh.delete(i.eventId))
      .sort(
        (a, b) =>
          a.event.data.orderId.localeCompare(b.event.data.orderId) ||
          TYPE_RANK[a.event.type] - TYPE_RANK[b.event.type],
      );
    if (todo.length === 0) return [];
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
    for (const i of todo) await mergeFacts(trx, i.event);
    const days = new Map<string, OrderEvent[]>();
    for (const { event } of todo) {
      const key = `${event.data.locationId}/${event.data.businessDay}`;
      days.set(key, [...(days.get(key) ?? []), event]);
    }
    const applied: Applied[] = [];
    for (const key of [...days.keys()].sort()) {
      const events = days.get(key) ?? [];
      const { locationId, businessDay } = (events[0] as OrderEvent).data;
      const { version, ...update } = await refreshDay(trx, tenantId, locationId, businessDay);
      if (opts.publish ?? true)
        await enqueueEvent(trx, "dashboard.updated", { ...update, ...providerPayment(events) });
      applied.push({ tenantId, locationId, businessDay, version });
    }
    return applied;
  });
}

/** One event (a batch of one); null for a duplicate. */
export async function applyOrderEvent(
  db: Kysely<DashboardDB>,
  eventId: string,
  e: OrderEvent,
  opts: { journal?: boolean; publish?: boolean } = {},
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

/** Figures for several (location, business day) pairs of one tenant in one query. */
export async function dayFigures(
  db: Kysely<DashboardDB>,
  tenantId: string,
  keys: readonly { locationId: string; businessDay: string }[],
): Promise<DayFigures[]> {
  if (keys.length === 0) return [];
  const rows = await withTenant(db, tenantId, (trx) =>
    trx
      .selectFrom("order_facts")
      .select([
        "location_id",
        "business_day",
        sql<number>`coalesce(sum(total_vnd), 0)::bigint`.as("revenue"),
        sql<number>`count(*)::int`.as("orders"),
      ])
      .where("created_seen", "=", true)
      .where("voided_at", "is", null)
      .where((eb) =>
        eb.or(
          keys.map((k) =>
            eb.and([eb("location_id", "=", k.locationId), eb("business_day", "=", k.businessDay)]),
          ),
        ),
      )
      .groupBy(["location_id", "business_day"])
      .execute(),
  );
  const byKey = new Map(rows.map((r) => [`${r.location_id}/${r.business_day}`, r]));
  return keys.map((k) => {
    const r = byKey.get(`${k.locationId}/${k.businessDay}`);
    return { revenueVnd: Number(r?.revenue ?? 0), orders: r?.orders ?? 0 };
  });
}
