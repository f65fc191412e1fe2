import { createHmac, timingSafeEqual } from "node:crypto";

/** Lower-case hex HMAC of a UTF-8 message: the form all three providers use. */
export function hmacHex(algorithm: "sha256" | "sha512", key: string, message: string): string {
  return createHmac(algorithm, key).update(message, "utf8").digest("hex");
}

const HEX = /^[0-9a-f]+$/i;

/**
 * Compares a computed hex digest with the one received, case-insensitively and in constant time
 * (timingSafeEqual), so that response timing reveals nothing about how many characters matched.
 * A length mismatch or non-hex input is a plain `false` (lengths are public anyway).
 */
export function hexDigestsEqual(expected: string, received: string): boolean {
  if (!HEX.test(received) || expected.length !== received.length) return false;
  return timingSafeEqual(
    Buffer.from(expected.toLowerCase(), "utf8"),
    Buffer.from(received.toLowerCase(), "utf8"),
  );
}

/** `yymmdd` and `yyyyMMddHHmmss` in GMT+7, the calendar all three gateways work in (no DST). */
export function gmt7Parts(at: Date): { yymmdd: string; compact: string } {
  const shifted = new Date(at.getTime() + 7 * 3600_000).toISOString(); // 2024-05-21T09:18:06.000Z
  const [date = "", time = ""] = shifted.split("T");
  const ymd = date.replaceAll("-", "");
  return { yymmdd: ymd.slice(2), compact: `${ymd}${time.slice(0, 8).replaceAll(":", "")}` };
}
