import { AppError, toAppError } from "@lsp/runtime";
import { JwksCache, accessTokenVerifier, type AccessClaims, type Caller, type Identity } from "@lsp/identity";
import type { SidecarPorts } from "@lsp/dapr";
import { resolveTenant, tenantSlugOf } from "./tenants.js";

export interface CallerCredentials {
  host: string | null;
  xTenant: string | null;
  /** `Bearer <jwt>` (or the bare token, as graphql-ws clients often send it). */
  authorization: string | null;
}

/** A verified caller of the edge: who, with which token (forwarded as is), valid until when. */
export interface Authenticated {
  identity: Identity;
  token: string;
  expiresAt: number;
}

export interface Authenticator {
  /** The caller, or throws a typed AppError (NOT_FOUND tenant, TOKEN_*, WRONG_TENANT…). */
  authenticate: (credentials: CallerCredentials) => Promise<Authenticated>;
}

function identityOf(claims: AccessClaims): Identity {
  return {
    tenantId: claims.tid,
    userId: claims.sub,
    role: claims.role,
    ...(claims.locs ? { locationIds: claims.locs } : {}),
  };
}

export function createAuthenticator(
  ports: SidecarPorts,
  /** Refuses tokens issued before the member's last change (members.ts). */
  stillMember: (identity: Identity, issuedAtMs: number) => void = () => undefined,
): Authenticator {
  const verify = accessTokenVerifier(new JwksCache(ports));
  return {
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
      const claims = await verify(token);
      if (tenant && claims.tid !== tenant.id)
        throw new AppError("WRONG_TENANT", "this token belongs to another restaurant");
      const identity = identityOf(claims);
      stillMember(identity, (claims.iat ?? 0) * 1000);
      return { identity, token, expiresAt: claims.exp * 1000 };
    },
  };
}

/**
 * The caller of a request, resolved once: its identity (or the reason it has none, thrown when
 * asked, so that a query that needs no identity still works) and the headers that carry the same
 * caller to a service — the user's own access token, which the service verifies again.
 */
export async function callerOfRequest(
  authenticator: Authenticator,
  credentials: CallerCredentials,
): Promise<Caller> {
  try {
    const { identity, token } = await authenticator.authenticate(credentials);
    return { identity: () => identity, forward: () => ({ authorization: `Bearer ${token}` }) };
  } catch (err) {
    const failure = toAppError(err);
    const fail = (): never => {
      throw failure;
    };
    return { identity: fail, forward: fail };
  }
}
