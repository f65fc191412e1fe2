// Phone OTP through the edge: the full login, wrong codes, expiry and resend, rate limits per
// client address.
import { test } from "node:test";
import assert from "node:assert/strict";
import jwt from "jsonwebtoken";
import { DEMO, authPost, demoPhone, readSmsCode, smsSinkUrl } from "../../support/graphql-client.js";
import { TENANT_IDS, OTP_TTL_SECONDS, freshPhone, ME, type Me, type AuthMesh } from "../../support/auth.js";

export function otpLoginScenarios(h: AuthMesh): void {
  test("the full OTP login: code by SMS (sink), verify, then the edge knows who is calling", async () => {
    const { mesh, gqlAs, verify } = h;
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
    const { mesh, sendCode, verify } = h;
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
    const { mesh, sendCode, verify } = h;
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
    const { mesh } = h;
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
}
