import { sql, type Kysely } from "kysely";
import type { DashboardUpdated } from "@lsp/contracts";
import { fetchLocation } from "@lsp/locations";
import { withTenantForEvent } from "@lsp/db";
import type { EventHandlers, SidecarPorts } from "@lsp/dapr";
import type { Logger } from "@lsp/runtime";
import type { NotificationsDB } from "./db.js";
import { notify } from "./feed.js";
import { fetchOrderItems } from "./sales.js";
import * as t from "./templates.js";

export interface HandlerDeps {
  db: Kysely<NotificationsDB>;
  ports: SidecarPorts;
  log: Logger;
}

const system = (tenantId: string) => ({ tenantId, role: "system" as const });

/** Payment, AI and anomaly events → feed entries in Vietnamese, in the location's time zone. */
export function eventHandlers(deps: HandlerDeps): EventHandlers {
  const zone = async (tenantId: string, locationId: string) =>
    (await fetchLocation(deps.ports, system(tenantId), locationId)).timeZone;
  return {
    "payment.succeeded": async (eventId, e) => {
      // Payments sends the items along; older events without them are completed from sales.
      const items = e.items ?? (await fetchOrderItems(deps.ports, e.tenantId, e.orderId));
      const rendered = t.paymentSucceeded(e, items, await zone(e.tenantId, e.locationId));
      await notify(deps.db, eventId, e, rendered);
    },
    "payment.failed": async (eventId, e) => {
      await notify(deps.db, eventId, e, t.paymentFailed(e, await zone(e.tenantId, e.locationId)));
    },
    "ai.recommendation.created": async (eventId, e) => {
      await notify(deps.db, eventId, e, t.recommendation(e));
    },
    "ai.anomaly.detected": async (eventId, e) => {
      await notify(deps.db, eventId, e, t.anomaly(e, await zone(e.tenantId, e.locationId)));
    },
    "dashboard.updated": async (_eventId, e) => {
      await recordDayTotals(deps.db, e);
    },
  };
}

/** Keeps the latest figures of a business day; events may arrive out of order, so never go back. */
export async function recordDayTotals(db: Kysely<NotificationsDB>, e: DashboardUpdated): Promise<void> {
  await withTenantForEvent(db, e.tenantId, (trx) =>
    trx
      .insertInto("day_totals")
      .values({
        tenant_id: e.tenantId,
        location_id: e.locationId,
        business_day: e.businessDay,
        revenue_vnd: e.revenueVnd,
        orders: e.orders,
      })
      .onConflict((c) =>
        c.constraint("day_totals_pk").doUpdateSet({
          revenue_vnd: sql<number>`greatest(day_totals.revenue_vnd, excluded.revenue_vnd)`,
          orders: sql<number>`greatest(day_totals.orders, excluded.orders)`,
        }),
      )
      .execute(),
  );
}
