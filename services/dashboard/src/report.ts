import { sql, type Kysely } from "kysely";
import { withTenant } from "@lsp/service-kit";
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

export const UNCATEGORISED = "Khác";

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

const kept = sql<boolean>`created_seen AND voided_at IS NULL`;

export async function dayReport(
  db: Kysely<DashboardDB>,
  tenantId: string,
  location: { id: string; timeZone: string; cutoverHour: number },
  day: string,
): Promise<DayReport> {
  const locationId = location.id;
  return withTenant(db, tenantId, async (trx) => {
    const version = await trx
      .selectFrom("location_days")
      .select("version")
      .where("location_id", "=", locationId)
      .where("business_day", "=", day)
      .executeTakeFirst();
    const facts = trx
      .selectFrom("order_facts")
      .where("location_id", "=", locationId)
      .where("business_day", "=", day)
      .where("created_seen", "=", true);
    const totals = await facts
      .select([
        sql<number>`coalesce(sum(total_vnd) FILTER (WHERE voided_at IS NULL), 0)::bigint`.as("net"),
        sql<number>`coalesce(sum(subtotal_vnd) FILTER (WHERE voided_at IS NULL), 0)::bigint`.as("gross"),
        sql<number>`count(*) FILTER (WHERE voided_at IS NULL)::int`.as("orders"),
        sql<number>`count(*) FILTER (WHERE voided_at IS NULL AND paid_at IS NOT NULL)::int`.as("paid"),
        sql<number | null>`sum(guests) FILTER (WHERE voided_at IS NULL)::int`.as("guests"),
        sql<number>`count(*) FILTER (WHERE voided_at IS NULL AND discount_vnd > 0)::int`.as("discounted"),
        sql<number>`coalesce(sum(discount_vnd) FILTER (WHERE voided_at IS NULL), 0)::bigint`.as("discount"),
        sql<number>`count(*) FILTER (WHERE voided_at IS NOT NULL)::int`.as("voids"),
        sql<number>`coalesce(sum(total_vnd) FILTER (WHERE voided_at IS NOT NULL), 0)::bigint`.as("voided"),
      ])
      .executeTakeFirstOrThrow();
    const hours = await facts
      .where(kept)
      .select([
        sql<number>`extract(hour FROM created_at AT TIME ZONE ${location.timeZone})::int`.as("hour"),
        sql<number>`sum(total_vnd)::bigint`.as("revenue"),
        sql<number>`count(*)::int`.as("orders"),
      ])
      .groupBy(sql`1`)
      .execute();
    const lines = trx
      .selectFrom("order_fact_lines as l")
      .innerJoin("order_facts as o", "o.order_id", "l.order_id")
      .where("o.location_id", "=", locationId)
      .where("o.business_day", "=", day)
      .where("o.created_seen", "=", true)
      .where("o.voided_at", "is", null);
    const items = await lines
      .select([
        "l.item_id",
        sql<string>`max(l.name)`.as("name"),
        sql<string>`coalesce(max(l.category), ${UNCATEGORISED})`.as("category"),
        sql<number>`sum(l.quantity)::int`.as("quantity"),
        sql<number>`sum(l.quantity * l.unit_price_vnd)::bigint`.as("revenue"),
      ])
      .groupBy("l.item_id")
      .execute();
    const mix = await facts
      .where(kept)
      .select([
        "payment_method",
        sql<number>`count(*)::int`.as("orders"),
        sql<number>`sum(total_vnd)::bigint`.as("revenue"),
      ])
      .groupBy("payment_method")
      .execute();
    const lastWeekDay = addDays(day, -7);
    const from = weekStart(day);
    const ranges = await trx
      .selectFrom("order_facts")
      .where("location_id", "=", locationId)
      .where(kept)
      .where("business_day", ">=", addDays(from, -7))
      .where("business_day", "<=", day)
      .select([
        sql<number>`coalesce(sum(total_vnd) FILTER (WHERE business_day = ${lastWeekDay}::date), 0)::bigint`.as(
          "lwRev",
        ),
        sql<number>`count(*) FILTER (WHERE business_day = ${lastWeekDay}::date)::int`.as("lwOrders"),
        sql<number>`coalesce(sum(total_vnd) FILTER (WHERE business_day >= ${from}::date), 0)::bigint`.as(
          "wtdRev",
        ),
        sql<number>`count(*) FILTER (WHERE business_day >= ${from}::date)::int`.as("wtdOrders"),
        sql<number>`coalesce(sum(total_vnd) FILTER (WHERE business_day < ${from}::date AND business_day <= ${lastWeekDay}::date), 0)::bigint`.as(
          "lwtdRev",
        ),
        sql<number>`count(*) FILTER (WHERE business_day < ${from}::date AND business_day <= ${lastWeekDay}::date)::int`.as(
          "lwtdOrders",
        ),
      ])
      .executeTakeFirstOrThrow();

    const net = Number(totals.net);
    const byHour = new Map(hours.map((h) => [h.hour, h]));
    const hourly = Array.from({ length: 24 }, (_, i) => {
      const hour = (location.cutoverHour + i) % 24;
      const h = byHour.get(hour);
      return { hour, revenueVnd: Number(h?.revenue ?? 0), orders: h?.orders ?? 0 };
    });
    const topItems = items
      .map((r) => ({
        itemId: r.item_id,
        name: r.name,
        category: r.category,
        quantity: r.quantity,
        revenueVnd: Number(r.revenue),
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
      version: Number(version?.version ?? 0),
      netRevenueVnd: net,
      grossSalesVnd: Number(totals.gross),
      orders: totals.orders,
      paidOrders: totals.paid,
      averageTicketVnd: totals.orders ? Math.round(net / totals.orders) : 0,
      guests: totals.guests,
      revenuePerGuestVnd: totals.guests ? Math.round(net / totals.guests) : null,
      discounts: { orders: totals.discounted, amountVnd: Number(totals.discount) },
      voids: { orders: totals.voids, amountVnd: Number(totals.voided) },
      hourly,
      topItems,
      topCategories: [...categories]
        .map(([category, c]) => ({ category, ...c }))
        .sort((a, b) => b.revenueVnd - a.revenueVnd || a.category.localeCompare(b.category)),
      paymentMix: mix
        .map((m) => ({
          method: m.payment_method ?? "cash",
          orders: m.orders,
          revenueVnd: Number(m.revenue),
          share: net ? Number(m.revenue) / net : 0,
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

export async function menuEngineering(
  db: Kysely<DashboardDB>,
  tenantId: string,
  locationId: string,
  from: string,
  to: string,
): Promise<MenuEngineeringItem[]> {
  const rows = await withTenant(db, tenantId, (trx) =>
    trx
      .selectFrom("order_fact_lines as l")
      .innerJoin("order_facts as o", "o.order_id", "l.order_id")
      .where("o.location_id", "=", locationId)
      .where("o.business_day", ">=", from)
      .where("o.business_day", "<=", to)
      .where("o.created_seen", "=", true)
      .where("o.voided_at", "is", null)
      .select([
        "l.item_id",
        sql<string>`max(l.name)`.as("name"),
        sql<string>`coalesce(max(l.category), ${UNCATEGORISED})`.as("category"),
        sql<number>`sum(l.quantity)::int`.as("quantity"),
        sql<number>`sum(l.quantity * l.unit_price_vnd)::bigint`.as("revenue"),
        sql<number>`sum(l.quantity * coalesce(l.unit_cost_vnd, 0))::bigint`.as("cost"),
      ])
      .groupBy("l.item_id")
      .execute(),
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
