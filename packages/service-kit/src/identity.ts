import { z } from "zod";
import { AppError } from "./errors.js";

/**
 * The caller's identity as the edge forwards it to services (after verifying the JWT and the
 * tenant). Services trust these headers only because nothing but the edge's sidecar can reach
 * them; they still scope every query by it.
 */
export const IDENTITY_HEADERS = {
  tenantId: "x-lsp-tenant-id",
  userId: "x-lsp-user-id",
  role: "x-lsp-role",
  locationIds: "x-lsp-location-ids",
} as const;

const Identity = z.object({
  tenantId: z.uuid(),
  userId: z.string().optional(),
  role: z.enum(["owner", "manager", "staff", "system"]).optional(),
  /** Absent = every location of the tenant (owners, managers). */
  locationIds: z.array(z.uuid()).optional(),
});
export type Identity = z.infer<typeof Identity>;

type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function header(headers: HeaderBag, name: string): string | undefined {
  // Fetch-style headers (Yoga's Request may come from a ponyfill, so no instanceof).
  if (typeof headers.get === "function")
    return (headers.get as (n: string) => string | null)(name) ?? undefined;
  const v = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Reads the forwarded identity; throws UNAUTHENTICATED when there is none or it is malformed. */
export function identityFromHeaders(headers: HeaderBag): Identity {
  const raw = {
    tenantId: header(headers, IDENTITY_HEADERS.tenantId),
    userId: header(headers, IDENTITY_HEADERS.userId),
    role: header(headers, IDENTITY_HEADERS.role),
    locationIds: header(headers, IDENTITY_HEADERS.locationIds)?.split(",").filter(Boolean),
  };
  const parsed = Identity.safeParse(raw);
  if (!parsed.success) throw new AppError("UNAUTHENTICATED", "missing or invalid caller identity");
  return parsed.data;
}

export function canAccessLocation(identity: Identity, locationId: string): boolean {
  return identity.locationIds === undefined || identity.locationIds.includes(locationId);
}

/** The headers that carry an identity to the next service (the inverse of identityFromHeaders). */
export function identityHeaders(identity: Identity): Record<string, string> {
  const h: Record<string, string> = { [IDENTITY_HEADERS.tenantId]: identity.tenantId };
  if (identity.userId) h[IDENTITY_HEADERS.userId] = identity.userId;
  if (identity.role) h[IDENTITY_HEADERS.role] = identity.role;
  if (identity.locationIds) h[IDENTITY_HEADERS.locationIds] = identity.locationIds.join(",");
  return h;
}

/**
 * The user a caller is in the notification feed. The owners of a tenant share one feed, addressed
 * by the tenant id (notifications reaches "the owner" of a tenant where nobody set preferences,
 * without asking auth who that is); managers and staff have their own, by user id.
 */
export function notificationRecipientOf(identity: Identity): string {
  if (identity.role === "owner") return identity.tenantId;
  return identity.userId ?? identity.tenantId;
}
