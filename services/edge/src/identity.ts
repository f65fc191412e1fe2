import jwt from "jsonwebtoken";
import { z } from "zod";
import { AppError, toAppError, type Identity, type SidecarPorts } from "@lsp/service-kit";
import { JwksCache } from "./jwks.js";
import { resolveTenant, tenantSlugOf } from "./tenants.js";

/** The claims auth puts in an access token (services/auth/src/tokens.ts). */
const Claims = z.object({
  sub: z.uuid(),
  tid: z.uuid(),
  role: z.enum(["owner", "manager", "staff"]),
  locs: z.array(z.uuid()).optional(),
});
const ISSUER = "lsp-auth";
const AUDIENCE = "lsp";

export interface CallerCredentials {
  host: string | null;
  xTenant: string | null;
  /** `Bearer <jwt>` (or the bare token, as graphql-ws clients often send it). */
  authorization: string | null;
}

/** Checks an access token's signature (ES256, by kid), expiry, issuer and audience. */
export async function verifyAccessToken(jwks: JwksCache, token: string): Promise<z.infer<typeof Claims>> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === "string")
    throw new AppError("TOKEN_INVALID", "malformed access token");
  const kid = decoded.header.kid;
  if (!kid) throw new AppError("TOKEN_INVALID", "access token without kid");
  const key = await jwks.keyFor(kid);
  let payload: unknown;
  try {
    payload = jwt.verify(token, key, { algorithms: ["ES256"], issuer: ISSUER, audience: AUDIENCE });
  } catch (err) {
    if (err instanceof jwt.TokenExpiredError)
      throw new AppError("TOKEN_EXPIRED", "access token expired: refresh it");
    throw new AppError("TOKEN_INVALID", "access token rejected");
  }
  const claims = Claims.safeParse(payload);
  if (!claims.success) throw new AppError("TOKEN_INVALID", "access token has unexpected claims");
  return claims.data;
}

export interface Authenticator {
  /** The caller's identity, or throws a typed AppError (NOT_FOUND tenant, TOKEN_*, WRONG_TENANT…). */
  authenticate: (credentials: CallerCredentials) => Promise<Identity>;
  jwks: JwksCache;
}

export function createAuthenticator(ports: SidecarPorts): Authenticator {
  const jwks = new JwksCache(ports);
  return {
    jwks,
    async authenticate({ host, xTenant, authorization }) {
      // The tenant of the address comes first: an unknown restaurant is NOT_FOUND for everyone.
      const slug = tenantSlugOf(host, xTenant);
      const tenant = slug ? await resolveTenant(ports, slug) : undefined;
      const token = authorization?.replace(/^Bearer\s+/i, "").trim();
      if (!token)
        throw new AppError(
          "UNAUTHENTICATED",
          tenant
            ? "log in first: send Authorization: Bearer <access token>"
            : "no tenant and no token: use <tenant>.<host> or the X-Tenant header, and log in",
        );
      const claims = await verifyAccessToken(jwks, token);
      if (tenant && claims.tid !== tenant.id)
        throw new AppError("WRONG_TENANT", "this token belongs to another restaurant");
      return {
        tenantId: claims.tid,
        userId: claims.sub,
        role: claims.role,
        ...(claims.locs ? { locationIds: claims.locs } : {}),
      };
    },
  };
}

/**
 * The identity of a request, resolved once: a function that returns it or throws the reason it
 * has none (so that a query that needs no identity still works).
 */
export async function identityOfRequest(
  authenticator: Authenticator,
  credentials: CallerCredentials,
): Promise<() => Identity> {
  try {
    const identity = await authenticator.authenticate(credentials);
    return () => identity;
  } catch (err) {
    const failure = toAppError(err);
    return () => {
      throw failure;
    };
  }
}

const ConnectionParams = z
  .object({
    authorization: z.string().optional(),
    Authorization: z.string().optional(),
    token: z.string().optional(),
    tenant: z.string().optional(),
    "x-tenant": z.string().optional(),
  })
  .passthrough();

/**
 * graphql-ws: the identity of a socket from its `connectionParams` (`{ authorization: "Bearer …",
 * tenant?: "<slug>" }`, or `token`), with the Host of the upgrade request for the subdomain.
 * Call it in `onConnect` (refuse the socket when it throws) or in `context`.
 */
export async function identityFromConnectionParams(
  authenticator: Authenticator,
  params: unknown,
  upgradeHost: string | null,
): Promise<Identity> {
  const p = ConnectionParams.safeParse(params ?? {});
  if (!p.success) throw new AppError("UNAUTHENTICATED", "connectionParams must be an object");
  const bearer = p.data.authorization ?? p.data.Authorization ?? p.data.token ?? null;
  return authenticator.authenticate({
    host: upgradeHost,
    xTenant: p.data.tenant ?? p.data["x-tenant"] ?? null,
    authorization: bearer,
  });
}
