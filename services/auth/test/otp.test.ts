// OTP policy on a real PostgreSQL (auth's own role): codes, cool-down, the attempt count taken
// before each compare, burned codes instead of locked phones, and the rate limits.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { createLogger } from "@lsp/runtime";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { AuthDB } from "../src/db.js";
import { requestOtp, sweepExpired, verifyOtp, type OtpDeps, type OtpPolicy } from "../src/otp.js";
import { maskPhone, parseVietnameseMobile } from "../src/phone.js";
import { clientKey } from "../src/rate-limit.js";

let database: TestServiceDatabase<AuthDB>;
before(async () => {
  database = await startServiceDatabase<AuthDB>("auth", path.join(import.meta.dirname, "..", "migrations"));
});
after(() => database?.stop());

const policy: OtpPolicy = {
  ttlSeconds: 120,
  cooldownSeconds: 60,
  maxAttempts: 5,
  phoneLimit: 3,
  phoneWindowSeconds: 3600,
  ipLimit: 4,
  ipWindowSeconds: 600,
  verifyIpLimit: 1000,
  verifyIpWindowSeconds: 600,
};

function setup(overrides: Partial<OtpPolicy> = {}) {
  const sent: { to: string; text: string }[] = [];
  let clock = Date.now();
  const deps: OtpDeps = {
    db: database.db,
    policy: { ...policy, ...overrides },
    pepper: "test-pepper",
    sendSms: async (to, text) => void sent.push({ to, text }),
    log: createLogger("test", "fatal"),
    now: () => new Date(clock),
  };
  const lastCode = (to?: string) =>
    /(\d{6})/.exec(sent.filter((m) => !to || m.to === to).at(-1)?.text ?? "")?.[1] ?? "";
  const advance = (seconds: number) => void (clock += seconds * 1000);
  return { sent, deps, lastCode, advance };
}

/** A fresh phone and client address per test: the tests share one database. */
let seq = 0;
const freshPhone = () =>
  `+8491${String(process.pid % 1000).padStart(3, "0")}${String(seq++).padStart(4, "0")}`;
const freshIp = () => `203.0.113.${seq++ % 250}`;
/** Rejects with `code` and at least these details. */
async function refused(p: Promise<unknown>, code: string, details: Record<string, unknown> = {}) {
  await assert.rejects(p, (err: { code?: string; details?: Record<string, unknown> }) => {
    assert.equal(err.code, code);
    for (const [k, v] of Object.entries(details)) assert.deepEqual(err.details?.[k], v, k);
    return true;
  });
}
const wrongFor = (code: string) => (code === "000000" ? "000001" : "000000");

test("phones: Vietnamese mobiles in any usual spelling become E.164; others are refused", () => {
  for (const input of ["0912345678", "0912 345 678", "+84 912-345-678", "84912345678", "+84912345678"])
    assert.equal(parseVietnameseMobile(input), "+84912345678");
  assert.equal(parseVietnameseMobile("0381234567"), "+84381234567"); // Viettel 03x
  for (const bad of ["", "12345", "+14155552671", "01689123456", "0212345678", "09123456789", "+8491234567a"])
    assert.throws(() => parseVietnameseMobile(bad), { code: "BAD_USER_INPUT" }, bad);
  assert.equal(maskPhone("+84912345678"), "+84*****5678");
});

test("client addresses: IPv4 as is, IPv4-mapped as IPv4, IPv6 by its /64", () => {
  assert.equal(clientKey("198.51.100.7"), "198.51.100.7");
  assert.equal(clientKey("::ffff:198.51.100.7"), "198.51.100.7");
  assert.equal(clientKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(clientKey("2001:0db8:0001:0002:ffff:0:0:9"), "2001:db8:1:2::/64");
  assert.equal(clientKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.notEqual(clientKey("2001:db8:1:3::1"), clientKey("2001:db8:1:2::1"));
});

test("a code is sent by SMS, stored only as a hash, and works once", async () => {
  const { sent, deps, lastCode } = setup();
  const phone = freshPhone();
  assert.deepEqual(await requestOtp(deps, phone, freshIp()), { expiresInSeconds: 120 });
  assert.equal(sent.length, 1);
  const code = lastCode();
  assert.match(code, /^\d{6}$/);
  const stored = await database.db.selectFrom("otp_codes").selectAll().where("phone", "=", phone).execute();
  assert.equal(stored.length, 1);
  assert.ok(!JSON.stringify(stored).includes(code), "no plain code stored");
  await verifyOtp(deps, phone, code, freshIp());
  await assert.rejects(verifyOtp(deps, phone, code, freshIp()), { code: "OTP_EXPIRED" });
});

test("resend cool-down (parallel requests send one code), then expiry after the TTL", async () => {
  const { sent, deps, lastCode, advance } = setup({ ipLimit: 100 });
  const phone = freshPhone();
  const ip = freshIp();
  const outcomes = await Promise.allSettled(Array.from({ length: 10 }, () => requestOtp(deps, phone, ip)));
  assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 1);
  for (const o of outcomes)
    if (o.status === "rejected") assert.equal((o.reason as { code: string }).code, "OTP_COOLDOWN");
  assert.equal(sent.length, 1, "one SMS");
  await refused(requestOtp(deps, phone, ip), "OTP_COOLDOWN", { retryAfterSeconds: 60 });
  advance(121);
  await refused(verifyOtp(deps, phone, lastCode(), freshIp()), "OTP_EXPIRED", { reason: "expired" });
});

test("60 parallel wrong guesses then the right code: at most 5 compares, the right code is refused", async () => {
  const { deps, lastCode } = setup();
  const phone = freshPhone();
  await requestOtp(deps, phone, freshIp());
  const code = lastCode();
  // From 60 different addresses: the per-code count does not depend on who guesses.
  const outcomes = await Promise.allSettled(
    Array.from({ length: 60 }, (_, i) => verifyOtp(deps, phone, wrongFor(code), `198.18.0.${i}`)),
  );
  const errors = outcomes.map((o) => {
    assert.equal(o.status, "rejected");
    return (o as PromiseRejectedResult).reason as { code: string; details?: { attemptsLeft?: number } };
  });
  const invalid = errors.filter((e) => e.code === "OTP_INVALID");
  assert.equal(invalid.length, 5, "exactly five compares");
  assert.deepEqual(invalid.map((e) => e.details?.attemptsLeft).sort(), [0, 1, 2, 3, 4]);
  assert.equal(errors.filter((e) => e.code === "OTP_EXPIRED").length, 55);
  await refused(verifyOtp(deps, phone, code, freshIp()), "OTP_EXPIRED", { reason: "attempts" });
  const row = await database.db
    .selectFrom("otp_codes")
    .select("attempts")
    .where("phone", "=", phone)
    .executeTakeFirstOrThrow();
  assert.equal(row.attempts, 5, "nothing counted past the cap");
});

test("the right code among 60 parallel guesses: at most one call logs in", async () => {
  const { deps, lastCode } = setup();
  const phone = freshPhone();
  await requestOtp(deps, phone, freshIp());
  const code = lastCode();
  const guesses = Array.from({ length: 60 }, (_, i) => (i % 2 ? code : wrongFor(code)));
  const outcomes = await Promise.allSettled(
    guesses.map((g, i) => verifyOtp(deps, phone, g, `198.18.1.${i}`)),
  );
  assert.ok(outcomes.filter((o) => o.status === "fulfilled").length <= 1);
  const compared = outcomes.filter(
    (o) => o.status === "fulfilled" || (o.reason as { code: string }).code === "OTP_INVALID",
  );
  assert.ok(compared.length <= 5, `${compared.length} compares`);
});

test("wrong guesses burn the code but lock nobody out: the owner gets a fresh code after the cool-down", async () => {
  const { sent, deps, lastCode, advance } = setup();
  const phone = freshPhone();
  const owner = freshIp();
  await requestOtp(deps, phone, owner);
  const first = lastCode();
  for (let i = 0; i < 5; i++)
    await assert.rejects(verifyOtp(deps, phone, wrongFor(first), "192.0.2.66"), { code: "OTP_INVALID" });
  await assert.rejects(verifyOtp(deps, phone, first, owner), { code: "OTP_EXPIRED" });
  // No lock: the normal cool-down, then a new code that works.
  await assert.rejects(requestOtp(deps, phone, owner), { code: "OTP_COOLDOWN" });
  advance(61);
  await requestOtp(deps, phone, owner);
  assert.equal(sent.length, 2);
  await verifyOtp(deps, phone, lastCode(), owner);
});

test("verify is limited per client address (IPv6 by /64), whatever the phone; other addresses are not", async () => {
  const { deps, lastCode, advance } = setup({ verifyIpLimit: 4, verifyIpWindowSeconds: 600, ipLimit: 100 });
  const phones = [freshPhone(), freshPhone()];
  for (const p of phones) await requestOtp(deps, p, freshIp());
  const attacker = "2001:db8:66:1::1";
  for (let i = 0; i < 4; i++)
    await assert.rejects(verifyOtp(deps, phones[i % 2] ?? "", "999999", `2001:db8:66:1::${i + 1}`), {
      code: "OTP_INVALID",
    });
  const right = lastCode(phones[1]);
  await refused(verifyOtp(deps, phones[1] ?? "", right, attacker), "RATE_LIMITED", { scope: "ip" });
  // The refused call compared nothing; the owner, elsewhere, logs in.
  await verifyOtp(deps, phones[1] ?? "", right, "192.0.2.77");
  // A new window: the address is heard again (the code has expired meanwhile).
  advance(601);
  await assert.rejects(verifyOtp(deps, phones[0] ?? "", "999999", attacker), { code: "OTP_EXPIRED" });
});

test("rate limits per phone and per client address; a refused request counts against nothing", async () => {
  const { deps, advance } = setup({ cooldownSeconds: 1 });
  const phone = freshPhone();
  for (let i = 0; i < 3; i++) {
    await requestOtp(deps, phone, `10.0.${seq}.${i}`);
    // Inside the cool-down: refused, and not counted against the phone's three.
    await assert.rejects(requestOtp(deps, phone, `10.0.${seq}.${i}`), { code: "OTP_COOLDOWN" });
    advance(1.1);
  }
  await refused(requestOtp(deps, phone, "10.0.9.9"), "RATE_LIMITED", { scope: "phone" });

  const other = setup();
  const ip = freshIp();
  for (let i = 0; i < 4; i++) await requestOtp(other.deps, freshPhone(), ip);
  await refused(requestOtp(other.deps, freshPhone(), ip), "RATE_LIMITED", { scope: "ip" });
  assert.equal(other.sent.length, 4, "nothing sent past the limit");
});

test("the sweep drops long-expired codes and ended windows only", async () => {
  const { deps } = setup();
  const phone = freshPhone();
  await requestOtp(deps, phone, freshIp());
  await sweepExpired(database.db);
  const kept = await database.db.selectFrom("otp_codes").select("phone").where("phone", "=", phone).execute();
  assert.equal(kept.length, 1);
  await sweepExpired(database.db, new Date(Date.now() + 2 * 3600_000));
  const left = await database.db.selectFrom("otp_codes").select("phone").where("phone", "=", phone).execute();
  assert.equal(left.length, 0);
});
