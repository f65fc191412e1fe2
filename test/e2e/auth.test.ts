// Identity and tenancy on the real mesh: phone OTP through the edge (codes read from auth's DEV
// ONLY SMS sink), access/refresh tokens, the edge's token checks, invites and join codes, key
// rotation, staff location scope, and row-level security in every service schema (as each service's role).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { generateKeyPairSync, randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import pg from "pg";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { DATABASE, DB_SERVICES, serviceDatabaseUrl } from "../../scripts/mesh/infra.js";
import { APPS } from "../../scripts/mesh/ports.js";
import { vnpaySecureHash, vnpaySignData } from "../../services/payments/src/providers/vnpay.js";
import { asApp, asSidecarOf, startTestMesh } from "../support/mesh.js";
import {
  CREATE_ORDER,
  DEMO,
  authPost,
  demoPhone,
  edgeAuthHeaders,
  edgeClient,
  eventually,
  login,
  readSmsCode,
  smsSinkUrl,
  type GraphQLResponse,
  type Tokens,
} from "../support/graphql-client.js";

const TENANT_IDS = {
  phoBo: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a01",
  caPhe: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a02",
  bunCha: "7d3f1a52-4c1e-4b8e-9a51-0c2b6f1e4a03",
};
const CAU_GIAY = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02";
const OTP_TTL_SECONDS = 5;

/** A fresh, valid Vietnamese mobile number (VinaPhone 094x), different on every call. */
let phoneSeq = 0;
const freshPhone = () =>
  `+8494${String(Date.now() % 10_000).padStart(4, "0")}${String(phoneSeq++).padStart(3, "0")}`;

describe("identity and tenancy through the real mesh", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let authDb: pg.Pool;

  before(async () => {
    // Short OTP lifetime (the expiry test waits it out); the edge trusts X-Forwarded-For from
    // loopback so that tests can act as several client addresses.
    process.env.AUTH_OTP_TTL_SECONDS = String(OTP_TTL_SECONDS);
    process.env.EDGE_TRUSTED_PROXY_HOPS = "1";
    mesh = await startTestMesh();
    authDb = new pg.Pool({ connectionString: serviceDatabaseUrl(mesh.plan.postgres, "auth"), max: 2 });
  });
  after(async () => {
    await authDb?.end();
    await mesh?.stop();
  });

  /** GraphQL at the edge with an explicit token (and tenant). */
  async function gqlAs<T>(
    token: string | undefined,
    tenant: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<GraphQLResponse<T>> {
    const res = await fetch(mesh.edgeUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(tenant ? { "x-tenant": tenant } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as GraphQLResponse<T>;
  }
  const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code;
  const ME = `{ me { user { id phone } role locations { id } } }`;
  type Me = { me: { user: { id: string; phone: string }; role: string; locations: { id: string }[] } };

  /** Requests a code (from client address `ip`) and returns it as read from the SMS sink. */
  async function sendCode(phone: string, tenant: string | undefined, ip: string): Promise<string> {
    const since = Date.now() - 1000;
    const r = await authPost(
      mesh.edgeUrl,
      "otp/request",
      { phone },
      {
        ...(tenant ? { "x-tenant": tenant } : {}),
        "x-forwarded-for": ip,
      },
    );
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const code = await readSmsCode(mesh.edgeUrl, phone, since);
    assert.ok(code, "the SMS reached the sink");
    return code;
  }
  const verify = (body: Record<string, unknown>, tenant?: string) =>
    authPost<Tokens & { error?: { code: string; attemptsLeft?: number } }>(
      mesh.edgeUrl,
      "otp/verify",
      body,
      tenant ? { "x-tenant": tenant } : {},
    );
  const devKeys = () =>
    JSON.parse(readFileSync(path.join(mesh.runDir, "auth-dev-keys.json"), "utf8")) as {
      keys: { kid: string; privateKeyPem: string }[];
    };

  test("the full OTP login: code by SMS (sink), verify, then the edge knows who is calling", async () => {
    const phone = demoPhone("bun-cha-huong-lien", "owner") ?? "";
    // What people type is accepted and stored as E.164.
    const local = `0${phone.slice(3, 6)} ${phone.slice(6, 9)} ${phone.slice(9)}`;
    const since = Date.now() - 1000;
    const sent = await authPost(
      mesh.edgeUrl,
      "otp/request",
      { phone: local },
      { "x-tenant": "bun-cha-huong-lien" },
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const code = (await readSmsCode(mesh.edgeUrl, phone, since)) ?? "";
    const sms = (await (
      await fetch(`${smsSinkUrl(mesh.edgeUrl)}?to=${encodeURIComponent(phone)}`)
    ).json()) as {
      text: string;
    }[];
    assert.match(sms[0]?.text ?? "", /^Mã xác thực LSP của bạn là \d{6}\./);
    const ok = await verify({ phone: local, code }, "bun-cha-huong-lien");
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.role, "owner");
    const header = jwt.decode(ok.body.accessToken, { complete: true });
    assert.equal(header?.header.alg, "ES256");
    assert.ok(header?.header.kid);
    const payload = header?.payload as { exp: number; iat: number; tid: string };
    assert.equal(payload.exp - payload.iat, 15 * 60);
    assert.equal(payload.tid, TENANT_IDS.bunCha);

    const who = await gqlAs<Me>(ok.body.accessToken, "bun-cha-huong-lien", ME);
    assert.equal(who.data?.me.user.phone, phone, JSON.stringify(who));
    assert.equal(who.data?.me.role, "OWNER");
    assert.equal(who.data?.me.locations.length, 1);
    // The code is used up.
    assert.equal((await verify({ phone, code }, "bun-cha-huong-lien")).body.error?.code, "OTP_EXPIRED");
    // The JWKS is public at the edge.
    const jwks = (await (await fetch(new URL("/.well-known/jwks.json", mesh.edgeUrl))).json()) as {
      keys: { kid: string; kty: string; crv: string; d?: string }[];
    };
    assert.ok(jwks.keys.some((k) => k.kid === header?.header.kid && k.kty === "EC" && k.crv === "P-256"));
    assert.ok(
      jwks.keys.every((k) => k.d === undefined),
      "no private part",
    );
  });

  test("five wrong codes burn the code, even for the right one; the phone is not locked", async () => {
    const phone = freshPhone();
    const code = await sendCode(phone, DEMO.phoBo.slug, "192.0.2.2");
    const wrong = code === "000000" ? "111111" : "000000";
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 5; i++)
      codes.push((await verify({ phone, code: wrong }, DEMO.phoBo.slug)).body.error?.code);
    assert.deepEqual(codes, ["OTP_INVALID", "OTP_INVALID", "OTP_INVALID", "OTP_INVALID", "OTP_INVALID"]);
    const right = await verify({ phone, code }, DEMO.phoBo.slug);
    assert.equal(right.status, 401);
    assert.equal(right.body.error?.code, "OTP_EXPIRED");
    // Only the usual cool-down before a new code (test/e2e/login-attacks.test.ts logs in with it).
    const again = await authPost<{ error: { code: string } }>(
      mesh.edgeUrl,
      "otp/request",
      { phone },
      {
        "x-tenant": DEMO.phoBo.slug,
      },
    );
    assert.equal(again.body.error.code, "OTP_COOLDOWN");
  });

  test("an expired code is refused; a resend too soon is refused", async () => {
    const phone = freshPhone();
    const code = await sendCode(phone, DEMO.phoBo.slug, "192.0.2.3");
    const soon = await authPost<{ error: { code: string; retryAfterSeconds: number } }>(
      mesh.edgeUrl,
      "otp/request",
      { phone },
      { "x-tenant": DEMO.phoBo.slug, "x-forwarded-for": "192.0.2.3" },
    );
    assert.equal(soon.status, 429);
    assert.equal(soon.body.error.code, "OTP_COOLDOWN");
    assert.ok(soon.body.error.retryAfterSeconds > 0 && soon.body.error.retryAfterSeconds <= 60);
    await new Promise((r) => setTimeout(r, (OTP_TTL_SECONDS + 1.5) * 1000));
    const late = await verify({ phone, code }, DEMO.phoBo.slug);
    assert.equal(late.status, 401);
    assert.equal(late.body.error?.code, "OTP_EXPIRED");
  });

  test("too many codes from one client address are rate limited", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 31; i++) {
      const r = await authPost(
        mesh.edgeUrl,
        "otp/request",
        { phone: freshPhone() },
        {
          "x-tenant": DEMO.phoBo.slug,
          "x-forwarded-for": "198.51.100.9",
        },
      );
      codes.push(r.status);
    }
    assert.deepEqual(codes.slice(0, 30), Array(30).fill(202));
    assert.equal(codes[30], 429);
  });

  test("bad input gets a typed 4xx and writes nothing", async () => {
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
    const [h, p, s] = staff.accessToken.split(".");
    const promoted = {
      ...(JSON.parse(Buffer.from(p ?? "", "base64url").toString()) as object),
      role: "owner",
    };
    const tampered = `${h}.${Buffer.from(JSON.stringify(promoted)).toString("base64url")}.${s}`;
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

  test("staff see and act only on their listed locations", async () => {
    const staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" });
    const me = await staff<Me>(ME);
    assert.deepEqual(
      me.data?.me.locations.map((l) => l.id),
      [DEMO.phoBo.hoanKiem],
    );
    const other = await staff<{ location: unknown }>(`query ($id: ID!) { location(id: $id) { id name } }`, {
      id: CAU_GIAY,
    });
    assert.equal(other.data?.location ?? null, null);
    const order = await staff(CREATE_ORDER, {
      input: {
        locationId: CAU_GIAY,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
      },
    });
    assert.ok(["FORBIDDEN", "NOT_FOUND"].includes(codeOf(order) ?? ""), JSON.stringify(order));
    const members = await staff(`{ members { role } }`);
    assert.equal(codeOf(members), "FORBIDDEN");
  });

  test("invites: a phone invite becomes a membership at first login; without one, NO_MEMBERSHIP", async () => {
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const invited = freshPhone();
    const res = await owner<{ invite: { id: string; phone: string; role: string } }>(
      `mutation ($input: InviteInput!) { invite(input: $input) { id phone role } }`,
      { input: { phone: `0${invited.slice(3)}`, role: "STAFF", locationIds: [DEMO.phoBo.hoanKiem] } },
    );
    assert.equal(res.data?.invite.phone, invited, JSON.stringify(res));
    const bad = await owner(`mutation ($input: InviteInput!) { invite(input: $input) { id } }`, {
      input: { phone: "+14155552671", role: "STAFF", locationIds: [DEMO.phoBo.hoanKiem] },
    });
    assert.equal(codeOf(bad), "BAD_USER_INPUT");
    const foreignLocation = await owner(`mutation ($input: InviteInput!) { invite(input: $input) { id } }`, {
      input: { phone: freshPhone(), role: "STAFF", locationIds: [DEMO.caPhe.quan1] },
    });
    assert.equal(codeOf(foreignLocation), "BAD_USER_INPUT");

    const tokens = await login(mesh.edgeUrl, DEMO.phoBo.slug, invited);
    assert.equal(tokens.role, "staff");
    const me = await gqlAs<Me>(tokens.accessToken, DEMO.phoBo.slug, ME);
    assert.deepEqual(
      me.data?.me.locations.map((l) => l.id),
      [DEMO.phoBo.hoanKiem],
    );

    const stranger = freshPhone();
    const code = await sendCode(stranger, DEMO.phoBo.slug, "192.0.2.10");
    const refused = await verify({ phone: stranger, code }, DEMO.phoBo.slug);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, "NO_MEMBERSHIP");
    // The invited member is listed for the owner.
    const members = await owner<{ members: { user: { phone: string }; role: string }[] }>(
      `{ members { user { phone } role } }`,
    );
    assert.ok(members.data?.members.some((m) => m.user.phone === invited && m.role === "STAFF"));
  });

  test("join codes: staff join with the code at first login; a revoked code stops working", async () => {
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const created = await owner<{ createJoinCode: { code: string } }>(
      `mutation { createJoinCode(input: { role: STAFF, locationIds: ["${DEMO.phoBo.hoanKiem}"] }) { code } }`,
    );
    const joinCode = created.data?.createJoinCode.code ?? "";
    assert.match(joinCode, /^[A-Z0-9]{8}$/, JSON.stringify(created));
    const staffWithout = await owner(`mutation { createJoinCode(input: { role: STAFF }) { code } }`);
    assert.equal(codeOf(staffWithout), "BAD_USER_INPUT");

    const joiner = freshPhone();
    const tokens = await login(mesh.edgeUrl, DEMO.phoBo.slug, joiner, { joinCode: joinCode.toLowerCase() });
    assert.equal(tokens.role, "staff");

    const revoked = await owner<{ revokeJoinCode: { revokedAt: string } }>(
      `mutation ($code: String!) { revokeJoinCode(code: $code) { revokedAt } }`,
      { code: joinCode },
    );
    assert.ok(revoked.data?.revokeJoinCode.revokedAt);
    const late = freshPhone();
    const code = await sendCode(late, DEMO.phoBo.slug, "192.0.2.11");
    const refused = await verify({ phone: late, code, joinCode }, DEMO.phoBo.slug);
    assert.equal(refused.status, 404);
    // The code of one restaurant means nothing at another.
    const joinCodes = await edgeClient(
      mesh.edgeUrl,
      DEMO.caPhe.slug,
    )<{ joinCodes: { code: string }[] }>(`{ joinCodes { code } }`);
    assert.deepEqual(joinCodes.data?.joinCodes, []);
  });

  test("onboarding: a new owner creates the restaurant and its first location at first login", async () => {
    const phone = freshPhone();
    const code = await sendCode(phone, undefined, "192.0.2.12");
    const slug = `com-tam-${Date.now() % 100000}`;
    const created = await verify({
      phone,
      code,
      newTenant: { slug, name: "Cơm Tấm Test", locationName: "Quận 3" },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.role, "owner");
    const me = await gqlAs<Me & { tenant: { slug: string } }>(
      created.body.accessToken,
      slug,
      `{ tenant { slug } ${ME.slice(1, -1)} }`,
    );
    assert.equal(me.data?.tenant.slug, slug, JSON.stringify(me));
    assert.equal(me.data?.me.locations.length, 1);
  });

  test("key rotation: new tokens use the new key, tokens of the old key keep working", async () => {
    const slug = `bun-bo-${Date.now() % 100000}`;
    const before = await login(mesh.edgeUrl, undefined, freshPhone(), {
      newTenant: { slug, name: "Bún Bò Test", locationName: "Quận 10" },
    });
    const oldKid = jwt.decode(before.accessToken, { complete: true })?.header.kid;
    const rotated = await fetch(
      `http://127.0.0.1:${mesh.plan.apps.auth.daprHttp}/v1.0/invoke/auth/method/v1/keys/rotate`,
      // An operator's call: through auth's own sidecar with auth's token (no app may call it).
      { method: "POST", headers: asApp(mesh, "auth") },
    );
    assert.equal(rotated.status, 200);
    const { activeKid, previousKid } = (await rotated.json()) as { activeKid: string; previousKid: string };
    assert.equal(previousKid, oldKid);
    assert.notEqual(activeKid, oldKid);
    await new Promise((r) => setTimeout(r, 2500)); // every replica's active-key cache (2 s)
    const fresh = await authPost<Tokens>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: before.refreshToken },
      { "x-tenant": slug },
    );
    assert.equal(jwt.decode(fresh.body.accessToken, { complete: true })?.header.kid, activeKid);
    // The edge learns the new kid on first sight; the old token is still good.
    assert.equal((await gqlAs<Me>(fresh.body.accessToken, slug, ME)).data?.me.role, "OWNER");
    assert.equal((await gqlAs<Me>(before.accessToken, slug, ME)).data?.me.role, "OWNER");
  });

  /**
   * Rows of two tenants in every service schema, each written by the service's own code: an
   * order (sales, dashboard's facts and journal, notifications' day totals through
   * dashboard.updated), a started VNPay payment (payments' intent), a webhook with a bad signature
   * for it (a tenant's audit row) and one for an unknown reference (an audit row of no tenant),
   * and dead letters posted to notifications' dead-letter route as Dapr delivers them (one per
   * tenant, one naming no tenant).
   */
  async function writeRowsOfTwoTenants(): Promise<void> {
    const webhooks = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks`;
    const deadLetters = `http://127.0.0.1:${mesh.plan.apps.notifications.app}/deadletters/payments-notifications-deadletter`;
    const vnpayNotice = (reference: string, amountVnd: number) => {
      const params: Record<string, string> = {
        vnp_Amount: String(amountVnd * 100),
        vnp_OrderInfo: `Thanh toan don ${reference}`,
        vnp_ResponseCode: "00",
        vnp_TmnCode: "LSPDEV01",
        vnp_TransactionNo: String(Date.now()),
        vnp_TransactionStatus: "00",
        vnp_TxnRef: reference,
      };
      // Signed with a key no tenant has: refused, and audited.
      return `${vnpaySignData(params)}&vnp_SecureHashType=HmacSHA512&vnp_SecureHash=${vnpaySecureHash("not-a-tenant-key", params)}`;
    };
    const postDeadLetter = (tenantId: string | undefined) =>
      fetch(deadLetters, {
        method: "POST",
        // As notifications' sidecar delivers them (the app token).
        headers: { "content-type": "application/json", ...asSidecarOf(mesh, "notifications") },
        body: JSON.stringify({
          id: randomUUID(),
          type: "payment.succeeded",
          data: tenantId ? { tenantId } : { note: "no tenant" },
        }),
      });
    const tenants = [
      { slug: DEMO.phoBo.slug, location: DEMO.phoBo.hoanKiem, item: DEMO.phoBo.phoTai, id: TENANT_IDS.phoBo },
      {
        slug: DEMO.caPhe.slug,
        location: DEMO.caPhe.quan1,
        item: DEMO.caPhe.caPheSuaDa,
        id: TENANT_IDS.caPhe,
      },
    ];
    for (const t of tenants) {
      const gql = edgeClient(mesh.edgeUrl, t.slug);
      const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
        input: {
          locationId: t.location,
          idempotencyKey: randomUUID(),
          paymentMethod: "vnpay",
          lines: [{ itemId: t.item, quantity: 1 }],
        },
      });
      assert.ok(created.data?.createOrder, JSON.stringify(created.errors));
      const started = await gql<{ startPayment: { reference: string } }>(
        `mutation ($orderId: ID!) { startPayment(orderId: $orderId, provider: vnpay) { reference } }`,
        { orderId: created.data.createOrder.id },
      );
      assert.ok(started.data?.startPayment, JSON.stringify(started.errors));
      const refused = await fetch(
        `${webhooks}/vnpay?${vnpayNotice(started.data.startPayment.reference, created.data.createOrder.totalVnd)}`,
      );
      assert.equal(((await refused.json()) as { RspCode: string }).RspCode, "97"); // invalid signature
      assert.equal((await postDeadLetter(t.id)).status, 200);
    }
    await fetch(`${webhooks}/vnpay?${vnpayNotice(`LSP-UNKNOWN-${Date.now()}`, 1000)}`);
    assert.equal((await postDeadLetter(undefined)).status, 200);
  }

  test("row-level security in every service schema: each tenant table (found in pg_catalog) has a forced policy; connected as the service's role, an unfiltered SELECT in tenant A's transaction returns exactly A's rows; the role owns nothing and cannot turn row security off", async () => {
    await writeRowsOfTwoTenants();
    // The server's superuser (test infrastructure only) counts what is really stored.
    const admin = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${mesh.plan.postgres}/${DATABASE}`,
    });
    await admin.connect();
    type TenantTable = { schema: string; name: string; rls: boolean; forced: boolean; policies: number };
    const stored = async (t: TenantTable) =>
      (
        await admin.query(
          `SELECT tenant_id::text AS tenant, count(*)::int AS n FROM ${t.schema}.${t.name} GROUP BY 1`,
        )
      ).rows as { tenant: string | null; n: number }[];
    try {
      // Rows arrive in dashboard and notifications through pub/sub: wait for both tenants there.
      for (const table of ["dashboard.event_journal", "notifications.day_totals"])
        await eventually(
          `${table} has rows of both tenants`,
          async () => {
            const r = await admin.query(`SELECT count(DISTINCT tenant_id)::int AS n FROM ${table}
            WHERE tenant_id IN ('${TENANT_IDS.phoBo}', '${TENANT_IDS.caPhe}')`);
            return r.rows[0].n === 2 ? true : undefined;
          },
          60_000,
        );

      const withRowsOfA = new Set<string>();
      let checked = 0;
      for (const service of DB_SERVICES) {
        const client = new pg.Client({ connectionString: serviceDatabaseUrl(mesh.plan.postgres, service) });
        await client.connect();
        try {
          const role = await client.query(
            `SELECT r.rolbypassrls, r.rolsuper,
               (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relowner = r.oid) AS owned_relations,
               (SELECT count(*)::int FROM pg_namespace n WHERE n.nspname = $1 AND n.nspowner = r.oid) AS owned_schemas,
               has_schema_privilege($1, 'CREATE') AS can_create,
               (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relname LIKE 'kysely_migration%'
                   AND has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE')) AS ledger_access
             FROM pg_roles r WHERE r.rolname = current_user`,
            [service],
          );
          assert.deepEqual(
            role.rows[0],
            {
              rolbypassrls: false,
              rolsuper: false,
              owned_relations: 0,
              owned_schemas: 0,
              can_create: false,
              ledger_access: 0,
            },
            `svc_${service} cannot bypass row security, owns nothing, cannot create tables, cannot touch the migration ledger`,
          );
          const tables = (
            await client.query(
              `SELECT n.nspname AS schema, c.relname AS name, c.relrowsecurity AS rls,
                 c.relforcerowsecurity AS forced,
                 (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND EXISTS (
                 SELECT 1 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
               ORDER BY c.relname`,
              [service],
            )
          ).rows as TenantTable[];
          for (const t of tables) {
            const where = `${service}.${t.name}`;
            assert.ok(t.rls && t.forced && t.policies > 0, `${where} has forced row-level security`);
            const truth = await stored(t);
            for (const a of [TENANT_IDS.phoBo, TENANT_IDS.caPhe]) {
              await client.query("BEGIN");
              await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [a]);
              // Deliberately no WHERE on the tenant.
              const seen = (await client.query(`SELECT tenant_id::text AS tenant FROM ${t.name}`)).rows as {
                tenant: string | null;
              }[];
              await client.query("ROLLBACK");
              const foreign = seen.filter((r) => r.tenant !== a);
              assert.equal(
                foreign.length,
                0,
                `${where}: no row of another tenant (or of none) in ${a}'s transaction`,
              );
              assert.equal(
                seen.length,
                truth.find((r) => r.tenant === a)?.n ?? 0,
                `${where}: every row of ${a}`,
              );
              if (seen.length > 0) withRowsOfA.add(where);
            }
            // Without a tenant in the transaction, no tenant's row.
            const bare = await client.query(
              `SELECT count(*)::int AS n FROM ${t.name} WHERE tenant_id IS NOT NULL`,
            );
            assert.equal(bare.rows[0].n, 0, `${where}: nothing without a tenant`);
            // The runtime role cannot switch row security off: it owns no table, and asking the
            // session for row_security = off makes the query fail instead of bypassing.
            for (const ddl of ["NO FORCE ROW LEVEL SECURITY", "DISABLE ROW LEVEL SECURITY"])
              await assert.rejects(
                client.query(`ALTER TABLE ${t.name} ${ddl}`),
                /must be owner/,
                `${where}: ${ddl} refused`,
              );
            await assert.rejects(
              client.query(`DROP POLICY tenant_isolation ON ${t.name}`),
              /must be owner/,
              `${where}: DROP POLICY refused`,
            );
            await client.query("SET row_security = off");
            await assert.rejects(
              client.query(`SELECT 1 FROM ${t.name} LIMIT 1`),
              /row-level security/,
              where,
            );
            await client.query("RESET row_security");
            checked++;
          }
        } finally {
          await client.end();
        }
      }
      // The proof means something only where both tenants have rows: these tables got some above.
      for (const table of [
        "auth.locations",
        "auth.memberships",
        "sales.menu_items",
        "sales.orders",
        "sales.order_lines",
        "dashboard.order_facts",
        "dashboard.event_journal",
        "payments.payment_intents",
        "payments.webhook_audit",
        "notifications.dead_letters",
        "notifications.day_totals",
      ])
        assert.ok(withRowsOfA.has(table), `${table} was checked with rows present`);
      assert.ok(checked >= 20, `checked ${checked} tenant tables`);
      // Rows of no tenant exist, and no tenant's transaction saw them (checked above).
      const tenantless = await admin.query(
        "SELECT (SELECT count(*)::int FROM payments.webhook_audit WHERE tenant_id IS NULL) AS audit, (SELECT count(*)::int FROM notifications.dead_letters WHERE tenant_id IS NULL) AS dead",
      );
      assert.ok(tenantless.rows[0].audit > 0 && tenantless.rows[0].dead > 0, JSON.stringify(tenantless.rows));
    } finally {
      await admin.end();
    }
  });

  /** The environment of every process in one process group (an app and anything it spawned). */
  function groupEnvironments(leader: number): { pid: number; env: Map<string, string> }[] {
    const out: { pid: number; env: Map<string, string> }[] = [];
    for (const entry of readdirSync("/proc")) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
        // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
        const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
        if (pgrp !== leader) continue;
        const env = new Map<string, string>();
        for (const kv of readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").filter(Boolean)) {
          const eq = kv.indexOf("=");
          env.set(kv.slice(0, eq), kv.slice(eq + 1));
        }
        out.push({ pid: Number(entry), env });
      } catch {
        // The process ended between the listing and the read.
      }
    }
    return out;
  }

  test("no app process holds the schema owner's credentials: migrations ran as own_<s> in their own step, apps serve as svc_<s> only", async () => {
    const apps = mesh.processes().filter((p) => (APPS as readonly string[]).includes(p.name));
    assert.deepEqual(apps.map((p) => p.name).sort(), [...APPS].sort(), "every app process is running");
    for (const app of apps) {
      const group = groupEnvironments(app.pid);
      assert.ok(
        group.some((p) => p.pid === app.pid),
        `${app.name}: its environment was read`,
      );
      for (const { pid, env } of group) {
        const where = `${app.name} (pid ${pid})`;
        assert.equal(env.has("DATABASE_MIGRATION_URL"), false, `${where} has no DATABASE_MIGRATION_URL`);
        const ownerValues = [...env].filter(([, v]) => /\bown_[a-z]/.test(v)).map(([k]) => k);
        assert.deepEqual(ownerValues, [], `${where}: no variable names an own_ role`);
      }
      if ((DB_SERVICES as readonly string[]).includes(app.name) && app.name !== "ai") {
        const own = group.find((p) => p.pid === app.pid)?.env;
        assert.equal(own?.get("DATABASE_URL"), serviceDatabaseUrl(mesh.plan.postgres, app.name));
      }
    }
    // The migrate steps did run, as the owners: every relation of each schema belongs to own_<s>.
    const admin = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${mesh.plan.postgres}/${DATABASE}`,
    });
    await admin.connect();
    try {
      const owners = await admin.query(
        `SELECT n.nspname AS schema, array_agg(DISTINCT pg_get_userbyid(c.relowner)::text) AS owners, count(*)::int AS n
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) GROUP BY 1 ORDER BY 1`,
        [["auth", "sales", "dashboard", "payments", "notifications"]],
      );
      assert.equal(owners.rows.length, 5, JSON.stringify(owners.rows));
      for (const r of owners.rows as { schema: string; owners: string[]; n: number }[])
        assert.deepEqual(
          r.owners,
          [`own_${r.schema}`],
          `${r.schema}: ${r.n} relations, all owned by own_${r.schema}`,
        );
    } finally {
      await admin.end();
    }
  });

  test("row-level security: an unfiltered SELECT in tenant A's transaction sees nothing of B; the role cannot bypass it", async () => {
    const client = await authDb.connect();
    try {
      const role = await client.query(
        "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user",
      );
      assert.deepEqual(role.rows[0], { rolbypassrls: false, rolsuper: false });
      // Without a tenant: nothing at all.
      assert.equal(Number((await client.query("SELECT count(*) FROM memberships")).rows[0].count), 0);
      await client.query("BEGIN");
      await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [TENANT_IDS.caPhe]);
      for (const table of ["memberships", "locations", "refresh_tokens", "invites", "join_codes"]) {
        // Deliberately no WHERE on the tenant.
        const rows = (await client.query(`SELECT tenant_id FROM ${table}`)).rows as { tenant_id: string }[];
        assert.ok(
          rows.every((r) => r.tenant_id === TENANT_IDS.caPhe),
          `${table}: only tenant B's rows`,
        );
        if (["memberships", "locations", "refresh_tokens"].includes(table)) assert.ok(rows.length > 0, table);
      }
      // Writing a row of another tenant fails the policy's check.
      await assert.rejects(
        client.query(
          "INSERT INTO join_codes (code, tenant_id, role, location_ids) VALUES ('ZZZZ9999', $1, 'staff', $2)",
          [TENANT_IDS.phoBo, [DEMO.phoBo.hoanKiem]],
        ),
        /row-level security/,
      );
      await client.query("ROLLBACK");
      // Staff scope: with allowed locations set, other locations of the same tenant are invisible.
      await client.query("BEGIN");
      await client.query(
        "SELECT set_config('lsp.tenant_id', $1, true), set_config('lsp.location_ids', $2, true)",
        [TENANT_IDS.phoBo, DEMO.phoBo.hoanKiem],
      );
      const scoped = (await client.query("SELECT id FROM locations")).rows as { id: string }[];
      assert.deepEqual(
        scoped.map((r) => r.id),
        [DEMO.phoBo.hoanKiem],
      );
      await client.query("ROLLBACK");
      // Asking for row security off does not bypass it: the query fails instead.
      await client.query("SET row_security = off");
      await assert.rejects(client.query("SELECT * FROM memberships"), /row-level security/);
      await client.query("RESET row_security");
    } finally {
      client.release();
    }
  });
});
