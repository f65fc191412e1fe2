// OTP policy on an in-memory stand-in for the Dapr state API (pure logic: TTLs, counters, ETags).
import { test } from "node:test";
import assert from "node:assert/strict";
import { createLogger } from "@lsp/service-kit";
import type { DaprState, StateItem } from "../src/dapr-state.js";
import { requestOtp, verifyOtp, type OtpDeps, type OtpPolicy } from "../src/otp.js";
import { maskPhone, parseVietnameseMobile } from "../src/phone.js";

class MemoryState {
  items = new Map<string, { value: unknown; etag: number; expires: number }>();
  now = () => Date.now();
  async get<T>(key: string): Promise<StateItem<T> | undefined> {
    const item = this.items.get(key);
    if (!item || item.expires <= this.now()) return undefined;
    return { value: structuredClone(item.value) as T, etag: String(item.etag) };
  }
  async set<T>(key: string, value: T, opts: { ttlSeconds?: number; etag?: string } = {}): Promise<boolean> {
    const current = this.items.get(key);
    if (opts.etag && current && String(current.etag) !== opts.etag) return false;
    this.items.set(key, {
      value: structuredClone(value),
      etag: (current?.etag ?? 0) + 1,
      expires: opts.ttlSeconds ? this.now() + opts.ttlSeconds * 1000 : Infinity,
    });
    return true;
  }
  async delete(key: string): Promise<void> {
    this.items.delete(key);
  }
  async increment(key: string, windowSeconds: number): Promise<number> {
    const n = ((await this.get<{ n: number }>(key))?.value.n ?? 0) + 1;
    await this.set(key, { n }, { ttlSeconds: windowSeconds });
    return n;
  }
}

const policy: OtpPolicy = {
  ttlSeconds: 120,
  cooldownSeconds: 60,
  maxAttempts: 5,
  lockSeconds: 900,
  phoneLimit: 3,
  phoneWindowSeconds: 3600,
  ipLimit: 4,
  ipWindowSeconds: 600,
};

function setup(overrides: Partial<OtpPolicy> = {}) {
  const state = new MemoryState();
  const sent: { to: string; text: string }[] = [];
  const deps: OtpDeps = {
    state: state as unknown as DaprState,
    policy: { ...policy, ...overrides },
    pepper: "test-pepper",
    sendSms: async (to, text) => void sent.push({ to, text }),
    log: createLogger("test", "fatal"),
  };
  const lastCode = () => /(\d{6})/.exec(sent.at(-1)?.text ?? "")?.[1] ?? "";
  return { state, sent, deps, lastCode };
}

const PHONE = "+84912345678";

test("phones: Vietnamese mobiles in any usual spelling become E.164; others are refused", () => {
  for (const input of ["0912345678", "0912 345 678", "+84 912-345-678", "84912345678", "+84912345678"])
    assert.equal(parseVietnameseMobile(input), "+84912345678");
  assert.equal(parseVietnameseMobile("0381234567"), "+84381234567"); // Viettel 03x
  for (const bad of ["", "12345", "+14155552671", "01689123456", "0212345678", "09123456789", "+8491234567a"])
    assert.throws(() => parseVietnameseMobile(bad), { code: "BAD_USER_INPUT" }, bad);
  assert.equal(maskPhone("+84912345678"), "+84*****5678");
});

test("a code is sent by SMS, stored only as a hash, and works once", async () => {
  const { state, sent, deps, lastCode } = setup();
  assert.deepEqual(await requestOtp(deps, PHONE, "1.1.1.1"), { expiresInSeconds: 120 });
  assert.equal(sent.length, 1);
  const code = lastCode();
  assert.match(code, /^\d{6}$/);
  assert.ok(
    ![...state.items.values()].some((i) => JSON.stringify(i.value).includes(code)),
    "no plain code stored",
  );
  await verifyOtp(deps, PHONE, code);
  await assert.rejects(verifyOtp(deps, PHONE, code), { code: "OTP_EXPIRED" });
});

test("resend cool-down, then expiry after the TTL", async () => {
  const { state, deps, lastCode } = setup();
  await requestOtp(deps, PHONE, "1.1.1.1");
  await assert.rejects(requestOtp(deps, PHONE, "1.1.1.1"), { code: "OTP_COOLDOWN" });
  const t0 = Date.now();
  state.now = () => t0 + 121_000;
  await assert.rejects(verifyOtp(deps, PHONE, lastCode()), { code: "OTP_EXPIRED" });
});

test("five wrong codes lock the phone for the lock period", async () => {
  const { state, deps, lastCode } = setup();
  await requestOtp(deps, PHONE, "1.1.1.1");
  const wrong = lastCode() === "000000" ? "000001" : "000000";
  for (let i = 1; i <= 4; i++)
    await assert.rejects(verifyOtp(deps, PHONE, wrong), {
      code: "OTP_INVALID",
      details: { attemptsLeft: 5 - i },
    });
  await assert.rejects(verifyOtp(deps, PHONE, wrong), { code: "OTP_LOCKED" });
  await assert.rejects(verifyOtp(deps, PHONE, lastCode()), { code: "OTP_LOCKED" });
  await assert.rejects(requestOtp(deps, PHONE, "1.1.1.1"), { code: "OTP_LOCKED" });
  const t0 = Date.now();
  state.now = () => t0 + 901_000;
  await requestOtp(deps, PHONE, "1.1.1.1");
});

test("rate limits per phone and per client address", async () => {
  const { state, deps } = setup({ cooldownSeconds: 1 });
  let clock = Date.now();
  state.now = () => clock;
  for (let i = 0; i < 3; i++) {
    await requestOtp(deps, PHONE, `10.0.0.${i}`);
    clock += 1100;
  }
  await assert.rejects(requestOtp(deps, PHONE, "10.0.0.9"), {
    code: "RATE_LIMITED",
    details: { scope: "phone" },
  });

  const other = setup();
  for (let i = 0; i < 4; i++) await requestOtp(other.deps, `+8491234560${i}`, "2.2.2.2");
  await assert.rejects(requestOtp(other.deps, "+84912345609", "2.2.2.2"), {
    code: "RATE_LIMITED",
    details: { scope: "ip" },
  });
  assert.equal(other.sent.length, 4, "nothing sent past the limit");
});
