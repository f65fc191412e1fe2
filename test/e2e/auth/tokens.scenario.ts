// Bad input to the login routes; refresh rotation and reuse detection; every kind of bad token
// refused with its own code.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import {
  DEMO,
  authPost,
  demoPhone,
  edgeAuthHeaders,
  edgeClient,
  login,
  type Tokens,
} from "../../support/graphql-client.js";
import { TENANT_IDS, codeOf, ME, type Me, type AuthMesh } from "../../support/auth.js";

export function tokenScenarios(h: AuthMesh): void {
  test("bad input gets a typed 4xx and writes nothing", async () => {
    const { mesh, authDb, verify } = h;
    const users = async () => Number((await authDb.query("SELECT count(*) FROM users")).rows[0].count);
    const before = await users();
    const cases: [unknown, number, string][] = [
      [{ phone: "12345" }, 400, "BAD_USER_INPUT"],
      [{ phone: "+14155552671" }, 400, "BAD_USER_INPUT"], // a US number
      [{ phone: "01689123456" }, 400, "BAD_USER_INPUT"], // pre-2018 11-digit Viettel form
      [{}, 400, "BAD_USER_INPUT"],
      [{ phone: 912345678 }, 400, "BAD_USER_INPUT"],
      ["{not json", 400, "BAD_USER_INPUT"],
      [{ phone: "0912345678", pad: "x".repeat(300_000) }, 413, "PAYLOAD_TOO_LARGE"],
    ];
    for (const [body, status, code] of cases) {
      const r = await authPost<{ error: { code: string } }>(mesh.edgeUrl, "otp/request", body, {
        "x-tenant": DEMO.phoBo.slug,
      });
      assert.equal(r.status, status, JSON.stringify(body).slice(0, 80));
      assert.equal(r.body.error.code, code);
    }
    const v = await verify({ phone: "0912345678", code: "12ab56" }, DEMO.phoBo.slug);
    assert.equal(v.status, 400);
    const noTenant = await verify({ phone: "0912345678", code: "123456" });
    assert.equal(noTenant.body.error?.code, "BAD_USER_INPUT");
    const unknownTenant = await authPost<{ error: { code: string } }>(
      mesh.edgeUrl,
      "otp/request",
      { phone: "0912345678" },
      {
        "x-tenant": "no-such-place",
      },
    );
    assert.equal(unknownTenant.status, 404);
    assert.equal(await users(), before);
  });

  test("refresh rotates; replaying a used refresh token revokes the whole family; logout ends it", async () => {
    const { mesh, gqlAs } = h;
    const phone = demoPhone(DEMO.phoBo.slug, "manager") ?? "";
    const first = await login(mesh.edgeUrl, DEMO.phoBo.slug, phone);
    const tenant = { "x-tenant": DEMO.phoBo.slug };
    const second = await authPost<Tokens>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: first.refreshToken },
      tenant,
    );
    assert.equal(second.status, 200);
    assert.notEqual(second.body.refreshToken, first.refreshToken);
    assert.equal((await gqlAs<Me>(second.body.accessToken, DEMO.phoBo.slug, ME)).data?.me.role, "MANAGER");
    const third = await authPost<Tokens>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: second.body.refreshToken },
      tenant,
    );
    assert.equal(third.status, 200);

    // The first token again: someone kept a copy. The family (including `third`) is revoked.
    const replay = await authPost<{ error: { code: string } }>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: first.refreshToken },
      tenant,
    );
    assert.equal(replay.status, 401);
    assert.equal(replay.body.error.code, "REFRESH_TOKEN_REUSED");
    const afterReplay = await authPost<{ error: { code: string } }>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: third.body.refreshToken },
      tenant,
    );
    assert.equal(afterReplay.body.error.code, "TOKEN_INVALID");

    // Logout ends the session: its refresh token no longer works.
    const caPhe = { "x-tenant": DEMO.caPhe.slug };
    const a = await login(mesh.edgeUrl, DEMO.caPhe.slug, demoPhone(DEMO.caPhe.slug, "staff") ?? "");
    // A refresh token is bound to its tenant.
    const elsewhere = await authPost<{ error: { code: string } }>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: a.refreshToken },
      tenant,
    );
    assert.equal(elsewhere.body.error.code, "TOKEN_INVALID");
    assert.equal(
      (await authPost(mesh.edgeUrl, "logout", { refreshToken: a.refreshToken }, caPhe)).status,
      204,
    );
    const afterLogout = await authPost<{ error: { code: string } }>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: a.refreshToken },
      caPhe,
    );
    assert.equal(afterLogout.body.error.code, "TOKEN_INVALID");
  });

  test("expired, tampered, unknown-kid, other-tenant and missing tokens are refused with distinct codes", async () => {
    const { mesh, gqlAs, devKeys } = h;
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    assert.ok((await owner<Me>(ME)).data?.me, "the helper's owner login works");
    const staff = {
      accessToken:
        (await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" })).authorization?.slice(7) ??
        "",
    };
    const [key] = devKeys().keys;
    assert.ok(key);
    const now = Math.floor(Date.now() / 1000);
    const claims = { sub: randomUUID(), tid: TENANT_IDS.phoBo, role: "owner" };
    const sign = (body: object, pem: string, kid: string) =>
      jwt.sign(body, pem, { algorithm: "ES256", keyid: kid, issuer: "lsp-auth", audience: "lsp" });

    const expired = sign({ ...claims, iat: now - 3600, exp: now - 60 }, key.privateKeyPem, key.kid);
    const [head, p, s] = staff.accessToken.split(".");
    const promoted = {
      ...(JSON.parse(Buffer.from(p ?? "", "base64url").toString()) as object),
      role: "owner",
    };
    const tampered = `${head}.${Buffer.from(JSON.stringify(promoted)).toString("base64url")}.${s}`;
    const stranger = generateKeyPairSync("ec", { namedCurve: "P-256" })
      .privateKey.export({ format: "pem", type: "pkcs8" })
      .toString();
    const unknownKid = sign(claims, stranger, "not-a-key-of-ours");
    const wrongAudience = jwt.sign(claims, key.privateKeyPem, {
      algorithm: "ES256",
      keyid: key.kid,
      issuer: "lsp-auth",
      audience: "someone-else",
    });

    assert.equal(codeOf(await gqlAs(expired, DEMO.phoBo.slug, ME)), "TOKEN_EXPIRED");
    assert.equal(codeOf(await gqlAs(tampered, DEMO.phoBo.slug, ME)), "TOKEN_INVALID");
    assert.equal(codeOf(await gqlAs("not.a.jwt", DEMO.phoBo.slug, ME)), "TOKEN_INVALID");
    assert.equal(codeOf(await gqlAs(wrongAudience, DEMO.phoBo.slug, ME)), "TOKEN_INVALID");
    assert.equal(codeOf(await gqlAs(unknownKid, DEMO.phoBo.slug, ME)), "UNKNOWN_SIGNING_KEY");
    assert.equal(codeOf(await gqlAs(staff.accessToken, DEMO.caPhe.slug, ME)), "WRONG_TENANT");
    assert.equal(codeOf(await gqlAs(undefined, DEMO.phoBo.slug, ME)), "UNAUTHENTICATED");
    // The token's own tenant holds without a tenant in the address.
    assert.equal((await gqlAs<Me>(staff.accessToken, undefined, ME)).data?.me.role, "STAFF");
  });
}
