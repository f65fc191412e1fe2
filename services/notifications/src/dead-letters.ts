import type { Express } from "express";
import type { Kysely } from "kysely";
import { z } from "zod";
import { AppError, type Logger } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { NotificationsDB } from "./db.js";

/** The dead-letter topic of each topic notifications subscribes to (see components/local). */
export const DEAD_LETTER_TOPICS = {
  "payments-notifications-deadletter": "payments",
  "ai-notifications-deadletter": "ai",
  "notifications-push-deadletter": "notifications",
  "dashboard-notifications-deadletter": "dashboard",
} as const;

const CloudEvent = z.looseObject({ id: z.string().min(1), type: z.string().min(1), data: z.unknown() });

/** Stores every message Dapr dead-lettered, keyed by (original topic, event id). */
export function mountDeadLetterRoutes(app: Express, db: Kysely<NotificationsDB>, log: Logger): void {
  app.post("/deadletters/:topic", async (req, res) => {
    const original = DEAD_LETTER_TOPICS[req.params.topic as keyof typeof DEAD_LETTER_TOPICS];
    const event = CloudEvent.safeParse(req.body);
    if (!original || !event.success) {
      log.error({ topic: req.params.topic }, "unusable dead letter; dropping");
      res.json({ status: "DROP" });
      return;
    }
    const data = event.data.data as { tenantId?: unknown } | undefined;
    const tenantId = z.uuid().safeParse(data?.tenantId);
    const store = (into: Kysely<NotificationsDB>) =>
      into
        .insertInto("dead_letters")
        .values({
          tenant_id: tenantId.success ? tenantId.data : null,
          topic: original,
          event_id: event.data.id,
          event_type: event.data.type,
          cloud_event: JSON.stringify(event.data),
        })
        // Dead-lettered again after a failed replay: keep one row, waiting again.
        .onConflict((c) => c.constraint("dead_letters_topic_event").doUpdateSet({ replayed_at: null }))
        .execute();
    // Row-level security: a tenant's dead letter is written in its transaction; one that names
    // no valid tenant outside any (see migration 0003).
    await (tenantId.success ? withTenant(db, tenantId.data, store) : store(db));
    log.warn({ topic: original, eventId: event.data.id, type: event.data.type }, "dead letter stored");
    res.json({ status: "SUCCESS" });
  });
}

export interface DeadLetterView {
  id: string;
  topic: string;
  eventId: string;
  eventType: string;
  data: string;
  receivedAt: string;
  replayedAt: string | null;
  replays: number;
}

type Row = {
  id: string;
  topic: string;
  event_id: string;
  event_type: string;
  cloud_event: unknown;
  received_at: Date;
  replayed_at: Date | null;
  replays: number;
};
const view = (r: Row): DeadLetterView => ({
  id: r.id,
  topic: r.topic,
  eventId: r.event_id,
  eventType: r.event_type,
  data: JSON.stringify((r.cloud_event as { data?: unknown }).data ?? null),
  receivedAt: r.received_at.toISOString(),
  replayedAt: r.replayed_at?.toISOString() ?? null,
  replays: r.replays,
});

export async function listDeadLetters(
  db: Kysely<NotificationsDB>,
  tenantId: string,
  includeReplayed: boolean,
): Promise<DeadLetterView[]> {
  return withTenant(db, tenantId, async (trx) => {
    let q = trx.selectFrom("dead_letters").selectAll().where("tenant_id", "=", tenantId);
    if (!includeReplayed) q = q.where("replayed_at", "is", null);
    return (await q.orderBy("received_at", "desc").limit(200).execute()).map(view);
  });
}

/** Runs one stored event through notifications' own handler of its original topic again. */
export type Redeliver = (topic: string, eventId: string, type: string, data: unknown) => Promise<void>;

/**
 * Hands a dead letter to notifications' own handler of its original topic again (the same event
 * id, so a handler that already applied it skips it) and marks it replayed. It is not published
 * again: the topic belongs to its producer (payments, ai, dashboard), whose other consumers must
 * not see it twice, and notifications may publish only its own topics (components/access.yaml).
 */
export async function replayDeadLetter(
  deps: { db: Kysely<NotificationsDB>; redeliver: Redeliver },
  tenantId: string,
  id: string,
): Promise<DeadLetterView> {
  const row = await withTenant(deps.db, tenantId, (trx) =>
    trx
      .selectFrom("dead_letters")
      .selectAll()
      .where("id", "=", id)
      .where("tenant_id", "=", tenantId)
      .executeTakeFirst(),
  );
  if (!row) throw new AppError("NOT_FOUND", `dead letter ${id} not found`);
  const { id: eventId, type, data } = row.cloud_event as { id: string; type: string; data: unknown };
  await deps.redeliver(row.topic, eventId, type, data);
  const updated = await withTenant(deps.db, tenantId, (trx) =>
    trx
      .updateTable("dead_letters")
      .set((eb) => ({ replayed_at: new Date(), replays: eb("replays", "+", 1) }))
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  return view(updated);
}
