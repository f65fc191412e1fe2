import { LRUCache } from "lru-cache";
import { z } from "zod";
import { AppError } from "./errors.js";
import { invokeService, type SidecarPorts } from "./dapr.js";
import { systemHeaders, type Identity } from "./identity.js";

const LocationSettings = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string(),
  timeZone: z.string(),
  cutoverHour: z.number().int().min(0).max(23),
});
export type LocationSettings = z.infer<typeof LocationSettings>;

const TTL_MS = 60_000;
/** An unknown location is remembered too, so that junk ids cost auth one lookup, not one each. */
const NEGATIVE_TTL_MS = 30_000;

type Entry = { settings: LocationSettings } | { missing: true };
const cache = new LRUCache<string, Entry, SidecarPorts>({
  max: 10_000,
  ttl: TTL_MS,
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
  if (!entry || "missing" in entry) throw new AppError("NOT_FOUND", `location ${locationId} not found`);
  return entry.settings;
}
