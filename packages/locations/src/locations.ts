import type { Express } from "express";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import type { LocationChanged } from "@lsp/contracts";
import { AppError, type Logger } from "@lsp/runtime";
import { invokeService, subscriptionRoute, type SidecarPorts } from "@lsp/dapr";
import { systemHeaders, type Identity } from "@lsp/identity";

const LocationSettings = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string(),
  timeZone: z.string(),
  cutoverHour: z.number().int().min(0).max(23),
});
export type LocationSettings = z.infer<typeof LocationSettings>;

// Settings change rarely and auth announces every change (location.changed, fed in below), so an
// entry past its TTL keeps serving while it is refreshed in the background (allowStale): only a
// location never seen by this process waits for auth.
const TTL_MS = 60_000;
/** An unknown location is remembered too, so that junk ids cost auth one lookup, not one each. */
const NEGATIVE_TTL_MS = 30_000;

type Entry = { settings: LocationSettings } | { missing: true };
const cache = new LRUCache<string, Entry, SidecarPorts>({
  max: 10_000,
  ttl: TTL_MS,
  allowStale: true,
  // When auth cannot answer, the last known settings keep serving (they change rarely).
  allowStaleOnFetchRejection: true,
  noDeleteOnFetchRejection: true,
  fetchMethod: async (key, _stale, { options, context: ports }) => {
    const [tenantId = "", locationId = ""] = key.split("/");
    const res = await invokeService(ports, "auth", `v1/locations/${locationId}`, {
      headers: systemHeaders(tenantId),
    });
    if (!res.ok) throw new AppError("UNAVAILABLE", `auth answered ${res.status}`);
    // auth answers `null` for a location that is not the tenant's (a 200: see auth's main.ts).
    const body: unknown = await res.json();
    if (body === null) {
      options.ttl = NEGATIVE_TTL_MS;
      return { missing: true };
    }
    return { settings: LocationSettings.parse(body) };
  },
});

/**
 * A location's settings (tenant, time zone, cut-over) from auth, which owns locations, through
 * Dapr service invocation as a system caller in `tenantId`; NOT_FOUND when the location is not
 * that tenant's. Branch scope is the caller's to check (canAccessLocation).
 */
export async function fetchLocation(
  ports: SidecarPorts,
  who: Pick<Identity, "tenantId"> & Partial<Identity>,
  locationId: string,
): Promise<LocationSettings> {
  if (!z.uuid().safeParse(locationId).success)
    throw new AppError("BAD_USER_INPUT", `location id "${locationId.slice(0, 64)}" is not a UUID`);
  const entry = await cache.fetch(`${who.tenantId}/${locationId}`, { context: ports });
  // No entry: auth could not answer and nothing was cached (allowStaleOnFetchRejection makes
  // fetch resolve undefined rather than throw). That is auth's outage, not an unknown location:
  // an event path must retry, never drop the event as "not the tenant's".
  if (!entry)
    throw new AppError("UNAVAILABLE", `cannot look up location ${locationId} now: auth does not answer`);
  if ("missing" in entry) throw new AppError("NOT_FOUND", `location ${locationId} not found`);
  return entry.settings;
}

/**
 * Takes a location's settings from auth's `location.changed` event: replaces what the cache
 * holds (a location remembered as unknown included), so a new or changed location is known
 * without asking auth.
 */
export function rememberLocation(changed: LocationChanged): void {
  cache.set(`${changed.tenantId}/${changed.locationId}`, {
    settings: {
      id: changed.locationId,
      tenantId: changed.tenantId,
      name: changed.name,
      timeZone: changed.timeZone,
      cutoverHour: changed.cutoverHour,
    },
  });
}

/**
 * Mounts `/events/locations` for the declarative subscription to the `locations` topic
 * (components/local/subscriptions.yaml): each location.changed refreshes the location cache.
 * Dapr delivers a message to one replica of an app; the other replicas' entries follow within
 * the TTL.
 */
export function locationChangesRoute(app: Express, log: Logger): void {
  subscriptionRoute(
    app,
    "/events/locations",
    {
      "location.changed": (_eventId, data) => {
        rememberLocation(data);
        return Promise.resolve();
      },
    },
    log,
  );
}
