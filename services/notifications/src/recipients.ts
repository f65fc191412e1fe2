import type { Transaction } from "kysely";
import { notificationRecipientOf } from "@lsp/contracts";
import type { NotificationsDB } from "./db.js";
import type { Kind } from "./templates.js";

/** See notificationRecipientOf (shared with the edge's notificationReceived filter). */
export const recipientIdOf = notificationRecipientOf;

export interface Recipient {
  userId: string;
  pushEnabled: boolean;
  pushToken: string | null;
  quietStartMinute: number | null;
  quietEndMinute: number | null;
}

const OWNERS_DEFAULT = (tenantId: string): Recipient => ({
  userId: tenantId,
  pushEnabled: false,
  pushToken: null,
  quietStartMinute: null,
  quietEndMinute: null,
});

/**
 * Who gets a notification of `kind` about `locationId`: every user of the tenant with preferences
 * that neither mute the kind nor exclude the location, and the tenant's owners (their shared feed,
 * see recipientIdOf) unless the owners' own preferences say otherwise. Nobody else's preferences
 * can silence the owners: that a member saved preferences says nothing about the owners' wishes.
 */
export async function recipientsFor(
  trx: Transaction<NotificationsDB>,
  tenantId: string,
  locationId: string | undefined,
  kind: Kind,
): Promise<Recipient[]> {
  const rows = await trx.selectFrom("preferences").selectAll().where("tenant_id", "=", tenantId).execute();
  const chosen = rows
    .filter((r) => !r.muted_kinds.includes(kind))
    .filter((r) => !locationId || r.location_ids === null || r.location_ids.includes(locationId))
    .map((r) => ({
      userId: r.user_id,
      pushEnabled: r.push_enabled,
      pushToken: r.push_token,
      quietStartMinute: r.quiet_start_minute,
      quietEndMinute: r.quiet_end_minute,
    }));
  const ownersSaved = rows.some((r) => r.user_id === tenantId);
  return ownersSaved ? chosen : [OWNERS_DEFAULT(tenantId), ...chosen];
}
