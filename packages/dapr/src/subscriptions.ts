import type { Express } from "express";
import { ZodError } from "zod";
import { isEventType, parseEvent, type EventPayload, type EventType } from "@lsp/contracts";
import type { Logger } from "@lsp/runtime";

export type EventHandlers = { [T in EventType]?: (eventId: string, data: EventPayload<T>) => Promise<void> };

/** One delivered event, checked against its contract. */
export interface BulkEvent<T extends EventType = EventType> {
  entryId: string;
  eventId: string;
  type: T;
  data: EventPayload<T>;
}
export type BulkStatus = "SUCCESS" | "RETRY" | "DROP";

/**
 * What a delivered CloudEvent is to a route that handles `accepts`: an event to handle, or a
 * status to answer at once — DROP (not a CloudEvent, or its payload breaks its contract: retrying
 * cannot fix either; logged), SUCCESS (a type the route does not handle).
 */
function readDelivery(
  entryId: string,
  cloudEvent: unknown,
  accepts: (type: EventType) => boolean,
  path: string,
  log: Logger,
): BulkEvent | BulkStatus {
  const { id, type, data } = (cloudEvent ?? {}) as { id?: unknown; type?: unknown; data?: unknown };
  if (typeof id !== "string" || typeof type !== "string") {
    log.error({ path, entryId }, "not a CloudEvent; dropping");
    return "DROP";
  }
  if (!isEventType(type) || !accepts(type)) return "SUCCESS";
  try {
    return { entryId, eventId: id, type, data: parseEvent(type, data) };
  } catch (err) {
    const issues = err instanceof ZodError ? err.issues : String(err);
    log.error({ eventId: id, type, issues }, "event breaks its contract; dropping");
    return "DROP";
  }
}

/**
 * Mounts a Dapr subscription endpoint. Known CloudEvent types are parsed against their contract
 * and handed to their handler; a payload that breaks its contract is dropped with an error log
 * (retrying cannot fix it); a handler failure answers 500 so that Dapr retries (resiliency) and
 * finally dead-letters it.
 */
export function subscriptionRoute(app: Express, path: string, handlers: EventHandlers, log: Logger): void {
  app.post(path, async (req, res) => {
    const event = readDelivery("single", req.body, (type) => handlers[type] !== undefined, path, log);
    if (typeof event === "string") {
      res.json({ status: event });
      return;
    }
    const handler = handlers[event.type] as (id: string, d: unknown) => Promise<void>;
    try {
      await handler(event.eventId, event.data);
      res.json({ status: "SUCCESS" });
    } catch (err) {
      log.error({ err, eventId: event.eventId, type: event.type }, "event handler failed; Dapr will retry");
      res.status(500).json({ status: "RETRY" });
    }
  });
}

/**
 * Mounts a Dapr subscription endpoint for bulk delivery (`bulkSubscribe` on the Subscription):
 * Dapr posts up to `maxMessagesCount` events at once and the app answers a status per entry, so
 * a consumer can apply a burst in one transaction. Entries of `types` that keep their contract go
 * to `handle` together, which answers SUCCESS or RETRY per entry (throwing = RETRY for all);
 * other entries are answered as `subscriptionRoute` would. A single (non-bulk) delivery to the
 * same path is handled as a batch of one, so the route works whether or not the Subscription
 * enables bulk.
 */
export function bulkSubscriptionRoute(
  app: Express,
  path: string,
  types: readonly EventType[],
  handle: (events: BulkEvent[]) => Promise<Map<string, BulkStatus>>,
  log: Logger,
): void {
  app.post(path, async (req, res) => {
    const body = (req.body ?? {}) as { entries?: unknown };
    const bulk = Array.isArray(body.entries);
    const raw = bulk
      ? (body.entries as { entryId?: unknown; event?: unknown }[])
      : [{ entryId: "single", event: body }];
    const statuses = new Map<string, BulkStatus>();
    const events: BulkEvent[] = [];
    for (const entry of raw) {
      const entryId = typeof entry.entryId === "string" ? entry.entryId : "";
      const read = readDelivery(entryId, entry.event, (type) => types.includes(type), path, log);
      if (typeof read === "string") statuses.set(entryId, read);
      else events.push(read);
    }
    if (events.length) {
      try {
        for (const [entryId, status] of await handle(events)) statuses.set(entryId, status);
      } catch (err) {
        log.error({ err, events: events.length }, "bulk event handler failed; Dapr will redeliver");
        for (const e of events) statuses.set(e.entryId, "RETRY");
      }
    }
    if (bulk) {
      res.json({
        statuses: raw.map((e) => ({
          entryId: e.entryId,
          status: statuses.get(String(e.entryId)) ?? "RETRY",
        })),
      });
      return;
    }
    const status = statuses.get("single") ?? "RETRY";
    res.status(status === "RETRY" ? 500 : 200).json({ status });
  });
}
