import type { Kysely } from "kysely";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { canAccessLocation, systemHeaders, type Identity } from "@lsp/identity";
import { invokeService, type SidecarPorts } from "@lsp/dapr";
import { withTenant } from "@lsp/db";
import type { DashboardDB } from "./db.js";
import { change, previousRange } from "./periods.js";

/**
 * The chain at a glance: every branch in the caller's scope over a range of business days, with
 * the same-length period before, ranked by revenue, and the chain's totals. Read from the
 * location-day aggregates (one index range scan of `location_days` per query, both periods at
 * once); the list of branches comes from auth, which owns locations, so a branch that sold
 * nothing still shows (with zeros) and a closed branch's rows never make up one.
 */

export interface ChainBranch {
  locationId: string;
  name: string;
  /** 1 = most revenue; branches with equal revenue share a rank (1, 2, 2, 4). */
  rank: number;
  revenueVnd: number;
  orders: number;
  averageTicketVnd: number;
  /** Share of the chain's revenue, 0..1. */
  revenueShare: number;
  previousRevenueVnd: number;
  previousOrders: number;
  revenueChange: number | null;
  ordersChange: number | null;
}

export interface ChainOverview {
  from: string;
  to: string;
  previousFrom: string;
  previousTo: string;
  branches: ChainBranch[];
  totals: {
    branches: number;
    revenueVnd: number;
    orders: number;
    averageTicketVnd: number;
    previousRevenueVnd: number;
    previousOrders: number;
    revenueChange: number | null;
    ordersChange: number | null;
  };
}

const TenantLocations = z.array(z.object({ id: z.uuid(), name: z.string() }));

type TenantLocations = z.infer<typeof TenantLocations>;

/**
 * A tenant's branch list is kept this long: a chain view refreshed every few seconds then costs
 * auth one call per tenant and TTL, and a branch opened meanwhile shows within it. A plain map
 * (bounded, oldest first out) rather than a cache library: one key per tenant, no staleness rules.
 */
export const TENANT_LOCATIONS_TTL_MS = 30_000;
const MAX_TENANTS = 10_000;
const branchLists = new Map<string, { at: number; list: Promise<TenantLocations> }>();

/** The tenant's locations from auth (`GET /v1/locations` as a system caller in the tenant). */
export function tenantLocations(
  ports: SidecarPorts,
  tenantId: string,
  now = Date.now(),
): Promise<TenantLocations> {
  const kept = branchLists.get(tenantId);
  if (kept && now - kept.at < TENANT_LOCATIONS_TTL_MS) return kept.list;
  const list = (async () => {
    const res = await invokeService(ports, "auth", "v1/locations", { headers: systemHeaders(tenantId) });
    if (!res.ok) throw new AppError("UNAVAILABLE", `auth answered ${res.status} for the tenant's locations`);
    return TenantLocations.parse(await res.json());
  })();
  branchLists.delete(tenantId);
  branchLists.set(tenantId, { at: now, list });
  // A failed lookup is not kept: the next view asks again.
  list.catch(() => branchLists.get(tenantId)?.list === list && branchLists.delete(tenantId));
  if (branchLists.size > MAX_TENANTS) branchLists.delete(branchLists.keys().next().value!);
  return list;
}

/** Owners and managers; staff get FORBIDDEN (the chain view is a management view). */
export function requireChainReader(who: Identity): void {
  if (who.role !== "owner" && who.role !== "manager")
    throw new AppError("FORBIDDEN", "the chain view is for owners and managers");
}

/** Ranks branches by revenue (then orders, then name): equal revenue shares a rank. */
export function rankBranches<
  T extends { revenueVnd: number; orders: number; name: string; locationId: string },
>(rows: readonly T[]): (T & { rank: number })[] {
  const sorted = [...rows].sort(
    (a, b) =>
      b.revenueVnd - a.revenueVnd ||
      b.orders - a.orders ||
      a.name.localeCompare(b.name, "vi") ||
      a.locationId.localeCompare(b.locationId),
  );
  let rank = 0;
  return sorted.map((r, i) => {
    if (i === 0 || r.revenueVnd !== sorted[i - 1]!.revenueVnd) rank = i + 1;
    return { ...r, rank };
  });
}

export async function chainOverview(
  db: Kysely<DashboardDB>,
  who: Identity,
  locations: readonly { id: string; name: string }[],
  from: string,
  to: string,
): Promise<ChainOverview> {
  const branches = locations.filter((l) => canAccessLocation(who, l.id));
  const prev = previousRange(from, to);
  const ids = branches.map((b) => b.id);
  const rows = ids.length
    ? await withTenant(db, who.tenantId, (trx) =>
        trx
          .selectFrom("location_days")
          .where("location_id", "in", ids)
          .where("business_day", ">=", prev.from)
          .where("business_day", "<=", to)
          .select((eb) => [
            "location_id",
            eb.fn
              .coalesce(eb.fn.sum<string>("revenue_vnd").filterWhere("business_day", ">=", from), eb.lit(0))
              .as("revenue"),
            eb.fn
              .coalesce(eb.fn.sum<string>("orders").filterWhere("business_day", ">=", from), eb.lit(0))
              .as("orders"),
            eb.fn
              .coalesce(eb.fn.sum<string>("revenue_vnd").filterWhere("business_day", "<", from), eb.lit(0))
              .as("prevRevenue"),
            eb.fn
              .coalesce(eb.fn.sum<string>("orders").filterWhere("business_day", "<", from), eb.lit(0))
              .as("prevOrders"),
          ])
          .groupBy("location_id")
          .execute(),
      )
    : [];
  const byId = new Map(rows.map((r) => [r.location_id, r]));
  const figures = branches.map((b) => {
    const r = byId.get(b.id);
    return {
      locationId: b.id,
      name: b.name,
      revenueVnd: Number(r?.revenue ?? 0),
      orders: Number(r?.orders ?? 0),
      previousRevenueVnd: Number(r?.prevRevenue ?? 0),
      previousOrders: Number(r?.prevOrders ?? 0),
    };
  });
  const revenue = figures.reduce((s, f) => s + f.revenueVnd, 0);
  const orders = figures.reduce((s, f) => s + f.orders, 0);
  const previousRevenue = figures.reduce((s, f) => s + f.previousRevenueVnd, 0);
  const previousOrders = figures.reduce((s, f) => s + f.previousOrders, 0);
  return {
    from,
    to,
    previousFrom: prev.from,
    previousTo: prev.to,
    branches: rankBranches(figures).map((f) => ({
      ...f,
      averageTicketVnd: f.orders ? Math.round(f.revenueVnd / f.orders) : 0,
      revenueShare: revenue ? f.revenueVnd / revenue : 0,
      revenueChange: change(f.revenueVnd, f.previousRevenueVnd),
      ordersChange: change(f.orders, f.previousOrders),
    })),
    totals: {
      branches: figures.length,
      revenueVnd: revenue,
      orders,
      averageTicketVnd: orders ? Math.round(revenue / orders) : 0,
      previousRevenueVnd: previousRevenue,
      previousOrders,
      revenueChange: change(revenue, previousRevenue),
      ordersChange: change(orders, previousOrders),
    },
  };
}
