import { createHash, randomBytes, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { Kysely, Transaction } from "kysely";
import { AppError } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { AuthDB, Role } from "./db.js";
import type { KeyRing } from "./keys.js";

/** Ends every live token of a refresh-token family (reuse, lost membership, logout). */
async function revokeFamily(trx: Transaction<AuthDB>, familyId: string): Promise<void> {
  await trx
    .updateTable("refresh_tokens")
    .set({ revoked_at: new Date() })
    .where("family_id", "=", familyId)
    .where("revoked_at", "is", null)
    .execute();
}

export const ACCESS_TTL_SECONDS = 15 * 60;
export const REFRESH_TTL_SECONDS = 30 * 24 * 3600;
export const ISSUER = "lsp-auth";
export const AUDIENCE = "lsp";

export interface Grant {
  tenantId: string;
  userId: string;
  role: Role;
  /** null = every location of the tenant. */
  locationIds: string[] | null;
}

export interface TokenPair {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
}

/** Claims of the access token (the edge reads the same names). */
export interface AccessClaims {
  sub: string;
  tid: string;
  role: Role;
  /** Present only for callers limited to some locations. */
  locs?: string[];
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * Signs an access token. `iat` and `exp` are set here explicitly (not left to library options)
 * and checked on the way out: a token without an expiry would be good forever, so auth never
 * issues one.
 */
export async function signAccessToken(ring: KeyRing, grant: Grant, now = Date.now()): Promise<string> {
  const key = await ring.activeKey();
  const iat = Math.floor(now / 1000);
  const claims: AccessClaims & { iat: number; exp: number } = {
    sub: grant.userId,
    tid: grant.tenantId,
    role: grant.role,
    ...(grant.locationIds ? { locs: grant.locationIds } : {}),
    iat,
    exp: iat + ACCESS_TTL_SECONDS,
  };
  const token = jwt.sign(claims, key.privateKey, {
    algorithm: "ES256",
    keyid: key.kid,
    issuer: ISSUER,
    audience: AUDIENCE,
    jwtid: randomUUID(),
  });
  const exp = (jwt.decode(token, { json: true }) ?? {}).exp;
  if (typeof exp !== "number" || exp <= iat) throw new Error("refusing to issue an access token without exp");
  return token;
}

/**
 * Ends every session (every refresh-token family) of a user in the transaction's tenant: used
 * when the member is removed. Returns how many live tokens were revoked.
 */
export async function revokeUserSessions(trx: Transaction<AuthDB>, userId: string): Promise<number> {
  const r = await trx
    .updateTable("refresh_tokens")
    .set({ revoked_at: new Date() })
    .where("user_id", "=", userId)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** Starts a refresh family (a login) or continues one (a rotation); returns both tokens. */
export async function issueTokens(
  db: Kysely<AuthDB>,
  ring: KeyRing,
  grant: Grant,
  familyId: string = randomUUID(),
): Promise<TokenPair> {
  const refreshToken = randomBytes(32).toString("base64url");
  await withTenant(db, grant.tenantId, (trx) =>
    trx
      .insertInto("refresh_tokens")
      .values({
        token_hash: sha256(refreshToken),
        family_id: familyId,
        tenant_id: grant.tenantId,
        user_id: grant.userId,
        expires_at: new Date(Date.now() + REFRESH_TTL_SECONDS * 1000),
      })
      .execute(),
  );
  return {
    accessToken: await signAccessToken(ring, grant),
    tokenType: "Bearer",
    expiresIn: ACCESS_TTL_SECONDS,
    refreshToken,
    refreshExpiresIn: REFRESH_TTL_SECONDS,
  };
}

type RefreshOutcome = { ok: true; grant: Grant; familyId: string } | { ok: false; error: AppError };

/**
 * Uses a refresh token once: it is marked rotated and a new one of the same family is issued,
 * with the membership read again (a role change or removal takes effect here). A token that was
 * already rotated is being replayed — someone holds a copy — so the whole family is revoked and
 * the caller must log in again. The revocation commits even though the call fails.
 */
export async function rotateRefreshToken(
  db: Kysely<AuthDB>,
  ring: KeyRing,
  tenantId: string,
  refreshToken: string,
): Promise<TokenPair> {
  const outcome = await withTenant(db, tenantId, async (trx): Promise<RefreshOutcome> => {
    const row = await trx
      .selectFrom("refresh_tokens")
      .selectAll()
      .where("token_hash", "=", sha256(refreshToken))
      .forUpdate()
      .executeTakeFirst();
    if (!row) return { ok: false, error: new AppError("TOKEN_INVALID", "unknown or revoked refresh token") };
    if (row.revoked_at) {
      // Revoked because the member was removed: say so, so that the app can tell the user.
      const member = await trx
        .selectFrom("memberships")
        .select("user_id")
        .where("user_id", "=", row.user_id)
        .executeTakeFirst();
      return {
        ok: false,
        error: member
          ? new AppError("TOKEN_INVALID", "unknown or revoked refresh token")
          : new AppError("NO_MEMBERSHIP", "no longer a member of this restaurant"),
      };
    }
    if (row.rotated_at) {
      await revokeFamily(trx, row.family_id);
      return {
        ok: false,
        error: new AppError(
          "REFRESH_TOKEN_REUSED",
          "this refresh token was already used: every session of it is revoked",
        ),
      };
    }
    if (row.expires_at.getTime() <= Date.now())
      return { ok: false, error: new AppError("TOKEN_EXPIRED", "refresh token expired: log in again") };
    await trx
      .updateTable("refresh_tokens")
      .set({ rotated_at: new Date() })
      .where("token_hash", "=", row.token_hash)
      .execute();
    const membership = await trx
      .selectFrom("memberships")
      .select(["role", "location_ids"])
      .where("user_id", "=", row.user_id)
      .executeTakeFirst();
    if (!membership) {
      await revokeFamily(trx, row.family_id);
      return { ok: false, error: new AppError("NO_MEMBERSHIP", "no longer a member of this restaurant") };
    }
    return {
      ok: true,
      familyId: row.family_id,
      grant: { tenantId, userId: row.user_id, role: membership.role, locationIds: membership.location_ids },
    };
  });
  if (!outcome.ok) throw outcome.error;
  return issueTokens(db, ring, outcome.grant, outcome.familyId);
}

/** Ends the session the refresh token belongs to (its whole family). Idempotent. */
export async function logout(db: Kysely<AuthDB>, tenantId: string, refreshToken: string): Promise<void> {
  await withTenant(db, tenantId, async (trx) => {
    const row = await trx
      .selectFrom("refresh_tokens")
      .select("family_id")
      .where("token_hash", "=", sha256(refreshToken))
      .executeTakeFirst();
    if (row) await revokeFamily(trx, row.family_id);
  });
}
