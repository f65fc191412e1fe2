import { z } from "zod";
import { AppError } from "./errors.js";
import { invokeService, type SidecarPorts } from "./dapr.js";
import { identityHeaders, type Identity } from "./identity.js";

const LocationSettings = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string(),
  timeZone: z.string(),
  cutoverHour: z.number().int().min(0).max(23),
});
export type LocationSettings = z.infer<typeof LocationSettings>;

const TTL_MS = 60_000;
const cache = new Map<string, { at: number; value: LocationSettings }>();

/**
 * A location's settings (tenant, time zone, cut-over) from auth, which owns locations, through
 * Dapr service invocation; cached briefly because they change rarely and orders need them often.
 */
export async function fetchLocation(
  ports: SidecarPorts,
  who: Identity,
  locationId: string,
): Promise<LocationSettings> {
  const key = `${who.tenantId}/${locationId}`;
  const hit = cache.get(key);
  if (hit && Date.now() - hit.at < TTL_MS) return hit.value;
  const res = await invokeService(ports, "auth", `v1/locations/${encodeURIComponent(locationId)}`, {
    headers: identityHeaders(who),
  });
  if (res.status === 404 || res.status === 400)
    throw new AppError("NOT_FOUND", `location ${locationId} not found`);
  if (!res.ok) throw new AppError("UNAVAILABLE", `auth answered ${res.status}`);
  const value = LocationSettings.parse(await res.json());
  cache.set(key, { at: Date.now(), value });
  return value;
}
