import { createHmac, randomInt, timingSafeEqual } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { AppError, type Logger } from "@lsp/runtime";
import type { AuthDB } from "./db.js";
import { maskPhone } from "./phone.js";
import { clientKey, enforce } from "./rate-limit.js";

/**
 * OTP policy (README "Login policy"); the defaults are the product's, tests shorten some.
 * There is no per-phone lock: anything counted per phone on verify is a lever to lock someone
 * else out, so wrong guesses only use up the code they were made against.
 */
export interface OtpPolicy {
  ttlSeconds: number;
  cooldownSeconds: number;
  /** Compares allowed per code; the last one burns it (ask for a new code). */
  maxAttempts: number;
  /** Codes one phone may request per window (SMS cost; the one per-phone limit). */
  phoneLimit: number;
  phoneWindowSeconds: number;
  /** Codes one client address may request per window (many phones from one address = abuse). */
  ipLimit: number;
  ipWindowSeconds: number;
  /** Verify calls one client address may make per window, whatever the phone. */
  verifyIpLimit: number;
  verifyIpWindowSeconds: number;
}

export interface OtpDeps {
  db: Kysely<AuthDB>;
  policy: OtpPolicy;
  /** Secret from the secret store: without it a leaked database does not reveal codes. */
  pepper: string;
  sendSms: (to: string, text: string) => Promise<void>;
  log: Logger;
  /** The policy's one clock (tests move it). */
  now?: () => Date;
}

function hashCode(pepper: string, phone: string, code: string): string {
  return createHmac("sha256", pepper).update(`${phone}:${code}`).digest("hex");
}

const clock = (deps: OtpDeps) => (deps.now ?? (() => new Date()))();

/**
 * Sends a fresh 6-digit code by SMS (replacing any earlier one), unless the cool-down or a limit
 * says no. The checks and the new code are one transaction serialised per phone, so parallel
 * requests cannot both pass the cool-down, and a refused request counts against no limit.
 */
export async function requestOtp(
  deps: OtpDeps,
  phone: string,
  clientIp: string,
): Promise<{ expiresInSeconds: number }> {
  const { db, policy } = deps;
  const now = clock(deps);
  const code = String(randomInt(0, 1_000_000)).padStart(6, "0");
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`otp:${phone}`}))`.execute(trx);
    const current = await trx
      .selectFrom("otp_codes")
      .select("sent_at")
      .where("phone", "=", phone)
      .executeTakeFirst();
    const coolingUntil = (current?.sent_at.getTime() ?? 0) + policy.cooldownSeconds * 1000;
    if (coolingUntil > now.getTime())
      throw new AppError("OTP_COOLDOWN", "a code was sent moments ago; wait before asking again", {
        retryAfterSeconds: Math.max(1, Math.ceil((coolingUntil - now.getTime()) / 1000)),
      });
    await enforce(
      trx,
      `otp-request-ip:${clientKey(clientIp)}`,
      { limit: policy.ipLimit, windowSeconds: policy.ipWindowSeconds },
      "ip",
      "too many codes requested from this address",
      now,
    );
    await enforce(
      trx,
      `otp-request-phone:${phone}`,
      { limit: policy.phoneLimit, windowSeconds: policy.phoneWindowSeconds },
      "phone",
      "too many codes requested for this phone",
      now,
    );
    const row = {
      code_hash: hashCode(deps.pepper, phone, code),
      attempts: 0,
      sent_at: now,
      expires_at: new Date(now.getTime() + policy.ttlSeconds * 1000),
    };
    await trx
      .insertInto("otp_codes")
      .values({ phone, ...row })
      .onConflict((c) => c.column("phone").doUpdateSet(row))
      .execute();
  });
  const minutes = Math.max(1, Math.round(policy.ttlSeconds / 60));
  await deps.sendSms(
    phone,
    `Mã xác thực LSP của bạn là ${code}. Mã có hiệu lực trong ${minutes} phút. Không chia sẻ mã này với bất kỳ ai.`,
  );
  deps.log.info({ phone: maskPhone(phone) }, "otp sent");
  return { expiresInSeconds: policy.ttlSeconds };
}

/**
 * Checks a code. The attempt is counted first, by one UPDATE … RETURNING that only succeeds
 * while the code is live and has attempts left; only then is the code compared. Parallel guesses
 * queue on the row, so at most `maxAttempts` compares ever happen per code, however many arrive
 * at once. A right code is used up (deleted) by the one call that compared it; the last allowed
 * wrong one leaves the code burned. The client address is rate-limited first, whatever the phone.
 */
export async function verifyOtp(deps: OtpDeps, phone: string, code: string, clientIp: string): Promise<void> {
  const { db, policy } = deps;
  const now = clock(deps);
  await enforce(
    db,
    `otp-verify-ip:${clientKey(clientIp)}`,
    { limit: policy.verifyIpLimit, windowSeconds: policy.verifyIpWindowSeconds },
    "ip",
    "too many codes tried from this address",
    now,
  );
  const claimed = await db
    .updateTable("otp_codes")
    .set((eb) => ({ attempts: eb("attempts", "+", 1) }))
    .where("phone", "=", phone)
    .where("expires_at", ">", now)
    .where("attempts", "<", policy.maxAttempts)
    .returning(["code_hash", "attempts", "sent_at"])
    .executeTakeFirst();
  if (!claimed) {
    const burned = await db
      .selectFrom("otp_codes")
      .select("phone")
      .where("phone", "=", phone)
      .where("expires_at", ">", now)
      .executeTakeFirst();
    if (burned)
      throw new AppError(
        "OTP_EXPIRED",
        "too many wrong codes: this code no longer works; ask for a new one",
        { reason: "attempts" },
      );
    throw new AppError(
      "OTP_EXPIRED",
      "no valid code for this phone (expired or never sent): ask for a new one",
      { reason: "expired" },
    );
  }
  const expected = Buffer.from(claimed.code_hash, "hex");
  const given = Buffer.from(hashCode(deps.pepper, phone, code), "hex");
  if (timingSafeEqual(expected, given)) {
    // Used up: of two parallel right codes, one deletes the row and the other finds nothing.
    const used = await db
      .deleteFrom("otp_codes")
      .where("phone", "=", phone)
      .where("code_hash", "=", claimed.code_hash)
      .where("sent_at", "=", claimed.sent_at)
      .executeTakeFirst();
    if (used.numDeletedRows === 0n)
      throw new AppError("OTP_EXPIRED", "this code was just used: ask for a new one", { reason: "used" });
    return;
  }
  const attemptsLeft = policy.maxAttempts - claimed.attempts;
  if (attemptsLeft === 0)
    deps.log.warn({ phone: maskPhone(phone) }, "otp code burned after too many wrong codes");
  throw new AppError("OTP_INVALID", "wrong code", { attemptsLeft });
}

/**
 * Drops codes and counters that can no longer matter (run periodically). A code is kept an hour
 * past its expiry: its `sent_at` is what the resend cool-down reads.
 */
export async function sweepExpired(db: Kysely<AuthDB>, now = new Date()): Promise<number> {
  const codes = await db
    .deleteFrom("otp_codes")
    .where("expires_at", "<=", new Date(now.getTime() - 3600_000))
    .executeTakeFirst();
  const limits = await db.deleteFrom("rate_limits").where("window_ends", "<=", now).executeTakeFirst();
  return Number(codes.numDeletedRows + limits.numDeletedRows);
}
