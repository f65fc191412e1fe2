// Auth never issues a token that does not expire.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { KeyRing, SigningKey } from "../src/keys.js";
import { ACCESS_TTL_SECONDS, signAccessToken } from "../src/tokens.js";

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const ring = {
  activeKey: async (): Promise<SigningKey> => ({ kid: "k1", privateKey, publicJwk: {} }),
} as unknown as KeyRing;

test("every access token carries exp = iat + 15 minutes and verifies only with it", async () => {
  const grant = {
    tenantId: randomUUID(),
    userId: randomUUID(),
    role: "staff" as const,
    locationIds: [randomUUID()],
  };
  const token = await signAccessToken(ring, grant);
  const claims = jwt.verify(token, publicKey, {
    algorithms: ["ES256"],
    audience: "lsp",
    issuer: "lsp-auth",
  }) as {
    iat: number;
    exp: number;
    sub: string;
    locs: string[];
  };
  assert.equal(claims.exp - claims.iat, ACCESS_TTL_SECONDS);
  assert.equal(claims.sub, grant.userId);
  assert.deepEqual(claims.locs, grant.locationIds);
  // Issued in the past: expired, refused by any verifier.
  const old = await signAccessToken(ring, grant, Date.now() - 3600_000);
  assert.throws(() => jwt.verify(old, publicKey, { algorithms: ["ES256"] }), /jwt expired/);
});
