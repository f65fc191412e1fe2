import { sql, type Kysely } from "kysely";
import { businessDay } from "@lsp/contracts";
import { fetchLocation } from "@lsp/locations";
import { withTenant } from "@lsp/db";
import type { Logger } from "@lsp/runtime";
import type { SidecarPorts } from "@lsp/dapr";
import type { NotificationsDB } from "./db.js";
import { notify } from "./feed.js";
import { dailyDigest } from "./templates.js";

/**
 * The daily digest: for every location whose business day has closed (its cut-over passed on its
 * own clock) and has not had its digest, one Vietnamese summary to its recipients. Run by the
 * `digest-cron` input binding; safe to run often (each digest is an idempotent event id).
 */
export async function sendDueDigests(
  deps: { db: Kysely<NotificationsDB>; ports: SidecarPorts; log: Logger },
  now = new Date(),
): Promise<number> {
  // day_totals has row-level security: the owner-defined lookup names the tenants with a day
  // waiting (tenant ids only); each tenant's days are read and marked in its own transaction.
  const tenants = (
    await sql<{ tenant_id: string }>`SELECT tenant_id FROM digest_pending_tenants() AS tenant_id`.execute(
      deps.db,
    )
  ).rows.map((r) => r.tenant_id);
  const pending = [];
  for (const tenantId of tenants)
    pending.push(
      ...(await withTenant(deps.db, tenantId, (trx) =>
        trx
          .selectFrom("day_totals")
          .selectAll()
          .where("digest_sent_at", "is", null)
          .orderBy("business_day")
          .limit(500)
          .execute(),
      )),
    );
  pending.sort((a, b) => a.business_day.localeCompare(b.business_day)).splice(500);
  let sent = 0;
  for (const day of pending) {
    try {
      const location = await fetchLocation(
        deps.ports,
        { tenantId: day.tenant_id, role: "system" },
        day.location_id,
      );
      if (day.business_day >= businessDay(now, location.cutoverHour, location.timeZone)) continue;
      const rendered = dailyDigest({
        businessDay: day.business_day,
        revenueVnd: day.revenue_vnd,
        orders: day.orders,
        locationName: location.name,
      });
      await notify(
        deps.db,
        `digest:${day.location_id}:${day.business_day}`,
        { tenantId: day.tenant_id, locationId: day.location_id },
        rendered,
      );
      await withTenant(deps.db, day.tenant_id, (trx) =>
        trx
          .updateTable("day_totals")
          .set({ digest_sent_at: now })
          .where("location_id", "=", day.location_id)
          .where("business_day", "=", day.business_day)
          .execute(),
      );
      sent++;
    } catch (err) {
      deps.log.warn(
        { err, locationId: day.location_id, day: day.business_day },
        "digest not sent; next run retries",
      );
    }
  }
  return sent;
}
