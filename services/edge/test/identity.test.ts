// The edge's authenticator against a stand-in for its sidecar (an HTTP server answering the two
// invocations it makes: auth's JWKS and the tenant lookup by slug). Real tokens, signed with a
// key generated here; the end-to-end tests do the same through real sidecars.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import jwt from "jsonwebtoken";
import { AppError } from "@lsp/runtime";
import type { Identity } from "@lsp/identity";
import type { SidecarPorts } from "@lsp/dapr";
import { callerOfRequest, createAuthenticator } from "../src/identity.js";

const TENANT = "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01";
const OTHER_TENANT = "8e4f2b63-5d2f-4c9f-8b62-1d3c7f2e5b02";
const USER = "0b1c2d3e-4f50-4a61-8b72-9c8d7e6f5a41";
const LOC = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b01";
const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });

let server: Server;
let ports: SidecarPorts;
/** What the stand-in sidecar was asked, in order. */
const asked: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? "";
    asked.push(url);
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    if (req.headers["dapr-api-token"] !== "sidecar-token") return json(401, { error: "no token" });
    if (url === "/v1.0/invoke/auth/method/.well-known/jwks.json")
      return json(200, { keys: [{ ...publicKey.export({ format: "jwk" }), kid: "k1", use: "sig" }] });
    const slug = /^\/v1\.0\/invoke\/auth\/method\/v1\/tenants\/by-slug\/([^/?]+)$/.exec(url)?.[1];
    if (slug === "pho-bo-hanoi") return json(200, { id: TENANT, slug, name: "Phở Bò Hà Nội" });
    if (slug === "auth-down") return json(503, { error: "down" });
    if (slug) return json(200, null); // auth answers null for an unknown slug
    json(404, { error: "no route" });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  ports = { DAPR_HTTP_PORT: port, DAPR_GRPC_PORT: port + 1, DAPR_API_TOKEN: "sidecar-token" };
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

function token(claims: Record<string, unknown> = {}): string {
  return jwt.sign({ tid: TENANT, role: "manager", locs: [LOC], ...claims }, privateKey, {
    algorithm: "ES256",
    keyid: "k1",
    issuer: "lsp-auth",
    audience: "lsp",
    subject: USER,
    expiresIn: 900,
  });
}

/** "ok", or the typed error's code (an untyped error would be a bug: it shows as such). */
const codeOf = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => "ok",
    (err: unknown) => (err instanceof AppError ? err.code : `untyped: ${String(err)}`),
  );

test("a valid token at its own tenant's address is that member, with the token to forward and its expiry", async () => {
  const auth = createAuthenticator(ports);
  const t = token();
  for (const credentials of [
    { host: "pho-bo-hanoi.lsp.vn", xTenant: null, authorization: `Bearer ${t}` },
    { host: "localhost:4000", xTenant: "pho-bo-hanoi", authorization: t }, // graphql-ws: a bare token
  ]) {
    const who = await auth.authenticate(credentials);
    assert.deepEqual(who.identity, { tenantId: TENANT, userId: USER, role: "manager", locationIds: [LOC] });
    assert.equal(who.token, t);
    assert.equal(who.expiresAt, (jwt.decode(t) as { exp: number }).exp * 1000);
  }
  // An owner's token has no location list: every branch.
  const owner = await auth.authenticate({
    host: null,
    xTenant: null,
    authorization: token({ role: "owner", locs: undefined }),
  });
  assert.deepEqual(owner.identity, { tenantId: TENANT, userId: USER, role: "owner" });
});

test("refusals are typed: no token, unknown or malformed tenant, another tenant's token, a bad token", async () => {
  const auth = createAuthenticator(ports);
  const at = (xTenant: string | null, authorization: string | null) =>
    codeOf(auth.authenticate({ host: null, xTenant, authorization }));
  assert.equal(await at("pho-bo-hanoi", null), "UNAUTHENTICATED");
  assert.equal(await at(null, null), "UNAUTHENTICATED");
  assert.equal(await at("pho-bo-hanoi", "Bearer "), "UNAUTHENTICATED");
  assert.equal(
    await at("nobody-here", `Bearer ${token()}`),
    "NOT_FOUND",
    "an unknown restaurant, even with a token",
  );
  assert.equal(await at("../etc", `Bearer ${token()}`), "BAD_USER_INPUT");
  assert.equal(await at("pho-bo-hanoi", `Bearer ${token({ tid: OTHER_TENANT })}`), "WRONG_TENANT");
  assert.equal(await at("pho-bo-hanoi", "Bearer not.a.jwt"), "TOKEN_INVALID");
  assert.equal(await at("auth-down", `Bearer ${token()}`), "UNAVAILABLE", "auth down: not a client mistake");
  // Without a tenant in the address the token's own tenant is taken (the apps' GraphQL clients).
  assert.equal(await at(null, `Bearer ${token({ tid: OTHER_TENANT })}`), "ok");
});

test("a member changed after the token was issued is refused (stillMember decides, with the issue time)", async () => {
  const seen: [Identity, number][] = [];
  const auth = createAuthenticator(ports, (identity, issuedAtMs) => {
    seen.push([identity, issuedAtMs]);
    if (identity.role === "staff") throw new AppError("TOKEN_INVALID", "membership changed");
  });
  const manager = token();
  assert.equal(
    await codeOf(auth.authenticate({ host: null, xTenant: "pho-bo-hanoi", authorization: manager })),
    "ok",
  );
  assert.equal(seen[0]?.[1], (jwt.decode(manager) as { iat: number }).iat * 1000);
  assert.equal(
    await codeOf(
      auth.authenticate({ host: null, xTenant: "pho-bo-hanoi", authorization: token({ role: "staff" }) }),
    ),
    "TOKEN_INVALID",
  );
});

test("callerOfRequest: resolved once; a failure is thrown only when identity or forwarding is asked for", async () => {
  const auth = createAuthenticator(ports);
  const t = token();
  const caller = await callerOfRequest(auth, {
    host: null,
    xTenant: "pho-bo-hanoi",
    authorization: `Bearer ${t}`,
  });
  assert.equal(caller.identity().userId, USER);
  assert.deepEqual(caller.forward(), { authorization: `Bearer ${t}` });
  const anonymous = await callerOfRequest(auth, { host: null, xTenant: "pho-bo-hanoi", authorization: null });
  assert.throws(
    () => anonymous.identity(),
    (err: unknown) => err instanceof AppError && err.code === "UNAUTHENTICATED",
  );
  assert.throws(
    () => anonymous.forward(),
    (err: unknown) => err instanceof AppError && err.code === "UNAUTHENTICATED",
  );
});

test("keys and tenants are cached: many requests cost auth one JWKS read and one lookup per slug", async () => {
  const auth = createAuthenticator(ports);
  const before = asked.length;
  for (let i = 0; i < 20; i++)
    await auth.authenticate({
      host: null,
      xTenant: "pho-bo-hanoi",
      authorization: token({ role: i % 2 ? "owner" : "manager" }),
    });
  const calls = asked.slice(before);
  assert.ok(calls.filter((u) => u.endsWith("jwks.json")).length <= 1, calls.join(" "));
  assert.equal(
    calls.filter((u) => u.includes("by-slug")).length,
    0,
    "the slug was resolved by an earlier test",
  );
});
