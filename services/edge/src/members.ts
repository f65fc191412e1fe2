import type { Express } from "express";
import { LRUCache } from "lru-cache";
import type { MemberChanged } from "@lsp/contracts";
import { AppError, type Logger } from "@lsp/runtime";
import { subscriptionRoute } from "@lsp/dapr";
import type { Identity } from "@lsp/identity";

/** How long a change is remembered: longer than any access token lives (15 minutes). */
const REMEMBER_MS = 20 * 60_000;

/**
 * Membership changes from auth (`member.changed` on the `members` topic, subscription
 * `edge-members`): the member's open sockets are closed at once, and their access tokens issued
 * before the change stop working here (a removed member's token would otherwise live on for up
 * to 15 minutes; a new login carries the new role or branches).
 */
export function memberChanges(log: Logger) {
  const changedAt = new LRUCache<string, number>({ max: 100_000, ttl: REMEMBER_MS });
  const key = (tenantId: string, userId: string) => `${tenantId}/${userId}`;
  return {
    mount(app: Express, closeSocketsOf: (tenantId: string, userId: string, reason: string) => number) {
      subscriptionRoute(
        app,
        "/events/members",
        {
          "member.changed": async (_eventId: string, change: MemberChanged) => {
            const at = Date.parse(change.occurredAt);
            const k = key(change.tenantId, change.userId);
            changedAt.set(k, Math.max(at, changedAt.get(k) ?? 0));
            closeSocketsOf(change.tenantId, change.userId, `membership ${change.change.replace("_", " ")}`);
            log.info(
              { tenantId: change.tenantId, userId: change.userId, change: change.change },
              "member changed",
            );
          },
        },
        log,
      );
    },
    /** Throws when the identity's token was issued before its member last changed. */
    check(identity: Identity, issuedAtMs: number): void {
      if (!identity.userId) return;
      const at = changedAt.get(key(identity.tenantId, identity.userId));
      if (at !== undefined && issuedAtMs <= at)
        throw new AppError("TOKEN_INVALID", "your membership changed: log in again");
    },
  };
}
export type MemberChanges = ReturnType<typeof memberChanges>;
