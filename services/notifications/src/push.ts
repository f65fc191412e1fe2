import type { Kysely } from "kysely";
import { Counter } from "prom-client";
import type { NotificationCreated } from "@lsp/contracts";
import { claimEvent, withTenant } from "@lsp/db";
import { fetchLocation } from "@lsp/locations";
import { invokeBinding, type SidecarPorts } from "@lsp/dapr";
import { registry, type Logger } from "@lsp/runtime";
import type { NotificationsDB } from "./db.js";
import { inQuietHours } from "./quiet-hours.js";

/** The Dapr output binding that delivers pushes (FCM HTTP v1 in production, a local sink in dev). */
export const PUSH_BINDING = "push";

const pushesTotal = new Counter({
  name: "notifications_push_total",
  help: "Push decisions by result (sent, quiet_hours, disabled, no_token)",
  labelNames: ["result"] as const,
  registers: [registry],
});

/** An FCM HTTP v1 `messages:send` body; `data` values must be strings. */
export function fcmMessage(token: string, n: NotificationCreated) {
  return {
    message: {
      token,
      notification: { title: n.title, body: n.body },
      data: {
        notificationId: n.notificationId,
        kind: n.kind,
        tenantId: n.tenantId,
        ...(n.locationId ? { locationId: n.locationId } : {}),
        createdAt: n.createdAt,
      },
      android: { priority: "HIGH", notification: { channel_id: n.kind, tag: n.notificationId } },
      apns: { headers: { "apns-priority": "10" }, payload: { aps: { sound: "default" } } },
    },
  };
}

export type PushResult = "sent" | "quiet_hours" | "disabled" | "no_token" | "duplicate";

/**
 * Pushes one feed entry to its user's device unless their preferences say otherwise (push off,
 * quiet hours on the location's clock). A binding failure throws: the subscription answers 500,
 * Dapr retries by its resiliency policy and finally dead-letters the message.
 */
export async function pushNotification(
  deps: { db: Kysely<NotificationsDB>; ports: SidecarPorts; log: Logger },
  eventId: string,
  n: NotificationCreated,
  now = new Date(),
): Promise<PushResult> {
  const result = await withTenant(deps.db, n.tenantId, async (trx): Promise<PushResult> => {
    // Claimed in the same transaction: a failed send rolls the claim back, so a retry sends.
    if (!(await claimEvent(trx, `push:${eventId}`))) return "duplicate";
    const prefs = await trx
      .selectFrom("preferences")
      .selectAll()
      .where("tenant_id", "=", n.tenantId)
      .where("user_id", "=", n.userId)
      .executeTakeFirst();
    if (!prefs || !prefs.push_enabled) return "disabled";
    if (!prefs.push_token) return "no_token";
    if (prefs.quiet_start_minute !== null && prefs.quiet_end_minute !== null) {
      const timeZone = n.locationId
        ? (await fetchLocation(deps.ports, { tenantId: n.tenantId, role: "system" }, n.locationId)).timeZone
        : "Asia/Ho_Chi_Minh";
      const quiet = { startMinute: prefs.quiet_start_minute, endMinute: prefs.quiet_end_minute };
      if (inQuietHours(now, timeZone, quiet)) return "quiet_hours";
    }
    const res = await invokeBinding(deps.ports, PUSH_BINDING, {
      operation: "post",
      data: fcmMessage(prefs.push_token, n),
    });
    if (!res.ok) throw new Error(`push binding answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return "sent";
  });
  pushesTotal.inc({ result });
  return result;
}
