import { sql, type Kysely } from "kysely";
import type { OrderCreated } from "@lsp/contracts";
import { claimEvent, withTenant } from "@lsp/service-kit";
import type { DashboardDB } from "./db.js";

/** Applies `order.created` once per event id (redeliveries and replays change nothing). */
export async function applyOrderCreated(
  db: Kysely<DashboardDB>,
  eventId: string,
  e: OrderCreated,
): Promise<boolean> {
  return withTenant(db, e.tenantId, async (trx) => {
    if (!(await claimEvent(trx, eventId))) return false;
    await trx
      .insertInto("location_days")
      .values({
        tenant_id: e.tenantId,
        location_id: e.locationId,
        business_day: e.businessDay,
        revenue_vnd: e.totalVnd,
        orders: 1,
      })
      .onConflict((c) =>
        c.columns(["tenant_id", "location_id", "business_day"]).doUpdateSet({
          revenue_vnd: sql`location_days.revenue_vnd + excluded.revenue_vnd`,
          orders: sql`location_days.orders + 1`,
          updated_at: sql`now()`,
        }),
      )
      .execute();
    return true;
  });
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
  const byKey = new Map(rows.map((r) => [`${r.location_id}/${r.business_day}`, r]));
  return keys.map((k) => {
    const r = byKey.get(`${k.locationId}/${k.businessDay}`);
    return { revenueVnd: r?.revenue_vnd ?? 0, orders: r?.orders ?? 0 };
  });
}
