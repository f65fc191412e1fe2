// Attacks on the OTP login, through the edge on the real mesh (issue 12, "Login and membership"):
// a burst of parallel guesses gets at most five compares per code; wrong guesses burn a code but
// cannot lock its owner out; verify is rate-limited per client address.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import jwt from "jsonwebtoken";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, authPost, demoPhone, login, readSmsCode, type Tokens } from "../support/graphql-client.js";

const VERIFY_IP_LIMIT = 10;
const COOLDOWN_SECONDS = 2;

let phoneSeq = 0;
/** A fresh, valid Vietnamese mobile number (VinaPhone 091x), different on every call. */
const freshPhone = () =>
  `+8491${String(Date.now() % 10_000).padStart(4, "0")}${String(phoneSeq++).padStart(3, "0")}`;
let ipSeq = 0;
/** A client address of its own (TEST-NET-2, then 198.18/15), as the edge reads it from X-Forwarded-For. */
const freshIp = () => `198.${18 + Math.floor(ipSeq / 250)}.${Math.floor(ipSeq / 250) % 250}.${ipSeq++ % 250}`;

type OtpAnswer = Tokens & {
  error?: { code: string; attemptsLeft?: number; reason?: string; scope?: string };
};

describe("attacks on the OTP login", { timeout: 300_000 }, () => {
  let mesh: Mesh;
  const tenant = DEMO.phoBo.slug;

  before(async () => {
    // A short cool-down so that the owner's fresh code comes quickly; a small verify budget per
    // address; the edge trusts X-Forwarded-For from loopback so that tests are many addresses.
    process.env.AUTH_OTP_COOLDOWN_SECONDS = String(COOLDOWN_SECONDS);
    process.env.AUTH_VERIFY_IP_LIMIT = String(VERIFY_IP_LIMIT);
    process.env.EDGE_TRUSTED_PROXY_HOPS = "1";
    mesh = await startTestMesh();
  });
  after(async () => {
    await mesh?.stop();
  });

  const request = (phone: string, ip: string) =>
    authPost<OtpAnswer>(
      mesh.edgeUrl,
      "otp/request",
      { phone },
      { "x-tenant": tenant, "x-forwarded-for": ip },
    );
  const verify = (phone: string, code: string, ip: string) =>
    authPost<OtpAnswer>(
      mesh.edgeUrl,
      "otp/verify",
      { phone, code },
      { "x-tenant": tenant, "x-forwarded-for": ip },
    );
  async function sendCode(phone: string, ip: string): Promise<string> {
    const since = Date.now() - 1000;
    const r = await request(phone, ip);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    const code = await readSmsCode(mesh.edgeUrl, phone, since);
    assert.ok(code, "the SMS reached the sink");
    return code;
  }
  const wrongFor = (code: string) => (code === "000000" ? "111111" : "000000");

  test("60 parallel wrong guesses from 60 addresses, then the right code: five compares, then refused", async () => {
    const phone = demoPhone(tenant, "staff") ?? "";
    const code = await sendCode(phone, freshIp());
    const answers = await Promise.all(
      Array.from({ length: 60 }, () => verify(phone, wrongFor(code), freshIp())),
    );
    const invalid = answers.filter((a) => a.body.error?.code === "OTP_INVALID");
    assert.equal(invalid.length, 5, JSON.stringify(answers.map((a) => a.body.error?.code)));
    assert.deepEqual(invalid.map((a) => a.body.error?.attemptsLeft).sort(), [0, 1, 2, 3, 4]);
    assert.ok(
      answers.every(
        (a) => a.status === 401 && ["OTP_INVALID", "OTP_EXPIRED"].includes(a.body.error?.code ?? ""),
      ),
      "every other guess was refused without a compare",
    );
    const right = await verify(phone, code, freshIp());
    assert.equal(right.status, 401, JSON.stringify(right.body));
    assert.equal(right.body.error?.code, "OTP_EXPIRED");
    assert.equal(right.body.error?.reason, "attempts");
  });

  test("an attacker's wrong guesses from another address cannot stop the owner logging in with a fresh code", async () => {
    const phone = demoPhone(tenant, "owner") ?? "";
    const ownerIp = freshIp();
    const attackerIp = freshIp();
    const first = await sendCode(phone, ownerIp);
    for (let i = 0; i < 6; i++) await verify(phone, wrongFor(first), attackerIp);
    // The code is burned …
    const burned = await verify(phone, first, ownerIp);
    assert.equal(burned.body.error?.code, "OTP_EXPIRED");
    // … but the phone is not locked: after the normal cool-down, a fresh code logs the owner in.
    let fresh = "";
    for (;;) {
      const since = Date.now() - 1000;
      const again = await request(phone, ownerIp);
      assert.notEqual(again.body.error?.code, "OTP_LOCKED");
      if (again.status === 202) {
        fresh = (await readSmsCode(mesh.edgeUrl, phone, since)) ?? "";
        break;
      }
      assert.equal(again.body.error?.code, "OTP_COOLDOWN", JSON.stringify(again.body));
      // Wait out exactly the cool-down auth names, then ask again.
      const retryAfter =
        (again.body.error as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds ?? 1;
      await new Promise((r) => setTimeout(r, retryAfter * 1000));
    }
    const ok = await verify(phone, fresh, ownerIp);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.role, "owner");
    // What auth issues always expires.
    const claims = jwt.decode(ok.body.accessToken, { json: true });
    assert.equal((claims?.exp ?? 0) - (claims?.iat ?? 0), 15 * 60);
  });

  test("verify is rate-limited per client address, whatever the phone; other addresses still log in", async () => {
    const attackerIp = freshIp();
    const phones = [freshPhone(), freshPhone(), freshPhone()];
    const statuses: string[] = [];
    for (let i = 0; i < VERIFY_IP_LIMIT; i++) {
      const r = await verify(phones[i % phones.length] ?? "", "123456", attackerIp);
      statuses.push(r.body.error?.code ?? String(r.status));
    }
    assert.ok(
      statuses.every((c) => c === "OTP_EXPIRED" || c === "OTP_INVALID"),
      statuses.join(),
    );
    const limited = await verify(phones[0] ?? "", "123456", attackerIp);
    assert.equal(limited.status, 429, JSON.stringify(limited.body));
    assert.equal(limited.body.error?.code, "RATE_LIMITED");
    assert.equal(limited.body.error?.scope, "ip");
    // The right code from the limited address is refused too: nothing is compared.
    const phone = demoPhone(DEMO.caPhe.slug, "owner") ?? "";
    const since = Date.now() - 1000;
    const sent = await authPost(mesh.edgeUrl, "otp/request", { phone }, { "x-tenant": DEMO.caPhe.slug });
    assert.equal(sent.status, 202);
    const code = (await readSmsCode(mesh.edgeUrl, phone, since)) ?? "";
    const fromAttacker = await authPost<OtpAnswer>(
      mesh.edgeUrl,
      "otp/verify",
      { phone, code },
      { "x-tenant": DEMO.caPhe.slug, "x-forwarded-for": attackerIp },
    );
    assert.equal(fromAttacker.body.error?.code, "RATE_LIMITED");
    const fromOwner = await authPost<OtpAnswer>(
      mesh.edgeUrl,
      "otp/verify",
      { phone, code },
      { "x-tenant": DEMO.caPhe.slug, "x-forwarded-for": freshIp() },
    );
    assert.equal(fromOwner.status, 200, JSON.stringify(fromOwner.body));
    // And the helper's ordinary login (the loopback address) is untouched.
    assert.equal((await login(mesh.edgeUrl, tenant, demoPhone(tenant, "manager") ?? "")).role, "manager");
  });
});
