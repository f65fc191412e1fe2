import type { Kysely } from "kysely";
import { claimEvent, enqueueEvent, withTenantForEvent } from "@lsp/db";
import type { NotificationsDB } from "./db.js";
import { recipientsFor } from "./recipients.js";
import type { Rendered } from "./templates.js";

/**
 * Writes one feed entry per recipient for an incoming event, once per event id, each with its
 * `notification.created` event (outbox) that feeds push and the edge's live subscription.
 * Returns how many entries were written (0 for a redelivered event).
 */
export async function notify(
  db: Kysely<NotificationsDB>,
  eventId: string,
  target: { tenantId: string; locationId?: string },
  rendered: Rendered,
): Promise<number> {
  // Written for an event the broker redelivers until this returns: committed without holding
  // the locks through an fsync, and durable before returning (@lsp/db withTenantForEvent).
  return withTenantForEvent(db, target.tenantId, async (trx) => {
    if (!(await claimEvent(trx, eventId))) return 0;
    const recipients = await recipientsFor(trx, target.tenantId, target.locationId, rendered.kind);
    for (const r of recipients) {
      const row = await trx
        .insertInto("notifications")
        .values({
          tenant_id: target.tenantId,
          user_id: r.userId,
          location_id: target.locationId ?? null,
          kind: rendered.kind,
          title: rendered.title.slice(0, 300),
          body: rendered.body.slice(0, 2000),
          source_event_id: eventId,
        })
        .returning(["id", "created_at"])
        .executeTakeFirstOrThrow();
      await enqueueEvent(trx, "notification.created", {
        notificationId: row.id,
        tenantId: target.tenantId,
        userId: r.userId,
        ...(target.locationId ? { locationId: target.locationId } : {}),
        kind: rendered.kind,
        title: rendered.title.slice(0, 300),
        body: rendered.body.slice(0, 2000),
        createdAt: row.created_at.toISOString(),
      });
    }
    return recipients.length;
  });
}
