import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { AppError } from "@lsp/runtime";
import { accessTokenVerifier, callerReader, type SigningKeys } from "./index.js";

const TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01";
const USER = "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a41";
const LOC = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01";

const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const other = generateKeyPairSync("ec", { namedCurve: "P-256" });
const keys: SigningKeys = {
  keyFor: async (kid: string): Promise<KeyObject> => {
    if (kid === "k1") return publicKey;
    throw new AppError("UNKNOWN_SIGNING_KEY", "unknown kid");
  },
};

function sign(
  claims: Record<string, unknown>,
  opts: { key?: KeyObject; exp?: boolean; kid?: string } = {},
): string {
  return jwt.sign({ tid: TENANT, role: "staff", locs: [LOC], ...claims }, opts.key ?? privateKey, {
    algorithm: "ES256",
    keyid: opts.kid ?? "k1",
    issuer: "lsp-auth",
    audience: "lsp",
    subject: USER,
    ...(opts.exp === false ? {} : { expiresIn: 900 }),
  });
}

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return "ok";
  } catch (err) {
    return err instanceof AppError ? err.code : `untyped: ${String(err)}`;
  }
};

test("a user is exactly who a valid access token says, and is forwarded as that token", async () => {
  const callerOf = callerReader({ verify: accessTokenVerifier(keys), systemCallers: [] });
  const token = sign({});
  const caller = await callerOf({ authorization: `Bearer ${token}` });
  assert.deepEqual(caller.identity(), { tenantId: TENANT, userId: USER, role: "staff", locationIds: [LOC] });
  assert.deepEqual(caller.forward(), { authorization: `Bearer ${token}` });
});

test("tokens without exp, signed by another key, expired or malformed never verify", async () => {
  const verify = accessTokenVerifier(keys);
  assert.equal(await codeOf(verify(sign({}, { exp: false }))), "TOKEN_INVALID");
  assert.equal(await codeOf(verify(sign({}, { key: other.privateKey }))), "TOKEN_INVALID");
  assert.equal(await codeOf(verify(sign({}, { kid: "k9" }))), "UNKNOWN_SIGNING_KEY");
  assert.equal(
    await codeOf(verify(sign({ exp: Math.floor(Date.now() / 1000) - 10 }, { exp: false }))),
    "TOKEN_EXPIRED",
  );
  assert.equal(await codeOf(verify("not-a-jwt")), "TOKEN_INVALID");
  assert.equal(await codeOf(verify(sign({ role: "system" }))), "TOKEN_INVALID");
});

test("plain identity headers are ignored: without a token or a system caller there is no identity", async () => {
  const callerOf = callerReader({ verify: accessTokenVerifier(keys), systemCallers: ["payments"] });
  const forged = await callerOf({
    "x-lsp-tenant-id": TENANT,
    "x-lsp-user-id": USER,
    "x-lsp-role": "owner",
  });
  assert.throws(
    () => forged.identity(),
    (e: unknown) => e instanceof AppError && e.code === "UNAUTHENTICATED",
  );
});

test("the system role exists only for the named caller app ids, in the tenant they name", async () => {
  const callerOf = callerReader({ verify: accessTokenVerifier(keys), systemCallers: ["payments"] });
  const payments = await callerOf({ "dapr-caller-app-id": "payments", "x-lsp-tenant-id": TENANT });
  assert.deepEqual(payments.identity(), { tenantId: TENANT, role: "system", callerApp: "payments" });
  assert.deepEqual(payments.forward(), { "x-lsp-tenant-id": TENANT });
  const ai = await callerOf({ "dapr-caller-app-id": "ai", "x-lsp-tenant-id": TENANT });
  assert.throws(
    () => ai.identity(),
    (e: unknown) => e instanceof AppError && e.code === "UNAUTHENTICATED",
  );
  const noTenant = await callerOf({ "dapr-caller-app-id": "payments", "x-lsp-tenant-id": "junk" });
  assert.throws(
    () => noTenant.identity(),
    (e: unknown) => e instanceof AppError && e.code === "BAD_USER_INPUT",
  );
});

test("a verified token is not checked again until it expires", async () => {
  let lookups = 0;
  const counting: SigningKeys = { keyFor: async (kid) => (lookups++, keys.keyFor(kid)) };
  const verify = accessTokenVerifier(counting);
  const token = sign({});
  for (let i = 0; i < 5; i++) await verify(token);
  assert.equal(lookups, 1);
});
