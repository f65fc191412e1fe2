import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { invokeService, type SidecarPorts } from "@lsp/dapr";

/** The claims auth puts in an access token (services/auth/src/tokens.ts). */
const Claims = z.object({
  sub: z.uuid(),
  tid: z.uuid(),
  role: z.enum(["owner", "manager", "staff"]),
  locs: z.array(z.uuid()).max(1000).optional(),
  // Required: a token that never expires must never verify, whoever signed it.
  exp: z.number().int().positive(),
  iat: z.number().int().positive().optional(),
});
export type AccessClaims = z.infer<typeof Claims>;
const ISSUER = "lsp-auth";
const AUDIENCE = "lsp";

/** Where public signing keys come from: auth's JWKS (other apps) or auth's own key ring. */
export interface SigningKeys {
  keyFor(kid: string): Promise<KeyObject>;
}

const Jwks = z.object({
  keys: z.array(z.object({ kid: z.string(), kty: z.string() }).passthrough()).max(20),
});

/** Don't ask auth again for an unknown kid more often than this (a forged kid must not flood it). */
const REFETCH_MIN_INTERVAL_MS = 1000;
/** Known keys are re-read this often anyway, so that a retired key stops verifying. */
const MAX_AGE_MS = 5 * 60_000;

/**
 * auth's public signing keys (`/.well-known/jwks.json`, fetched through Dapr service invocation),
 * cached; a token with a kid we do not know makes us fetch again (a rotation just happened), at
 * most once a second. When auth cannot answer, the keys we have keep verifying (stale on error):
 * a restarting auth must not log everyone out.
 */
export class JwksCache implements SigningKeys {
  private keys = new Map<string, KeyObject>();
  private fetchedAt = 0;
  private triedAt = 0;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly ports: SidecarPorts,
    private readonly fetchJwks: () => Promise<unknown> = async () => {
      const res = await invokeService(ports, "auth", ".well-known/jwks.json", { timeoutMs: 3000 });
      if (!res.ok) throw new AppError("UNAVAILABLE", `signing keys unavailable (${res.status})`);
      return res.json();
    },
  ) {}

  async keyFor(kid: string): Promise<KeyObject> {
    if (Date.now() - this.fetchedAt > MAX_AGE_MS) await this.refresh(this.keys.size > 0);
    let key = this.keys.get(kid);
    if (!key && Date.now() - this.triedAt > REFETCH_MIN_INTERVAL_MS) {
      await this.refresh(false);
      key = this.keys.get(kid);
    }
    if (!key) throw new AppError("UNKNOWN_SIGNING_KEY", "token signed by an unknown key");
    return key;
  }

  private async refresh(staleOk: boolean): Promise<void> {
    this.inFlight ??= (async () => {
      this.triedAt = Date.now();
      try {
        const jwks = Jwks.parse(await this.fetchJwks());
        this.keys = new Map(
          jwks.keys.map((k) => [k.kid, createPublicKey({ key: k as JsonWebKey, format: "jwk" })]),
        );
        this.fetchedAt = Date.now();
      } finally {
        this.inFlight = undefined;
      }
    })();
    try {
      await this.inFlight;
    } catch (err) {
      if (!staleOk) throw err;
    }
  }
}

/**
 * Verifies access tokens: ES256 signature by kid, issuer, audience, a required expiry, and the
 * claims' shape. A verified token is remembered (bounded LRU) until it expires, so a busy client
 * costs one signature check per token, not per request.
 */
export function accessTokenVerifier(keys: SigningKeys, maxCached = 10_000) {
  const verified = new LRUCache<string, AccessClaims>({ max: maxCached });
  return async function verifyAccessToken(token: string): Promise<AccessClaims> {
    const hit = verified.get(token);
    if (hit) {
      if (hit.exp * 1000 > Date.now()) return hit;
      verified.delete(token);
      throw new AppError("TOKEN_EXPIRED", "access token expired: refresh it");
    }
    const decoded = jwt.decode(token, { complete: true });
    if (!decoded || typeof decoded.payload === "string")
      throw new AppError("TOKEN_INVALID", "malformed access token");
    const kid = decoded.header.kid;
    if (!kid) throw new AppError("TOKEN_INVALID", "access token without kid");
    const key = await keys.keyFor(kid);
    let payload: unknown;
    try {
      payload = jwt.verify(token, key, { algorithms: ["ES256"], issuer: ISSUER, audience: AUDIENCE });
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError)
        throw new AppError("TOKEN_EXPIRED", "access token expired: refresh it");
      throw new AppError("TOKEN_INVALID", "access token rejected");
    }
    const claims = Claims.safeParse(payload);
    if (!claims.success) throw new AppError("TOKEN_INVALID", "access token has unexpected or missing claims");
    verified.set(token, claims.data, { ttl: Math.max(1, claims.data.exp * 1000 - Date.now()) });
    return claims.data;
  };
}
export type AccessTokenVerifier = ReturnType<typeof accessTokenVerifier>;
