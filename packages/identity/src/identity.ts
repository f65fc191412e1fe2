import { z } from "zod";
import { AppError, toAppError } from "@lsp/runtime";
import { JwksCache, accessTokenVerifier, type AccessTokenVerifier } from "./access-token.js";
import type { SidecarPorts } from "@lsp/dapr";

/**
 * Who is calling a service. A user is who their access token says: the edge forwards the user's
 * own JWT (`Authorization: Bearer`), and every service verifies it against auth's keys, so nothing
 * inside the mesh can make up a user. A service is who Dapr says it is: the caller's sidecar sets
 * `dapr-caller-app-id` from its own app id (mTLS + access control make the hop authentic, and the
 * app token makes sure the request came through our sidecar), and only the app ids a service
 * names as its system callers get the `system` role, in the tenant they name.
 */
export interface Identity {
  tenantId: string;
  userId?: string;
  role?: "owner" | "manager" | "staff" | "system";
  /** Absent = every location of the tenant (owners, managers). */
  locationIds?: string[];
  /** For `system`: the Dapr app id of the calling service. */
  callerApp?: string;
}

/** Headers a system caller sends to name the tenant it acts in (trusted only from system callers). */
export const SYSTEM_TENANT_HEADER = "x-lsp-tenant-id";
/** Set by the caller's sidecar to the caller's app id (Dapr service invocation). */
export const CALLER_APP_HEADER = "dapr-caller-app-id";

type HeaderBag = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function header(headers: HeaderBag, name: string): string | undefined {
  // Fetch-style headers (Yoga's Request may come from a ponyfill, so no instanceof).
  if (typeof headers.get === "function")
    return (headers.get as (n: string) => string | null)(name) ?? undefined;
  const v = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A resolved caller: its identity (or the reason it has none) and how to call on its behalf. */
export interface Caller {
  /** The identity, or throws the typed reason there is none (a query that needs none still works). */
  identity: () => Identity;
  /** Headers that carry this same caller to another service (the user's token, or the system tenant). */
  forward: () => Record<string, string>;
}

export interface CallerReaderOptions {
  verify: AccessTokenVerifier;
  /** App ids that may call as `system` (e.g. payments and notifications for sales). */
  systemCallers: readonly string[];
}

/** Reads the caller of a request: a verified user token, or a system caller by Dapr app id. */
export function callerReader(opts: CallerReaderOptions) {
  return async function callerOf(headers: HeaderBag): Promise<Caller> {
    try {
      const authorization = header(headers, "authorization");
      if (authorization) {
        const token = authorization.replace(/^Bearer\s+/i, "").trim();
        const claims = await opts.verify(token);
        const identity: Identity = {
          tenantId: claims.tid,
          userId: claims.sub,
          role: claims.role,
          ...(claims.locs ? { locationIds: claims.locs } : {}),
        };
        return { identity: () => identity, forward: () => ({ authorization: `Bearer ${token}` }) };
      }
      const callerApp = header(headers, CALLER_APP_HEADER);
      if (callerApp && opts.systemCallers.includes(callerApp)) {
        const tenantId = z.uuid().safeParse(header(headers, SYSTEM_TENANT_HEADER));
        if (!tenantId.success)
          throw new AppError("BAD_USER_INPUT", `system call without a valid ${SYSTEM_TENANT_HEADER}`);
        const identity: Identity = { tenantId: tenantId.data, role: "system", callerApp };
        return { identity: () => identity, forward: () => systemHeaders(tenantId.data) };
      }
      throw new AppError("UNAUTHENTICATED", "no verified caller: log in first");
    } catch (err) {
      const failure = toAppError(err);
      const fail = (): never => {
        throw failure;
      };
      return { identity: fail, forward: fail };
    }
  };
}
export type CallerOf = ReturnType<typeof callerReader>;

/**
 * A service's caller reader: users by their access token (auth's keys fetched through Dapr, or
 * `ownKeys` in auth itself), services by app id among `systemCallers` (none by default).
 */
export function serviceCallers(
  ports: SidecarPorts,
  opts: { systemCallers?: readonly string[]; ownKeys?: () => Promise<unknown> } = {},
): CallerOf {
  const keys = new JwksCache(ports, opts.ownKeys);
  return callerReader({ verify: accessTokenVerifier(keys), systemCallers: opts.systemCallers ?? [] });
}

/** The headers of a system call in a tenant (the callee trusts them only from its system callers). */
export function systemHeaders(tenantId: string): Record<string, string> {
  return { [SYSTEM_TENANT_HEADER]: tenantId };
}

export function canAccessLocation(identity: Identity, locationId: string): boolean {
  return identity.locationIds === undefined || identity.locationIds.includes(locationId);
}
