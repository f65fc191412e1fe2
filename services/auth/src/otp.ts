import { createHmac, randomInt, timingSafeEqual } from "node:crypto";
import { AppError, type Logger } from "@lsp/service-kit";
import type { DaprState } from "./dapr-state.js";
import { maskPhone } from "./phone.js";

/** OTP policy; the defaults are the product's (issue 3), tests shorten the TTL through env. */
export interface OtpPolicy {
  ttlSeconds: number;
  cooldownSeconds: number;
  maxAttempts: number;
  lockSeconds: number;
  /** Codes one phone may request per window. */
  phoneLimit: number;
  phoneWindowSeconds: number;
  /** Codes one client IP may request per window (many phones from one address = abuse). */
  ipLimit: number;
  ipWindowSeconds: number;
}

interface OtpRecord {
  hash: string;
  attempts: number;
  expiresAt: number;
}

export interface OtpDeps {
  state: DaprState;
  policy: OtpPolicy;
  /** Secret from the secret store: without it a leaked state store does not reveal codes. */
  pepper: string;
  sendSms: (to: string, text: string) => Promise<void>;
  log: Logger;
}

const keys = {
  code: (phone: string) => `otp:${phone}`,
  cooldown: (phone: string) => `otp-cooldown:${phone}`,
  lock: (phone: string) => `otp-lock:${phone}`,
  phoneWindow: (phone: string, w: number) => `otp-rate-phone:${phone}:${w}`,
  ipWindow: (ip: string, w: number) => `otp-rate-ip:${ip}:${w}`,
};

function hashCode(pepper: string, phone: string, code: string): string {
  return createHmac("sha256", pepper).update(`${phone}:${code}`).digest("hex");
}

function windowOf(seconds: number): number {
  return Math.floor(Date.now() / 1000 / seconds);
}

async function refuseIfLocked(deps: OtpDeps, phone: string): Promise<void> {
  if (await deps.state.get(keys.lock(phone)))
    throw new AppError("OTP_LOCKED", "too many wrong codes: this phone is locked for a while", {
      retryAfterSeconds: deps.policy.lockSeconds,
    });
}

/** Sends a fresh 6-digit code by SMS, unless a limit says no (each with its own code). */
export async function requestOtp(
  deps: OtpDeps,
  phone: string,
  clientIp: string,
): Promise<{ expiresInSeconds: number }> {
  const { state, policy } = deps;
  await refuseIfLocked(deps, phone);
  const cooling = await state.get<{ until: number }>(keys.cooldown(phone));
  if (cooling)
    throw new AppError("OTP_COOLDOWN", "a code was sent moments ago; wait before asking again", {
      retryAfterSeconds: Math.max(1, Math.ceil((cooling.value.until - Date.now()) / 1000)),
    });
  const perIp = await state.increment(
    keys.ipWindow(clientIp, windowOf(policy.ipWindowSeconds)),
    policy.ipWindowSeconds,
  );
  if (perIp > policy.ipLimit)
    throw new AppError("RATE_LIMITED", "too many codes requested from this address", { scope: "ip" });
  const perPhone = await state.increment(
    keys.phoneWindow(phone, windowOf(policy.phoneWindowSeconds)),
    policy.phoneWindowSeconds,
  );
  if (perPhone > policy.phoneLimit)
    throw new AppError("RATE_LIMITED", "too many codes requested for this phone", { scope: "phone" });

  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  const record: OtpRecord = {
    hash: hashCode(deps.pepper, phone, code),
    attempts: 0,
    expiresAt: Date.now() + policy.ttlSeconds * 1000,
  };
  await state.set(keys.code(phone), record, { ttlSeconds: policy.ttlSeconds });
  await state.set(
    keys.cooldown(phone),
    { until: Date.now() + policy.cooldownSeconds * 1000 },
    { ttlSeconds: policy.cooldownSeconds },
  );
  const minutes = Math.max(1, Math.round(policy.ttlSeconds / 60));
  await deps.sendSms(
    phone,
    `Mã xác thực LSP của bạn là ${code}. Mã có hiệu lực trong ${minutes} phút. Không chia sẻ mã này với bất kỳ ai.`,
  );
  deps.log.info({ phone: maskPhone(phone) }, "otp sent");
  return { expiresInSeconds: policy.ttlSeconds };
}

/**
 * Checks a code; a right one is used up, a wrong one counts, and the last allowed wrong one
 * locks the phone. Concurrent tries are serialized by the record's ETag.
 */
export async function verifyOtp(deps: OtpDeps, phone: string, code: string): Promise<void> {
  const { state, policy } = deps;
  await refuseIfLocked(deps, phone);
  for (let attempt = 0; attempt < 10; attempt++) {
    const current = await state.get<OtpRecord>(keys.code(phone));
    if (!current || current.value.expiresAt <= Date.now())
      throw new AppError(
        "OTP_EXPIRED",
        "no valid code for this phone (expired or never sent): ask for a new one",
      );
    const expected = Buffer.from(current.value.hash, "hex");
    const given = Buffer.from(hashCode(deps.pepper, phone, code), "hex");
    if (timingSafeEqual(expected, given)) {
      // Used up: the same code cannot log in twice.
      await state.delete(keys.code(phone));
      return;
    }
    const attempts = current.value.attempts + 1;
    if (attempts >= policy.maxAttempts) {
      await state.set(keys.lock(phone), { at: Date.now() }, { ttlSeconds: policy.lockSeconds });
      await state.delete(keys.code(phone));
      deps.log.warn({ phone: maskPhone(phone) }, "otp locked after too many wrong codes");
      throw new AppError("OTP_LOCKED", "too many wrong codes: this phone is locked for a while", {
        retryAfterSeconds: policy.lockSeconds,
      });
    }
    const ttlSeconds = (current.value.expiresAt - Date.now()) / 1000;
    const saved = await state.set(
      keys.code(phone),
      { ...current.value, attempts },
      { ttlSeconds, etag: current.etag },
    );
    if (saved)
      throw new AppError("OTP_INVALID", "wrong code", { attemptsLeft: policy.maxAttempts - attempts });
  }
  throw new AppError("UNAVAILABLE", "could not check the code; try again");
}
