import type { Express } from "express";
import { sql, type Kysely, type Transaction } from "kysely";
import { ZodError } from "zod";
import { isEventType, parseEvent, type EventPayload, type EventType } from "@lsp/contracts";
import type { Logger } from "./logger.js";

export type EventHandlers = { [T in EventType]?: (eventId: string, data: EventPayload<T>) => Promise<void> };

/**
 * Mounts a Dapr subscription endpoint. Known CloudEvent types are parsed against their contract
 * and handed to their handler; a payload that breaks its contract is dropped with an error log
 * (retrying cannot fix it); a handler failure answers 500 so that Dapr retries (resiliency) and
 * finally dead-letters it.
 */
export function subscriptionRoute(app: Express, path: string, handlers: EventHandlers, log: Logger): void {
  app.post(path, async (req, res) => {
    const { id, type, data } = (req.body ?? {}) as { id?: unknown; type?: unknown; data?: unknown };
    if (typeof id !== "string" || typeof type !== "string") {
      log.error({ path }, "not a CloudEvent; dropping");
      res.json({ status: "DROP" });
      return;
    }
    const handler = isEventType(type)
      ? (handlers[type] as ((id: string, d: unknown) => Promise<void>) | undefined)
      : undefined;
    if (!handler || !isEventType(type)) {
      res.json({ status: "SUCCESS" });
      return;
    }
    let payload: unknown;
    try {
      payload = parseEvent(type, data);
    } catch (err) {
      const issues = err instanceof ZodError ? err.issues : String(err);
      log.error({ eventId: id, type, issues }, "event breaks its contract; dropping");
      res.json({ status: "DROP" });
      return;
    }
    try {
      await handler(id, payload);
      res.json({ status: "SUCCESS" });
    } catch (err) {
      log.error({ err, eventId: id, type }, "event handler failed; Dapr will retry");
      res.status(500).json({ status: "RETRY" });
    }
  });
}

export interface ProcessedEventsTable {
  processed_events: { event_id: string; processed_at: Date };
}

/**
 * Claims an event id inside the handler's transaction. Returns false when it was processed
 * before (at-least-once delivery), so the caller skips it; the claim commits with the effects.
 */
export async function claimEvent<DB>(trx: Transaction<DB> | Kysely<DB>, eventId: string): Promise<boolean> {
  const result =
    await sql`INSERT INTO processed_events (event_id) VALUES (${eventId}) ON CONFLICT DO NOTHING`.execute(
      trx,
    );
  return Number(result.numAffectedRows ?? 0n) === 1;
}
