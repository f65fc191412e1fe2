import type { Kysely } from "kysely";
import { Kind, type GraphQLResolveInfo } from "graphql";
import { businessDay } from "@lsp/contracts";
import { AppError, businessDayArg, mergeKeys, uuidArg, type Logger } from "@lsp/runtime";
import { VndScalar } from "@lsp/graphql";
import { canAccessLocation, type Identity } from "@lsp/identity";
import { fetchLocation, type LocationSettings } from "@lsp/locations";
import type { SidecarPorts } from "@lsp/dapr";
import type { ReportCache } from "./cache.js";
import type { DashboardDB } from "./db.js";
import { findRebuildJob, startRebuild } from "./rebuild-job.js";
import { dayReport, menuEngineering, type DayReport, type MenuEngineeringItem } from "./report.js";
import { chainOverview, requireChainReader, tenantLocations } from "./chain.js";
import {
  MAX_PERIOD_DAYS,
  periodReport,
  rangeArgs,
  rollUp,
  type Grain,
  type PeriodComparison,
  type PeriodFigures,
  type PeriodReport,
} from "./periods.js";

export const typeDefs = /* GraphQL */ `
  "Amount in VND: an exact integer up to 2^53 − 1, as a JSON number (@lsp/graphql's VndScalar)."
  scalar Vnd

  "Revenue and orders of one local hour (the first bucket starts at the cut-over)."
  type HourlyBucket {
    hour: Int!
    revenue: Vnd!
    orders: Int!
  }
  type TopItem {
    itemId: ID!
    name: String!
    category: String!
    quantity: Int!
    "Quantity × unit price (VND), before order-level discounts."
    revenue: Vnd!
  }
  type TopCategory {
    category: String!
    quantity: Int!
    revenue: Vnd!
  }
  type PaymentShare {
    method: String!
    orders: Int!
    revenue: Vnd!
    "Share of net revenue, 0..1."
    share: Float!
  }
  type DayComparison {
    businessDay: String!
    revenue: Vnd!
    orders: Int!
  }
  "Monday of the business week up to the day, against the same span a week earlier."
  type WeekToDate {
    from: String!
    to: String!
    revenue: Vnd!
    orders: Int!
    lastWeekRevenue: Vnd!
    lastWeekOrders: Int!
  }
  "The figures of one business day of a location. Amounts in VND."
  type DayReport {
    businessDay: String!
    "What customers pay after discounts, over orders not voided."
    netRevenue: Vnd!
    grossSales: Vnd!
    orders: Int!
    paidOrders: Int!
    averageTicket: Vnd!
    guests: Int
    revenuePerGuest: Vnd
    discountedOrders: Int!
    discounts: Vnd!
    voidedOrders: Int!
    voids: Vnd!
    hourly: [HourlyBucket!]!
    topItems(limit: Int = 10): [TopItem!]!
    topCategories(limit: Int = 10): [TopCategory!]!
    paymentMix: [PaymentShare!]!
    sameDayLastWeek: DayComparison!
    weekToDate: WeekToDate!
  }
  enum MenuQuadrant {
    star
    plowhorse
    puzzle
    dog
  }
  "Kasavana–Smith menu engineering of one item over a range of business days."
  type MenuEngineeringItem {
    itemId: ID!
    name: String!
    category: String!
    quantity: Int!
    revenue: Vnd!
    contributionMargin: Vnd!
    menuMix: Float!
    quadrant: MenuQuadrant!
  }

  "Sums of a span of business days (a day, an ISO week, a month, a whole range). Amounts in VND."
  type PeriodFigures {
    from: String!
    to: String!
    days: Int!
    "Net revenue: what customers pay after discounts, over orders not voided."
    revenue: Vnd!
    orders: Int!
    averageTicket: Vnd!
    grossSales: Vnd!
    paidOrders: Int!
    discounts: Vnd!
    voidedOrders: Int!
    voids: Vnd!
  }
  "One bucket of a series: a business day, an ISO week (Monday to Sunday) or a calendar month."
  type PeriodBucket {
    from: String!
    to: String!
    days: Int!
    "False when the range cuts the week or month (its first or last bucket)."
    complete: Boolean!
    revenue: Vnd!
    orders: Int!
    averageTicket: Vnd!
    grossSales: Vnd!
    paidOrders: Int!
    discounts: Vnd!
    voidedOrders: Int!
    voids: Vnd!
  }
  "The range against another span: its totals and the relative changes ((range − span) ÷ span; null when the span had none)."
  type PeriodComparison {
    totals: PeriodFigures!
    revenueChange: Float
    ordersChange: Float
    averageTicketChange: Float
  }
  enum PeriodGrain {
    day
    "ISO 8601 weeks: Monday to Sunday."
    week
    month
  }
  """
  A location over a range of business days (at most ${MAX_PERIOD_DAYS}). Business days are the
  location's local calendar days after its cut-over, so weeks and months are in its calendar.
  """
  type PeriodReport {
    from: String!
    to: String!
    totals: PeriodFigures!
    "Every business day, week or month of the range, in order (zeros where nothing sold)."
    series(grain: PeriodGrain = day): [PeriodBucket!]!
    "The same number of days just before from."
    previousPeriod: PeriodComparison!
    "The same calendar dates a year earlier (29 February: the 28th)."
    samePeriodLastYear: PeriodComparison!
    "Menu engineering over the range (the same rule as Location.menuEngineering)."
    menuEngineering: [MenuEngineeringItem!]!
  }

  "One branch in the chain view: the range against the same-length period before."
  type ChainBranch {
    location: Location!
    "1 = most revenue; equal revenue shares a rank."
    rank: Int!
    revenue: Vnd!
    orders: Int!
    averageTicket: Vnd!
    "Share of the chain's revenue, 0..1."
    revenueShare: Float!
    previousRevenue: Vnd!
    previousOrders: Int!
    "(revenue − previousRevenue) ÷ previousRevenue; null when the period before had none."
    revenueChange: Float
    ordersChange: Float
  }
  type ChainTotals {
    branches: Int!
    revenue: Vnd!
    orders: Int!
    averageTicket: Vnd!
    previousRevenue: Vnd!
    previousOrders: Int!
    revenueChange: Float
    ordersChange: Float
  }
  "Every branch in the caller's scope over a range of business days, ranked, with the chain's totals."
  type ChainOverview {
    from: String!
    to: String!
    "The same-length period just before, that the changes compare with."
    previousFrom: String!
    previousTo: String!
    branches: [ChainBranch!]!
    totals: ChainTotals!
  }

  type Location @key(selectionSet: "{ id }") {
    id: ID!
    "Net revenue (VND) of the location's current business day."
    todayRevenue: Vnd
    "Orders (not voided) of the location's current business day."
    todayOrders: Int
    today: DayReport
    "A past or current business day (YYYY-MM-DD, 2000-01-01 to 2099-12-31)."
    day(businessDay: String!): DayReport
    hourlyTrends: [HourlyBucket!]
    topItems(limit: Int = 5): [TopItem!]
    topCategories(limit: Int = 5): [TopCategory!]
    paymentMix: [PaymentShare!]
    "Menu engineering between two business days (inclusive, at most 366 days)."
    menuEngineering(from: String!, to: String!): [MenuEngineeringItem!]
    "Figures between two business days (inclusive, at most ${MAX_PERIOD_DAYS} days)."
    period(from: String!, to: String!): PeriodReport
  }

  enum RebuildStatus {
    RUNNING
    DONE
    "Failed or interrupted; the read model was left as it was (see error)."
    FAILED
  }

  "A replay of the tenant's event journal into a fresh read model, run in the background."
  type RebuildJob {
    id: ID!
    status: RebuildStatus!
    "Journaled events replayed (when done)."
    events: Int
    "Location-days rebuilt, whose cached reports were dropped (when done)."
    locationDays: Int
    error: String
    startedAt: String!
    finishedAt: String
  }

  type Query {
    "Stitching only (at most 200 ids, each a UUID)."
    _dashboardLocations(ids: [ID!]!): [Location]! @merge(keyField: "id")
    "Owners: a dashboard rebuild started by rebuildDashboard."
    dashboardRebuild(id: ID!): RebuildJob
    """
    Owners and managers: every branch in their scope for one business day, or from..to (inclusive,
    at most ${MAX_PERIOD_DAYS} days), against the same-length period before.
    """
    chain(businessDay: String, from: String, to: String): ChainOverview!
  }

  type Mutation {
    "Owners: replay the tenant's event journal into a fresh read model (same numbers, new cache). Answers at once with the job (or the one already running); poll dashboardRebuild."
    rebuildDashboard: RebuildJob!
  }
`;

export interface DashboardContext {
  db: Kysely<DashboardDB>;
  ports: SidecarPorts;
  cache: ReportCache;
  identity: () => Identity;
  log: Logger;
  /** Reports already read in this request, by location and day. */
  reports: Map<string, Promise<DayReport>>;
}

export function reportKey(tenantId: string, locationId: string, day: string): string {
  return `report:${tenantId}:${locationId}:${day}`;
}

/** A report from the cache, or computed and cached. */
export async function cachedReport(
  deps: { db: Kysely<DashboardDB>; cache: ReportCache },
  tenantId: string,
  location: LocationSettings,
  day: string,
): Promise<DayReport> {
  const key = reportKey(tenantId, location.id, day);
  const hit = await deps.cache.get<DayReport>(key);
  if (hit) return hit;
  const report = await dayReport(deps.db, tenantId, location, day);
  await deps.cache.put(key, report);
  return report;
}

function ownerOnly(ctx: DashboardContext): Identity {
  const who = ctx.identity();
  if (who.role !== "owner" && who.role !== "system")
    throw new AppError("FORBIDDEN", "only owners may rebuild the dashboard");
  return who;
}

function reportOf(ctx: DashboardContext, locationId: string, day?: string): Promise<DayReport> {
  const who = ctx.identity();
  const memoKey = `${locationId}/${day ?? "today"}`;
  let report = ctx.reports.get(memoKey);
  if (!report) {
    report = (async () => {
      const location = await fetchLocation(ctx.ports, who, locationId);
      const d = day ?? businessDay(new Date(), location.cutoverHour, location.timeZone);
      return cachedReport(ctx, who.tenantId, location, d);
    })();
    ctx.reports.set(memoKey, report);
  }
  return report;
}

const limit = (n: unknown, max = 50) => Math.max(0, Math.min(max, typeof n === "number" ? n : 10));

function dayView(r: DayReport) {
  return {
    businessDay: r.businessDay,
    netRevenue: r.netRevenueVnd,
    grossSales: r.grossSalesVnd,
    orders: r.orders,
    paidOrders: r.paidOrders,
    averageTicket: r.averageTicketVnd,
    guests: r.guests,
    revenuePerGuest: r.revenuePerGuestVnd,
    discountedOrders: r.discounts.orders,
    discounts: r.discounts.amountVnd,
    voidedOrders: r.voids.orders,
    voids: r.voids.amountVnd,
    hourly: hourlyView(r),
    topItems: (args: { limit?: number }) => topItemsView(r, args.limit),
    topCategories: (args: { limit?: number }) => topCategoriesView(r, args.limit),
    paymentMix: paymentView(r),
    sameDayLastWeek: {
      businessDay: r.sameDayLastWeek.businessDay,
      revenue: r.sameDayLastWeek.revenueVnd,
      orders: r.sameDayLastWeek.orders,
    },
    weekToDate: {
      from: r.weekToDate.from,
      to: r.weekToDate.to,
      revenue: r.weekToDate.revenueVnd,
      orders: r.weekToDate.orders,
      lastWeekRevenue: r.weekToDate.lastWeekRevenueVnd,
      lastWeekOrders: r.weekToDate.lastWeekOrders,
    },
  };
}
const hourlyView = (r: DayReport) =>
  r.hourly.map((h) => ({ hour: h.hour, revenue: h.revenueVnd, orders: h.orders }));
const topItemsView = (r: DayReport, n?: number) =>
  r.topItems.slice(0, limit(n)).map((i) => ({ ...i, revenue: i.revenueVnd }));
const topCategoriesView = (r: DayReport, n?: number) =>
  r.topCategories.slice(0, limit(n)).map((c) => ({ ...c, revenue: c.revenueVnd }));
const paymentView = (r: DayReport) => r.paymentMix.map((p) => ({ ...p, revenue: p.revenueVnd }));

type Loc = { id: string };

/** Whether the field being resolved selects `name` directly (fragments: answered false, read lazily). */
function selectsField(info: GraphQLResolveInfo, name: string): boolean {
  return info.fieldNodes.some((node) =>
    node.selectionSet?.selections.some((sel) => sel.kind === Kind.FIELD && sel.name.value === name),
  );
}

const figuresView = (f: PeriodFigures) => ({
  from: f.from,
  to: f.to,
  days: f.days,
  revenue: f.revenueVnd,
  orders: f.orders,
  averageTicket: f.averageTicketVnd,
  grossSales: f.grossSalesVnd,
  paidOrders: f.paidOrders,
  discounts: f.discountVnd,
  voidedOrders: f.voidedOrders,
  voids: f.voidedVnd,
});
const comparisonView = (c: PeriodComparison) => ({ ...c, totals: figuresView(c.totals) });

const menuView = (items: Awaited<ReturnType<typeof menuEngineering>>) =>
  items.map((i) => ({ ...i, revenue: i.revenueVnd, contributionMargin: i.contributionMarginVnd }));

function periodView(
  ctx: DashboardContext,
  tenantId: string,
  p: PeriodReport,
  menu?: Promise<MenuEngineeringItem[]>,
) {
  return {
    from: p.totals.from,
    to: p.totals.to,
    totals: figuresView(p.totals),
    series: (args: { grain?: Grain }) =>
      args.grain === "week" || args.grain === "month"
        ? rollUp(p.daily, args.grain).map((b) => ({ ...figuresView(b), complete: b.complete }))
        : p.daily.map((d) => ({ ...figuresView(d), complete: true })),
    previousPeriod: comparisonView(p.previousPeriod),
    samePeriodLastYear: comparisonView(p.samePeriodLastYear),
    // Only read when selected (started beside the period's own read when the query asks for it).
    menuEngineering: async () =>
      menuView(await (menu ?? menuEngineering(ctx.db, tenantId, p.locationId, p.totals.from, p.totals.to))),
  };
}

/** chain(businessDay | from, to): one day, or a range; BAD_USER_INPUT for anything else. */
function chainRange(args: { businessDay?: string | null; from?: string | null; to?: string | null }) {
  const hasRange = args.from != null || args.to != null;
  if (args.businessDay != null) {
    if (hasRange)
      throw new AppError("BAD_USER_INPUT", "give businessDay or from and to, not both", {
        field: "businessDay",
      });
    const day = businessDayArg(args.businessDay, "businessDay");
    return { from: day, to: day };
  }
  if (!hasRange)
    throw new AppError("BAD_USER_INPUT", "give businessDay, or from and to", { field: "businessDay" });
  return rangeArgs(args.from, args.to);
}

export const resolvers = {
  Vnd: VndScalar,
  Query: {
    // Batched by the edge: one call carries every location of the operation.
    _dashboardLocations: (_: unknown, args: { ids: string[] }, ctx: DashboardContext) => {
      const ids = mergeKeys(args.ids);
      const who = ctx.identity();
      return ids.map((id) => (canAccessLocation(who, id) ? { id } : null));
    },
    dashboardRebuild: async (_: unknown, args: { id: string }, ctx: DashboardContext) => {
      const who = ownerOnly(ctx);
      return findRebuildJob(ctx.db, who.tenantId, uuidArg(args.id, "id"));
    },
    chain: async (
      _: unknown,
      args: { businessDay?: string | null; from?: string | null; to?: string | null },
      ctx: DashboardContext,
    ) => {
      const who = ctx.identity();
      requireChainReader(who);
      const { from, to } = chainRange(args);
      const overview = await chainOverview(
        ctx.db,
        who,
        await tenantLocations(ctx.ports, who.tenantId),
        from,
        to,
      );
      return {
        ...overview,
        branches: overview.branches.map((b) => ({
          location: { id: b.locationId },
          rank: b.rank,
          revenue: b.revenueVnd,
          orders: b.orders,
          averageTicket: b.averageTicketVnd,
          revenueShare: b.revenueShare,
          previousRevenue: b.previousRevenueVnd,
          previousOrders: b.previousOrders,
          revenueChange: b.revenueChange,
          ordersChange: b.ordersChange,
        })),
        totals: {
          ...overview.totals,
          revenue: overview.totals.revenueVnd,
          averageTicket: overview.totals.averageTicketVnd,
          previousRevenue: overview.totals.previousRevenueVnd,
        },
      };
    },
  },
  Location: {
    todayRevenue: async (l: Loc, _: unknown, ctx: DashboardContext) =>
      (await reportOf(ctx, l.id)).netRevenueVnd,
    todayOrders: async (l: Loc, _: unknown, ctx: DashboardContext) => (await reportOf(ctx, l.id)).orders,
    today: async (l: Loc, _: unknown, ctx: DashboardContext) => dayView(await reportOf(ctx, l.id)),
    day: async (l: Loc, args: { businessDay: string }, ctx: DashboardContext) =>
      dayView(await reportOf(ctx, l.id, businessDayArg(args.businessDay, "businessDay"))),
    hourlyTrends: async (l: Loc, _: unknown, ctx: DashboardContext) => hourlyView(await reportOf(ctx, l.id)),
    topItems: async (l: Loc, args: { limit?: number }, ctx: DashboardContext) =>
      topItemsView(await reportOf(ctx, l.id), args.limit),
    topCategories: async (l: Loc, args: { limit?: number }, ctx: DashboardContext) =>
      topCategoriesView(await reportOf(ctx, l.id), args.limit),
    paymentMix: async (l: Loc, _: unknown, ctx: DashboardContext) => paymentView(await reportOf(ctx, l.id)),
    menuEngineering: async (l: Loc, args: { from: string; to: string }, ctx: DashboardContext) => {
      const from = businessDayArg(args.from, "from");
      const to = businessDayArg(args.to, "to");
      const span = (Date.parse(to) - Date.parse(from)) / 86_400_000;
      if (span < 0 || span > 366)
        throw new AppError("BAD_USER_INPUT", "from must be before to, at most 366 days apart", {
          field: "to",
        });
      return menuView(await menuEngineering(ctx.db, ctx.identity().tenantId, l.id, from, to));
    },
    period: async (
      l: Loc,
      args: { from: string; to: string },
      ctx: DashboardContext,
      info: GraphQLResolveInfo,
    ) => {
      const { from, to } = rangeArgs(args.from, args.to);
      const who = ctx.identity();
      // Another tenant's location is NOT_FOUND (auth owns locations), as for day reports.
      await fetchLocation(ctx.ports, who, l.id);
      // Menu engineering, when asked for, is read beside the period (two pooled connections)
      // rather than after it: one round of queries instead of two (bench/periods.ts (c)).
      const menu = selectsField(info, "menuEngineering")
        ? menuEngineering(ctx.db, who.tenantId, l.id, from, to)
        : undefined;
      menu?.catch(() => undefined); // awaited by its field; never an unhandled rejection meanwhile
      return periodView(ctx, who.tenantId, await periodReport(ctx.db, who.tenantId, l.id, from, to), menu);
    },
  },
  Mutation: {
    rebuildDashboard: async (_: unknown, __: unknown, ctx: DashboardContext) => {
      const who = ownerOnly(ctx);
      return startRebuild(ctx.db, who.tenantId, ctx.log, ({ days }) =>
        ctx.cache.drop(days.map((d) => reportKey(who.tenantId, d.locationId, d.businessDay))),
      );
    },
  },
  PeriodReport: {
    series: (p: ReturnType<typeof periodView>, args: { grain?: Grain }) => p.series(args),
    menuEngineering: (p: ReturnType<typeof periodView>) => p.menuEngineering(),
  },
  DayReport: {
    topItems: (r: ReturnType<typeof dayView>, args: { limit?: number }) => r.topItems(args),
    topCategories: (r: ReturnType<typeof dayView>, args: { limit?: number }) => r.topCategories(args),
  },
};
