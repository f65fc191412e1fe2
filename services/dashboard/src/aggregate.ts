// The pure core of the read model: how an order event changes its order's fact, which orders
// count, and what one order contributes to its location-day's aggregates. The database code
// (read-model.ts) only loads facts, applies the differences computed here and stores the result,
// so the figures are defined once, here, and unit-tested without a database.
import { DEFAULT_TIME_ZONE, type OrderCreated, type OrderPaid, type OrderVoided } from "@lsp/contracts";

export type OrderEvent =
  | { type: "order.created"; data: OrderCreated }
  | { type: "order.paid"; data: OrderPaid }
  | { type: "order.voided"; data: OrderVoided };

/** Items without a menu category are shown under this one. */
export const UNCATEGORISED = "Khác";

export interface FactLine {
  itemId: string;
  name: string;
  category: string | null;
  quantity: number;
  unitPriceVnd: number;
  unitCostVnd: number | null;
}

/** Everything the read model knows of one order, merged from its events in any order. */
export interface OrderFact {
  tenantId: string;
  orderId: string;
  locationId: string;
  businessDay: string;
  /** False until order.created arrived (a paid or voided event may come first). */
  createdSeen: boolean;
  createdAt: string | null;
  /** Local hour (0..23) of createdAt in the location's time zone when the order was made. */
  localHour: number | null;
  paymentMethod: string | null;
  subtotalVnd: number;
  discountVnd: number;
  totalVnd: number;
  guests: number | null;
  staffId: string | null;
  paidAt: string | null;
  voidedAt: string | null;
  lines: FactLine[];
}

/**
 * THE counted-order rule: an order counts in a day's figures once it was created and as long as
 * it is not voided. Every figure below (and so the pushed `dashboard.updated` and the queried
 * `DayReport`, which read the same aggregate rows) follows from it.
 */
export function isCounted(f: OrderFact): boolean {
  return f.createdSeen && f.voidedAt === null;
}

const hourFormatters = new Map<string, Intl.DateTimeFormat>();
/** The local hour of an instant in a time zone (0..23). */
export function localHourOf(instant: string, timeZone: string): number {
  let f = hourFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", hourCycle: "h23" });
    hourFormatters.set(timeZone, f);
  }
  return Number(f.format(new Date(instant))) % 24;
}

function emptyFact(e: OrderEvent): OrderFact {
  return {
    tenantId: e.data.tenantId,
    orderId: e.data.orderId,
    locationId: e.data.locationId,
    businessDay: e.data.businessDay,
    createdSeen: false,
    createdAt: null,
    localHour: null,
    paymentMethod: null,
    subtotalVnd: 0,
    discountVnd: 0,
    totalVnd: 0,
    guests: null,
    staffId: null,
    paidAt: null,
    voidedAt: null,
    lines: [],
  };
}

/**
 * The fact after one event; each event sets only what it knows, so the result does not depend on
 * the order in which created / paid / voided arrive. `fallbackTimeZone` serves only order.created
 * events journaled before they carried their location's time zone.
 */
export function mergeEvent(
  fact: OrderFact | null,
  e: OrderEvent,
  fallbackTimeZone = DEFAULT_TIME_ZONE,
): OrderFact {
  const f = fact ? { ...fact } : emptyFact(e);
  if (e.type === "order.created") {
    const d = e.data;
    f.createdSeen = true;
    f.createdAt = d.createdAt;
    f.localHour = localHourOf(d.createdAt, d.timeZone ?? fallbackTimeZone);
    // A paid event that came first knows the method actually used.
    f.paymentMethod = f.paymentMethod ?? d.paymentMethod;
    f.subtotalVnd = d.subtotalVnd ?? d.totalVnd;
    f.discountVnd = d.discountVnd ?? 0;
    f.totalVnd = d.totalVnd;
    f.guests = d.guests ?? null;
    f.staffId = d.staffId ?? null;
    f.lines = d.lines.map((l) => ({
      itemId: l.itemId,
      name: l.name,
      category: l.category ?? null,
      quantity: l.quantity,
      unitPriceVnd: l.unitPriceVnd,
      unitCostVnd: l.unitCostVnd ?? null,
    }));
  } else if (e.type === "order.paid") {
    f.paidAt = e.data.paidAt;
    f.paymentMethod = e.data.paymentMethod;
  } else {
    f.voidedAt = e.data.voidedAt;
  }
  return f;
}

/** The summable figures of a location-day (each a sum over its orders). */
export interface DayTotals {
  /** Net revenue: what customers pay after discounts, counted orders. */
  revenueVnd: number;
  orders: number;
  grossVnd: number;
  paidOrders: number;
  /** Sum of guests over counted orders that gave them, and how many did (null guests when 0). */
  guests: number;
  guestOrders: number;
  discountedOrders: number;
  discountVnd: number;
  voidedOrders: number;
  voidedVnd: number;
}

export interface ItemFigures {
  name: string;
  category: string | null;
  quantity: number;
  revenueVnd: number;
  costVnd: number;
}

/** What one or more orders add to (or, negated, take from) one location-day. */
export interface DayDelta {
  tenantId: string;
  locationId: string;
  businessDay: string;
  totals: DayTotals;
  hours: Map<number, { revenueVnd: number; orders: number }>;
  items: Map<string, ItemFigures>;
  payments: Map<string, { orders: number; revenueVnd: number }>;
}

export const dayKey = (d: { locationId: string; businessDay: string }) => `${d.locationId}/${d.businessDay}`;

function zeroTotals(): DayTotals {
  return {
    revenueVnd: 0,
    orders: 0,
    grossVnd: 0,
    paidOrders: 0,
    guests: 0,
    guestOrders: 0,
    discountedOrders: 0,
    discountVnd: 0,
    voidedOrders: 0,
    voidedVnd: 0,
  };
}

function emptyDelta(f: Pick<OrderFact, "tenantId" | "locationId" | "businessDay">): DayDelta {
  return {
    tenantId: f.tenantId,
    locationId: f.locationId,
    businessDay: f.businessDay,
    totals: zeroTotals(),
    hours: new Map(),
    items: new Map(),
    payments: new Map(),
  };
}

/** What one order contributes to its location-day (nothing before order.created arrived). */
export function contributionOf(f: OrderFact): DayDelta {
  const d = emptyDelta(f);
  if (!f.createdSeen) return d;
  const t = d.totals;
  if (f.voidedAt !== null) {
    t.voidedOrders = 1;
    t.voidedVnd = f.totalVnd;
  }
  if (!isCounted(f)) return d;
  t.revenueVnd = f.totalVnd;
  t.orders = 1;
  t.grossVnd = f.subtotalVnd;
  t.paidOrders = f.paidAt !== null ? 1 : 0;
  if (f.guests !== null) {
    t.guests = f.guests;
    t.guestOrders = 1;
  }
  if (f.discountVnd > 0) {
    t.discountedOrders = 1;
    t.discountVnd = f.discountVnd;
  }
  if (f.localHour !== null) d.hours.set(f.localHour, { revenueVnd: f.totalVnd, orders: 1 });
  for (const l of f.lines) {
    const item = d.items.get(l.itemId) ?? {
      name: l.name,
      category: l.category,
      quantity: 0,
      revenueVnd: 0,
      costVnd: 0,
    };
    item.quantity += l.quantity;
    item.revenueVnd += l.quantity * l.unitPriceVnd;
    item.costVnd += l.quantity * (l.unitCostVnd ?? 0);
    d.items.set(l.itemId, item);
  }
  d.payments.set(f.paymentMethod ?? "cash", { orders: 1, revenueVnd: f.totalVnd });
  return d;
}

function addNumbers<T extends object>(into: T, from: T, sign: 1 | -1): void {
  for (const k of Object.keys(from) as (keyof T)[]) {
    const v = from[k];
    if (typeof v === "number") (into[k] as number) = (into[k] as number) + sign * v;
  }
}

/** Adds `sign` × `delta` into the per-location-day accumulator (keyed by dayKey). */
export function accumulate(acc: Map<string, DayDelta>, delta: DayDelta, sign: 1 | -1): void {
  const key = dayKey(delta);
  let into = acc.get(key);
  if (!into) {
    into = emptyDelta(delta);
    acc.set(key, into);
  }
  addNumbers(into.totals, delta.totals, sign);
  for (const [hour, h] of delta.hours) {
    const cur = into.hours.get(hour) ?? { revenueVnd: 0, orders: 0 };
    addNumbers(cur, h, sign);
    into.hours.set(hour, cur);
  }
  for (const [id, item] of delta.items) {
    const cur = into.items.get(id) ?? {
      name: item.name,
      category: item.category,
      quantity: 0,
      revenueVnd: 0,
      costVnd: 0,
    };
    // Names and categories are not summed: the greatest seen is kept (order-independent).
    if (item.name > cur.name) cur.name = item.name;
    if (item.category !== null && (cur.category === null || item.category > cur.category))
      cur.category = item.category;
    addNumbers(cur, item, sign);
    into.items.set(id, cur);
  }
  for (const [method, p] of delta.payments) {
    const cur = into.payments.get(method) ?? { orders: 0, revenueVnd: 0 };
    addNumbers(cur, p, sign);
    into.payments.set(method, cur);
  }
}

/**
 * Merges a batch of events into the facts they touch and returns the new facts plus the
 * per-location-day differences (after − before). Applying those differences to the stored
 * aggregates gives what recomputing every order of the day would, whatever the batch held
 * (duplicates are filtered by the caller's event-id claim, not here).
 */
export function applyToFacts(
  before: ReadonlyMap<string, OrderFact>,
  events: readonly OrderEvent[],
  fallbackTimeZone?: (e: OrderEvent) => string | undefined,
): { facts: Map<string, OrderFact>; deltas: Map<string, DayDelta> } {
  const facts = new Map<string, OrderFact>();
  for (const e of events) {
    const id = e.data.orderId;
    const current = facts.get(id) ?? before.get(id) ?? null;
    facts.set(id, mergeEvent(current, e, fallbackTimeZone?.(e)));
  }
  const deltas = new Map<string, DayDelta>();
  for (const [id, after] of facts) {
    const old = before.get(id);
    if (old) accumulate(deltas, contributionOf(old), -1);
    accumulate(deltas, contributionOf(after), 1);
  }
  return { facts, deltas };
}

/** The calendar month a business day belongs to: its first day (`month_items.month`). */
export const monthOf = (businessDay: string) => `${businessDay.slice(0, 7)}-01`;

/** What a batch adds to one item's month (`month_items`, migration 0006). */
export interface MonthItemDelta extends ItemFigures {
  locationId: string;
  month: string;
  itemId: string;
}

/**
 * The item differences of a batch's location-days summed per location, month and item, in key
 * order: the month rows are upserted once per batch in that order, after every location-day row
 * is locked, so concurrent batches lock them in one global order and never deadlock. Names and
 * categories: the greatest seen, as for `day_items`, so a month's row names what its days name.
 */
export function monthItemDeltas(deltas: Iterable<DayDelta>): MonthItemDelta[] {
  const months = new Map<string, MonthItemDelta>();
  for (const d of deltas) {
    const month = monthOf(d.businessDay);
    for (const [itemId, item] of d.items) {
      // The day rows skip an item whose difference is all zeros (src/read-model.ts): so do months.
      if (item.quantity === 0 && item.revenueVnd === 0 && item.costVnd === 0) continue;
      const key = `${d.locationId}/${month}/${itemId}`;
      const cur = months.get(key) ?? {
        locationId: d.locationId,
        month,
        itemId,
        name: item.name,
        category: item.category,
        quantity: 0,
        revenueVnd: 0,
        costVnd: 0,
      };
      if (item.name > cur.name) cur.name = item.name;
      if (item.category !== null && (cur.category === null || item.category > cur.category))
        cur.category = item.category;
      cur.quantity += item.quantity;
      cur.revenueVnd += item.revenueVnd;
      cur.costVnd += item.costVnd;
      months.set(key, cur);
    }
  }
  return [...months].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m);
}
