import { sql, type Kysely } from "kysely";
import { AppError, businessDayArg } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { DashboardDB } from "./db.js";
import { addDays, weekStart } from "./report.js";

/**
 * Figures over a range of business days, read from the location-day aggregates (`location_days`,
 * the rows every event updates and the day report reads): a daily series, week and month
 * roll-ups, the previous period and the same period last year.
 *
 * A business day already is a local calendar day of the location (its time zone and cut-over
 * decided which day an order belongs to: contracts' `businessDay`), so weeks and months are
 * plain calendar arithmetic on business days: weeks are ISO 8601 weeks (Monday to Sunday, as
 * Vietnam's calendar counts them, and as `weekToDate` of the day report), months calendar months.
 */

/** Longest range a period query answers, in business days (a year, leap years included). */
export const MAX_PERIOD_DAYS = 366;

export type Grain = "day" | "week" | "month";

export interface PeriodFigures {
  from: string;
  to: string;
  /** Business days in the span. */
  days: number;
  revenueVnd: number;
  orders: number;
  averageTicketVnd: number;
  grossSalesVnd: number;
  paidOrders: number;
  discountVnd: number;
  voidedOrders: number;
  voidedVnd: number;
}

export interface PeriodBucket extends PeriodFigures {
  /** False for a week or month the range cuts (its first or last bucket). */
  complete: boolean;
}

export interface PeriodComparison {
  totals: PeriodFigures;
  /** Relative change of the range against this period ((now − then) ÷ then); null when then is 0. */
  revenueChange: number | null;
  ordersChange: number | null;
  averageTicketChange: number | null;
}

export interface PeriodReport {
  locationId: string;
  totals: PeriodFigures;
  daily: PeriodFigures[];
  previousPeriod: PeriodComparison;
  samePeriodLastYear: PeriodComparison;
}

export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;

/**
 * A range argument pair: real business days, from ≤ to, at most `MAX_PERIOD_DAYS` days
 * (inclusive). Each mistake is BAD_USER_INPUT naming the field; nothing is read before.
 */
export function rangeArgs(fromRaw: unknown, toRaw: unknown): { from: string; to: string; days: number } {
  const from = businessDayArg(fromRaw, "from");
  const to = businessDayArg(toRaw, "to");
  if (to < from) throw new AppError("BAD_USER_INPUT", "to must not be before from", { field: "to" });
  const days = daysBetween(from, to);
  if (days > MAX_PERIOD_DAYS)
    throw new AppError(
      "BAD_USER_INPUT",
      `a range covers at most ${MAX_PERIOD_DAYS} business days (this one ${days})`,
      { field: "to", maxDays: MAX_PERIOD_DAYS, days },
    );
  return { from, to, days };
}

/** The same-length range that ends the day before `from`. */
export function previousRange(from: string, to: string): { from: string; to: string } {
  const days = daysBetween(from, to);
  return { from: addDays(from, -days), to: addDays(from, -1) };
}

/** The same calendar day a year earlier; 29 February becomes the 28th. */
export function sameDayLastYear(day: string): string {
  const year = Number(day.slice(0, 4)) - 1;
  const monthDay = day.slice(5) === "02-29" ? "02-28" : day.slice(5);
  return `${String(year).padStart(4, "0")}-${monthDay}`;
}

/** The same calendar dates a year earlier (not weekday-aligned: a month against its month). */
export function lastYearRange(from: string, to: string): { from: string; to: string } {
  return { from: sameDayLastYear(from), to: sameDayLastYear(to) };
}

const monthStart = (day: string) => `${day.slice(0, 7)}-01`;
function monthEnd(day: string): string {
  const d = new Date(`${monthStart(day)}T00:00:00Z`);
  d.setUTCMonth(d.getUTCMonth() + 1);
  d.setUTCDate(0);
  return d.toISOString().slice(0, 10);
}

/** The calendar bucket a business day falls in: ISO week (Monday first) or calendar month. */
export function bucketOf(day: string, grain: Grain): { from: string; to: string } {
  if (grain === "day") return { from: day, to: day };
  if (grain === "week") {
    const from = weekStart(day);
    return { from, to: addDays(from, 6) };
  }
  return { from: monthStart(day), to: monthEnd(day) };
}

type Sums = Omit<PeriodFigures, "from" | "to" | "days" | "averageTicketVnd">;
const ZERO: Sums = {
  revenueVnd: 0,
  orders: 0,
  grossSalesVnd: 0,
  paidOrders: 0,
  discountVnd: 0,
  voidedOrders: 0,
  voidedVnd: 0,
};

function figures(from: string, to: string, s: Sums, days = daysBetween(from, to)): PeriodFigures {
  return {
    from,
    to,
    days,
    ...s,
    averageTicketVnd: s.orders ? Math.round(s.revenueVnd / s.orders) : 0,
  };
}

function add(a: Sums, b: Sums): Sums {
  return {
    revenueVnd: a.revenueVnd + b.revenueVnd,
    orders: a.orders + b.orders,
    grossSalesVnd: a.grossSalesVnd + b.grossSalesVnd,
    paidOrders: a.paidOrders + b.paidOrders,
    discountVnd: a.discountVnd + b.discountVnd,
    voidedOrders: a.voidedOrders + b.voidedOrders,
    voidedVnd: a.voidedVnd + b.voidedVnd,
  };
}

/** (now − then) ÷ then, null when there is nothing to compare with. */
export const change = (now: number, then: number): number | null => (then ? (now - then) / then : null);

export function compare(now: PeriodFigures, then: PeriodFigures): PeriodComparison {
  return {
    totals: then,
    revenueChange: change(now.revenueVnd, then.revenueVnd),
    ordersChange: change(now.orders, then.orders),
    averageTicketChange: change(now.averageTicketVnd, then.averageTicketVnd),
  };
}

/**
 * Rolls a daily series (every day of the range, in order) up into weeks or months, each bucket
 * clipped to the range (`complete` says whether the range covers it whole).
 */
export function rollUp(daily: readonly PeriodFigures[], grain: Grain): PeriodBucket[] {
  // The series is every day of the range in order (periodReport), so a bucket starts at the first
  // day, at each Monday (weeks) or at each first of a month (months), and it is whole when it has
  // all its days: 7 for a week, the month's length for a month. No date arithmetic per day (a
  // year's series is read for every week and month series asked: bench/periods.ts).
  const buckets: PeriodBucket[] = [];
  let open: { from: string; to: string; days: number; sums: Sums } | undefined;
  const close = () => {
    if (!open) return;
    const whole =
      grain === "day" ||
      (grain === "week"
        ? open.days === 7
        : open.from.endsWith("-01") && open.days === daysInMonth(open.from));
    buckets.push({ ...figures(open.from, open.to, open.sums, open.days), complete: whole });
  };
  let weekday = daily[0] ? isoWeekday(daily[0].from) : 1;
  for (const d of daily) {
    const starts = !open || grain === "day" || (grain === "week" ? weekday === 1 : d.from.endsWith("-01"));
    if (starts) {
      close();
      open = { from: d.from, to: d.to, days: 1, sums: add(ZERO, d) };
    } else if (open) {
      open.to = d.to;
      open.days++;
      open.sums = add(open.sums, d);
    }
    weekday = (weekday % 7) + 1;
  }
  close();
  return buckets;
}

/** 1 = Monday … 7 = Sunday (ISO 8601). */
function isoWeekday(day: string): number {
  return ((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7) + 1;
}

function daysInMonth(day: string): number {
  return new Date(Date.UTC(Number(day.slice(0, 4)), Number(day.slice(5, 7)), 0)).getUTCDate();
}

const sums = (r: {
  revenue: number | string;
  orders: number;
  gross: number | string;
  paid: number;
  discount: number | string;
  voided: number;
  voidedVnd: number | string;
}): Sums => ({
  revenueVnd: Number(r.revenue),
  orders: Number(r.orders),
  grossSalesVnd: Number(r.gross),
  paidOrders: Number(r.paid),
  discountVnd: Number(r.discount),
  voidedOrders: Number(r.voided),
  voidedVnd: Number(r.voidedVnd),
});

/**
 * A location's period: the daily series of [from, to] (every day, zeros where nothing sold) and
 * the totals of the previous period and of the same period last year, in one transaction and two
 * index range scans of `location_days` (primary key: tenant, location, business day).
 */
export async function periodReport(
  db: Kysely<DashboardDB>,
  tenantId: string,
  locationId: string,
  from: string,
  to: string,
): Promise<PeriodReport> {
  const prev = previousRange(from, to);
  const lastYear = lastYearRange(from, to);
  return withTenant(db, tenantId, async (trx) => {
    const rows = await trx
      .selectFrom("location_days")
      .where("location_id", "=", locationId)
      .where("business_day", ">=", from)
      .where("business_day", "<=", to)
      .select([
        sql<string>`to_char(business_day, 'YYYY-MM-DD')`.as("day"),
        "revenue_vnd as revenue",
        "orders",
        "gross_vnd as gross",
        "paid_orders as paid",
        "discount_vnd as discount",
        "voided_orders as voided",
        "voided_vnd as voidedVnd",
      ])
      .execute();
    const inRange = (r: { from: string; to: string }) =>
      sql<boolean>`business_day BETWEEN ${r.from}::date AND ${r.to}::date`;
    const sum = (column: string, r: { from: string; to: string }) =>
      sql<string>`coalesce(sum(${sql.ref(column)}) FILTER (WHERE ${inRange(r)}), 0)::bigint`;
    const comparisons = await trx
      .selectFrom("location_days")
      .where("location_id", "=", locationId)
      .where((eb) =>
        eb.or([
          eb.between("business_day", prev.from, prev.to),
          eb.between("business_day", lastYear.from, lastYear.to),
        ]),
      )
      .select([
        sum("revenue_vnd", prev).as("pRevenue"),
        sum("orders", prev).as("pOrders"),
        sum("gross_vnd", prev).as("pGross"),
        sum("paid_orders", prev).as("pPaid"),
        sum("discount_vnd", prev).as("pDiscount"),
        sum("voided_orders", prev).as("pVoided"),
        sum("voided_vnd", prev).as("pVoidedVnd"),
        sum("revenue_vnd", lastYear).as("yRevenue"),
        sum("orders", lastYear).as("yOrders"),
        sum("gross_vnd", lastYear).as("yGross"),
        sum("paid_orders", lastYear).as("yPaid"),
        sum("discount_vnd", lastYear).as("yDiscount"),
        sum("voided_orders", lastYear).as("yVoided"),
        sum("voided_vnd", lastYear).as("yVoidedVnd"),
      ])
      .executeTakeFirstOrThrow();

    const byDay = new Map(rows.map((r) => [r.day, sums(r)]));
    const daily: PeriodFigures[] = [];
    let total = ZERO;
    // One Date stepped a day at a time (addDays per day was a tenth of a year's cost).
    const cursor = new Date(`${from}T00:00:00Z`);
    for (let day = from; day <= to;) {
      const s = byDay.get(day) ?? ZERO;
      total = add(total, s);
      daily.push(figures(day, day, s, 1));
      cursor.setUTCDate(cursor.getUTCDate() + 1);
      day = cursor.toISOString().slice(0, 10);
    }
    const totals = figures(from, to, total);
    const c = comparisons;
    const previous = figures(
      prev.from,
      prev.to,
      sums({
        revenue: c.pRevenue,
        orders: Number(c.pOrders),
        gross: c.pGross,
        paid: Number(c.pPaid),
        discount: c.pDiscount,
        voided: Number(c.pVoided),
        voidedVnd: c.pVoidedVnd,
      }),
    );
    const lastYearTotals = figures(
      lastYear.from,
      lastYear.to,
      sums({
        revenue: c.yRevenue,
        orders: Number(c.yOrders),
        gross: c.yGross,
        paid: Number(c.yPaid),
        discount: c.yDiscount,
        voided: Number(c.yVoided),
        voidedVnd: c.yVoidedVnd,
      }),
    );
    return {
      locationId,
      totals,
      daily,
      previousPeriod: compare(totals, previous),
      samePeriodLastYear: compare(totals, lastYearTotals),
    };
  });
}
