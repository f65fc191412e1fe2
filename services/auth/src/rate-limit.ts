import { sql, type Kysely, type Transaction } from "kysely";
import { AppError } from "@lsp/runtime";
import type { AuthDB } from "./db.js";

export interface Limit {
  limit: number;
  windowSeconds: number;
}

/**
 * Counts one hit on a fixed-window counter and returns the count, in one upsert: parallel hits
 * queue on the row, so N hits count N (no read-then-write race). The window starts at the first
 * hit and a hit after it ends starts a new one.
 */
export async function hit(
  db: Kysely<AuthDB> | Transaction<AuthDB>,
  key: string,
  windowSeconds: number,
  now: Date = new Date(),
): Promise<{ hits: number; retryAfterSeconds: number }> {
  // `now` comes from the caller (one clock for the whole policy; tests move it).
  const ends = new Date(now.getTime() + windowSeconds * 1000);
  const row = await sql<{ hits: number; window_ends: Date }>`
    INSERT INTO rate_limits AS r (key, hits, window_ends)
    VALUES (${key}, 1, ${ends})
    ON CONFLICT (key) DO UPDATE SET
      hits = CASE WHEN r.window_ends <= ${now} THEN 1 ELSE r.hits + 1 END,
      window_ends = CASE WHEN r.window_ends <= ${now} THEN excluded.window_ends ELSE r.window_ends END
    RETURNING hits, window_ends`.execute(db);
  const r = row.rows[0];
  if (!r) throw new Error("rate limit upsert returned nothing");
  return {
    hits: r.hits,
    retryAfterSeconds: Math.max(1, Math.ceil((r.window_ends.getTime() - now.getTime()) / 1000)),
  };
}

/** Counts a hit and throws RATE_LIMITED (with `scope` and `retryAfterSeconds`) past the limit. */
export async function enforce(
  db: Kysely<AuthDB> | Transaction<AuthDB>,
  key: string,
  limit: Limit,
  scope: string,
  message: string,
  now: Date = new Date(),
): Promise<void> {
  const { hits, retryAfterSeconds } = await hit(db, key, limit.windowSeconds, now);
  if (hits > limit.limit) throw new AppError("RATE_LIMITED", message, { scope, retryAfterSeconds });
}

/**
 * The address a per-client limit counts on: IPv4 as is (also when IPv4-mapped), IPv6 by its /64
 * network, since one subscriber is routinely given a whole /64 and could otherwise rotate
 * through addresses to get a fresh budget on each.
 */
export function clientKey(ip: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(ip);
  if (mapped?.[1]) return mapped[1];
  if (!ip.includes(":")) return ip;
  const [head = "", tail = ""] = ip.toLowerCase().split("%")[0]?.split("::") ?? [];
  const left = head ? head.split(":") : [];
  const right = ip.includes("::") && tail ? tail.split(":") : [];
  const groups = ip.includes("::")
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}
