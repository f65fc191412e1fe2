import { Counter } from "prom-client";
import type { OrderCreated } from "@lsp/contracts";
import { AppError, registry, type Logger } from "@lsp/runtime";
import { fetchLocation, type LocationSettings } from "@lsp/locations";
import type { BulkEvent, BulkStatus, SidecarPorts } from "@lsp/dapr";
import type { Identity } from "@lsp/identity";

const rejectedEvents = new Counter({
  name: "dashboard_events_rejected_total",
  help: "Order events dropped because their tenant and location do not match auth's records (a contract violation; each is logged)",
  labelNames: ["type"] as const,
  registers: [registry],
});

/** Whether a location is the tenant's: its settings, null when auth says it is not (NOT_FOUND). */
export type LocationLookup = (tenantId: string, locationId: string) => Promise<LocationSettings | null>;

/** The lookup the service uses: auth's location settings (@lsp/locations' fetchLocation, cached). */
export function authLocations(ports: SidecarPorts): LocationLookup {
  return async (tenantId, locationId) => {
    const who: Identity = { tenantId, role: "system" };
    try {
      return await fetchLocation(ports, who, locationId);
    } catch (err) {
      if (err instanceof AppError && err.code === "NOT_FOUND") return null;
      throw err; // auth unreachable: not the event's fault, let Dapr redeliver
    }
  };
}

type Handler = (events: BulkEvent[]) => Promise<Map<string, BulkStatus>>;

/**
 * Wraps the order-event handler so that it sees only events whose claims hold: the location is
 * one of the tenant's, as auth (which owns locations) records it. Anything else is a contract
 * violation (a forged or misrouted event): logged, counted and answered DROP, never retried and
 * never applied, so it can move no figure of any tenant. When auth cannot answer, the events of
 * that location are answered RETRY (Dapr redelivers; auth being down is not the event's fault).
 */
export function acceptOnlyKnownLocations(handle: Handler, lookup: LocationLookup, log: Logger): Handler {
  return async (events) => {
    const statuses = new Map<string, BulkStatus>();
    const verdicts = new Map<string, Promise<boolean | "unavailable">>();
    const verdictOf = (tenantId: string, locationId: string) => {
      const key = `${tenantId}/${locationId}`;
      let verdict = verdicts.get(key);
      if (!verdict) {
        verdict = lookup(tenantId, locationId).then(
          (location) => location !== null && location.tenantId === tenantId,
          (err: unknown) => {
            log.warn(
              { err, tenantId, locationId },
              "cannot check an order event's location; Dapr will redeliver",
            );
            return "unavailable" as const;
          },
        );
        verdicts.set(key, verdict);
      }
      return verdict;
    };
    const data = (e: BulkEvent) => e.data as Pick<OrderCreated, "tenantId" | "locationId" | "orderId">;
    const verdictsInOrder = await Promise.all(
      events.map((e) => verdictOf(data(e).tenantId, data(e).locationId)),
    );
    const trusted: BulkEvent[] = [];
    events.forEach((e, i) => {
      const verdict = verdictsInOrder[i];
      if (verdict === true) trusted.push(e);
      else if (verdict === "unavailable") statuses.set(e.entryId, "RETRY");
      else {
        rejectedEvents.inc({ type: e.type });
        log.warn(
          { eventId: e.eventId, type: e.type, ...data(e) },
          "order event for a location that is not its tenant's: contract violation, dropped",
        );
        statuses.set(e.entryId, "DROP");
      }
    });
    if (trusted.length > 0) for (const [entry, status] of await handle(trusted)) statuses.set(entry, status);
    return statuses;
  };
}
