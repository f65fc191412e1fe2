import { sql, type Kysely } from "kysely";
import { withTenant } from "@lsp/db";
import { UNCATEGORISED, monthOf } from "./aggregate.js";
import type { DashboardDB } from "./db.js";

/**
 * The figures of one location's business day, computed from the order facts. Net revenue is
 * what customers pay (after discounts) over orders not voided; item and category revenue is
 * quantity × unit price (before order-level discounts).
 */
export interface DayReport {
  locationId: string;
  businessDay: string;
  /** Events applied to this location-day when the report was computed (cache freshness). */
  version: number;
  netRevenueVnd: number;
  grossSalesVnd: number;
  orders: number;
  paidOrders: number;
  averageTicketVnd: number;
  /** Sum of the guests given on orders; null when no order of the day gave any. */
  guests: number | null;
  revenuePerGuestVnd: number | null;
  discounts: { orders: number; amountVnd: number };
  voids: { orders: number; amountVnd: number };
  /** 24 buckets in local time, the first starting at the location's cut-over hour. */
  hourly: { hour: number; revenueVnd: number; orders: number }[];
  topItems: { itemId: string; name: string; category: string; quantity: number; revenueVnd: number }[];
  topCategories: { category: string; quantity: number; revenueVnd: number }[];
  paymentMix: { method: string; orders: number; revenueVnd: number; share: number }[];
  sameDayLastWeek: { businessDay: string; revenueVnd: number; orders: number };
  weekToDate: {
    from: string;
    to: string;
    revenueVnd: number;
    orders: number;
    lastWeekRevenueVnd: number;
    lastWeekOrders: number;
  };
}

export { UNCATEGORISED };

export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Monday of the ISO week of a business day. */
export function weekStart(day: string): string {
  const dow = new Date(`${day}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(day, -((dow + 6) % 7));
}

/**
 * The report of one location-day, read from its aggregate rows (the ones every event updates and
 * `dashboard.updated` reports from), so a pushed figure and a queried one never disagree. The
 * hourly buckets start at the cut-over the day's events carried (`fallbackCutoverHour` for days
 * recorded before events carried it).
 */
export async function dayReport(
  db: Kysely<DashboardDB>,
  tenantId: string,
  location: { id: string; cutoverHour: number },
  day: string,
): Promise<DayReport> {
  const locationId = location.id;
  return withTenant(db, tenantId, async (trx) => {
    const row = await trx
      .selectFrom("location_days")
      .selectAll()
      .where("location_id", "=", locationId)
      .where("business_day", "=", day)
      .executeTakeFirst();
    const hours = await trx
      .selectFrom("day_hours")
      .select(["hour", "revenue_vnd", "orders"])
      .where("location_id", "=", locationId)
      .where("business_day", "=", day)
      .execute();
    const items = await trx
      .selectFrom("day_items")
      .select(["item_id", "name", "category", "quantity", "revenue_vnd"])
      .where("location_id", "=", locationId)
      .where("business_day", "=", day)
      .where("quantity", ">", 0)
      .execute();
    const mix = await trx
      .selectFrom("day_payments")
      .select(["method", "orders", "revenue_vnd"])
      .where("location_id", "=", locationId)
      .where("business_day", "=", day)
      .where("orders", ">", 0)
      .execute();
    const lastWeekDay = addDays(day, -7);
    const from = weekStart(day);
    const ranges = await trx
      .selectFrom("location_days")
      .where("location_id", "=", locationId)
      .where("business_day", ">=", addDays(from, -7))
      .where("business_day", "<=", day)
      .select([
        sql<number>`coalesce(sum(revenue_vnd) FILTER (WHERE business_day = ${lastWeekDay}::date), 0)::bigint`.as(
          "lwRev",
        ),
        sql<number>`coalesce(sum(orders) FILTER (WHERE business_day = ${lastWeekDay}::date), 0)::int`.as(
          "lwOrders",
        ),
        sql<number>`coalesce(sum(revenue_vnd) FILTER (WHERE business_day >= ${from}::date), 0)::bigint`.as(
          "wtdRev",
        ),
        sql<number>`coalesce(sum(orders) FILTER (WHERE business_day >= ${from}::date), 0)::int`.as(
          "wtdOrders",
        ),
        sql<number>`coalesce(sum(revenue_vnd) FILTER (WHERE business_day < ${from}::date AND business_day <= ${lastWeekDay}::date), 0)::bigint`.as(
          "lwtdRev",
        ),
        sql<number>`coalesce(sum(orders) FILTER (WHERE business_day < ${from}::date AND business_day <= ${lastWeekDay}::date), 0)::int`.as(
          "lwtdOrders",
        ),
      ])
      .executeTakeFirstOrThrow();

    const net = Number(row?.revenue_vnd ?? 0);
    const orders = row?.orders ?? 0;
    const guests = row && row.guest_orders > 0 ? Number(row.guests) : null;
    const cutoverHour = row?.cutover_hour ?? location.cutoverHour;
    const byHour = new Map(hours.map((h) => [h.hour, h]));
    const hourly = Array.from({ length: 24 }, (_, i) => {
      const hour = (cutoverHour + i) % 24;
      const h = byHour.get(hour);
      return { hour, revenueVnd: Number(h?.revenue_vnd ?? 0), orders: h?.orders ?? 0 };
    });
    const topItems = items
      .map((r) => ({
        itemId: r.item_id,
        name: r.name,
        category: r.category ?? UNCATEGORISED,
        quantity: r.quantity,
        revenueVnd: Number(r.revenue_vnd),
      }))
      .sort((a, b) => b.quantity - a.quantity || b.revenueVnd - a.revenueVnd || a.name.localeCompare(b.name));
    const categories = new Map<string, { quantity: number; revenueVnd: number }>();
    for (const i of topItems) {
      const c = categories.get(i.category) ?? { quantity: 0, revenueVnd: 0 };
      c.quantity += i.quantity;
      c.revenueVnd += i.revenueVnd;
      categories.set(i.category, c);
    }
    return {
      locationId,
      businessDay: day,
      version: Number(row?.version ?? 0),
      netRevenueVnd: net,
      grossSalesVnd: Number(row?.gross_vnd ?? 0),
      orders,
      paidOrders: row?.paid_orders ?? 0,
      averageTicketVnd: orders ? Math.round(net / orders) : 0,
      guests,
      revenuePerGuestVnd: guests ? Math.round(net / guests) : null,
      discounts: { orders: row?.discounted_orders ?? 0, amountVnd: Number(row?.discount_vnd ?? 0) },
      voids: { orders: row?.voided_orders ?? 0, amountVnd: Number(row?.voided_vnd ?? 0) },
      hourly,
      topItems,
      topCategories: [...categories]
        .map(([category, c]) => ({ category, ...c }))
        .sort((a, b) => b.revenueVnd - a.revenueVnd || a.category.localeCompare(b.category)),
      paymentMix: mix
        .map((m) => ({
          method: m.method,
          orders: m.orders,
          revenueVnd: Number(m.revenue_vnd),
          share: net ? Number(m.revenue_vnd) / net : 0,
        }))
        .sort((a, b) => b.revenueVnd - a.revenueVnd || a.method.localeCompare(b.method)),
      sameDayLastWeek: {
        businessDay: lastWeekDay,
        revenueVnd: Number(ranges.lwRev),
        orders: ranges.lwOrders,
      },
      weekToDate: {
        from,
        to: day,
        revenueVnd: Number(ranges.wtdRev),
        orders: ranges.wtdOrders,
        lastWeekRevenueVnd: Number(ranges.lwtdRev),
        lastWeekOrders: ranges.lwtdOrders,
      },
    };
  });
}

export type Quadrant = "star" | "plowhorse" | "puzzle" | "dog";

export interface MenuEngineeringItem {
  itemId: string;
  name: string;
  category: string;
  quantity: number;
  revenueVnd: number;
  /** Average (price − cost) per portion sold, VND. */
  contributionMarginVnd: number;
  /** Share of all portions sold. */
  menuMix: number;
  quadrant: Quadrant;
}

/**
 * Kasavana–Smith menu engineering over a range of business days: an item is popular when its
 * portions reach 70 % of an equal share (total ÷ items sold), and profitable when its
 * contribution margin reaches the portion-weighted average margin. Items without a known cost
 * count their cost as 0.
 */
export function classifyMenu(
  rows: {
    itemId: string;
    name: string;
    category: string;
    quantity: number;
    revenueVnd: number;
    costVnd: number;
  }[],
): MenuEngineeringItem[] {
  const portions = rows.reduce((s, r) => s + r.quantity, 0);
  if (portions === 0) return [];
  const popularAt = 0.7 * (portions / rows.length);
  const averageMargin = rows.reduce((s, r) => s + (r.revenueVnd - r.costVnd), 0) / portions;
  return rows
    .map((r) => {
      const margin = (r.revenueVnd - r.costVnd) / r.quantity;
      const popular = r.quantity >= popularAt;
      const profitable = margin >= averageMargin;
      const quadrant: Quadrant = popular
        ? profitable
          ? "star"
          : "plowhorse"
        : profitable
          ? "puzzle"
          : "dog";
      return {
        itemId: r.itemId,
        name: r.name,
        category: r.category,
        quantity: r.quantity,
        revenueVnd: r.revenueVnd,
        contributionMarginVnd: Math.round(margin),
        menuMix: r.quantity / portions,
        quadrant,
      };
    })
    .sort((a, b) => b.quantity - a.quantity || a.name.localeCompare(b.name));
}

/**
 * The whole calendar months inside [from, to]: [first, end) as first days of months (empty when
 * first ≥ end). A month is whole when the range covers its first and its last business day.
 */
export function wholeMonths(from: string, to: string): { first: string; end: string } {
  const first = from.endsWith("-01") ? from : monthOf(addMonths(from, 1));
  const end = monthOf(addDays(to, 1));
  return { first, end };
}

function addMonths(day: string, n: number): string {
  const d = new Date(`${monthOf(day)}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + n);
  return d.toISOString().slice(0, 10);
}

/**
 * Menu engineering over [from, to]: the item sums of the whole months inside the range from the
 * monthly roll-ups (`month_items`, kept by the same batches as `day_items`), the days before and
 * after them from `day_items`, summed per item in SQL. A year of a busy branch reads about 12 rows
 * per item plus the days of its two cut months instead of 366 (bench/periods.ts).
 */
export async function menuEngineering(
  db: Kysely<DashboardDB>,
  tenantId: string,
  locationId: string,
  from: string,
  to: string,
): Promise<MenuEngineeringItem[]> {
  const { first, end } = wholeMonths(from, to);
  const byMonths = first < end;
  // The day rows outside the whole months: the cut month before them and the one after (each an
  // index range scan of day_items; an empty range when there is none).
  const head = byMonths ? { from, to: addDays(first, -1) } : { from, to };
  const tail = byMonths ? { from: end, to } : { from: to, to: addDays(to, -1) };
  const { rows } = await withTenant(db, tenantId, (trx) =>
    sql<{ item_id: string; name: string; category: string; quantity: number; revenue: string; cost: string }>`
      SELECT item_id, max(name) AS name, coalesce(max(category), ${UNCATEGORISED}) AS category,
        sum(quantity)::int AS quantity, sum(revenue_vnd)::bigint AS revenue, sum(cost_vnd)::bigint AS cost
      FROM (
        SELECT item_id, name, category, quantity, revenue_vnd, cost_vnd FROM month_items
        WHERE ${byMonths} AND location_id = ${locationId} AND month >= ${first}::date AND month < ${end}::date
        UNION ALL
        SELECT item_id, name, category, quantity, revenue_vnd, cost_vnd FROM day_items
        WHERE location_id = ${locationId} AND business_day BETWEEN ${head.from}::date AND ${head.to}::date
        UNION ALL
        SELECT item_id, name, category, quantity, revenue_vnd, cost_vnd FROM day_items
        WHERE location_id = ${locationId} AND business_day BETWEEN ${tail.from}::date AND ${tail.to}::date
      ) AS sold
      GROUP BY item_id
      HAVING sum(quantity) > 0`.execute(trx),
  );
  return classifyMenu(
    rows.map((r) => ({
      itemId: r.item_id,
      name: r.name,
      category: r.category,
      quantity: r.quantity,
      revenueVnd: Number(r.revenue),
      costVnd: Number(r.cost),
    })),
  );
}
