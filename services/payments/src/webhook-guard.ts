import { Counter } from "prom-client";
import { registry } from "@lsp/runtime";

/**
 * Keeps junk and forged webhooks from delaying genuine ones (issue 12):
 * - per source address (the edge passes the client's address as `x-lsp-client-ip`), a budget of
 *   *rejections*: a notice rejected before it could be trusted (malformed, bad signature, unknown
 *   reference) takes a token; a source with none left is refused (429) before any parsing or
 *   lookup until its budget refills. A provider's servers, whose notices verify, never spend it,
 *   however many they send;
 * - per provider merchant code a request claims (MoMo partnerCode, ZaloPay app_id, VNPay
 *   vnp_TmnCode), a rate of all requests: it bounds how much of payments one merchant code can
 *   take, whoever sends it, and is far above what a merchant receives;
 * - audit rows of unverified rejections sampled per source and overall (over the rate: counted
 *   in a metric, not written), each payload cut to `AUDIT_PAYLOAD_MAX_BYTES`.
 * The buckets live in memory, per replica, in maps of bounded size: an idle or evicted key is a
 * full bucket again, so eviction can only forgive, never block.
 */
export interface BucketOptions {
  /** Tokens added per second. */
  ratePerSecond: number;
  /** Bucket size: the burst a key may send at once. */
  burst: number;
  /** Keys kept at most (least recently used dropped first). */
  maxKeys?: number;
}

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly opts: BucketOptions) {}

  private refill(key: string, now: number): { tokens: number; at: number } {
    const b = this.buckets.get(key);
    const tokens = b
      ? Math.min(this.opts.burst, b.tokens + ((now - b.at) / 1000) * this.opts.ratePerSecond)
      : this.opts.burst;
    const fresh = { tokens, at: now };
    // Re-inserted: the Map's order is then least recently used first.
    this.buckets.delete(key);
    this.buckets.set(key, fresh);
    const max = this.opts.maxKeys ?? 10_000;
    while (this.buckets.size > max) {
      const oldest = this.buckets.keys().next().value;
      if (oldest === undefined) break;
      this.buckets.delete(oldest);
    }
    return fresh;
  }

  /** Whether the key has at least one token (nothing taken). */
  has(key: string, now = Date.now()): boolean {
    return this.refill(key, now).tokens >= 1;
  }

  /** Takes `cost` tokens if the key has them; false (and nothing taken) otherwise. */
  take(key: string, cost = 1, now = Date.now()): boolean {
    const b = this.refill(key, now);
    if (b.tokens < cost) return false;
    b.tokens -= cost;
    return true;
  }

  /** Charges `cost` after the fact, down to at most one burst of debt. */
  charge(key: string, cost: number, now = Date.now()): void {
    const b = this.refill(key, now);
    b.tokens = Math.max(-this.opts.burst, b.tokens - cost);
  }

  get size(): number {
    return this.buckets.size;
  }
}

export interface GuardOptions {
  /** Rejections of unverified notices one source may cause (then it is refused until refilled). */
  sourceRejections: BucketOptions;
  /** Requests naming one merchant code, verified or not. */
  merchant: BucketOptions;
  /** Audit rows of unverified rejections, per source and overall. */
  auditPerSource: BucketOptions;
  auditOverall: BucketOptions;
}

export const DEFAULT_GUARD: GuardOptions = {
  sourceRejections: { ratePerSecond: 2, burst: 30 },
  merchant: { ratePerSecond: 200, burst: 400 },
  auditPerSource: { ratePerSecond: 1, burst: 30 },
  auditOverall: { ratePerSecond: 5, burst: 200 },
};

const refused = new Counter({
  name: "payments_webhooks_refused_total",
  help: "Webhooks refused before any work, by provider and limit (source, merchant)",
  labelNames: ["provider", "limit"] as const,
  registers: [registry],
});
const auditSuppressed = new Counter({
  name: "payments_webhook_audit_suppressed_total",
  help: "Rejected webhooks not written to webhook_audit because their source (or all sources) is over the audit rate",
  labelNames: ["provider"] as const,
  registers: [registry],
});

const OVERALL = "*";

export class WebhookGuard {
  private readonly sources: TokenBuckets;
  private readonly merchants: TokenBuckets;
  private readonly audits: TokenBuckets;
  private readonly auditsOverall: TokenBuckets;
  constructor(opts: GuardOptions = DEFAULT_GUARD) {
    this.sources = new TokenBuckets(opts.sourceRejections);
    this.merchants = new TokenBuckets(opts.merchant);
    this.audits = new TokenBuckets(opts.auditPerSource);
    this.auditsOverall = new TokenBuckets(opts.auditOverall);
  }

  /** False when the source has used up its rejections: refuse before any work. */
  admitSource(provider: string, source: string): boolean {
    const ok = this.sources.has(source);
    if (!ok) refused.inc({ provider, limit: "source" });
    return ok;
  }

  admitMerchant(provider: string, merchantCode: string): boolean {
    const ok = this.merchants.take(`${provider}:${merchantCode}`);
    if (!ok) refused.inc({ provider, limit: "merchant" });
    return ok;
  }

  /** A request from `source` was rejected before it could be trusted. */
  penalize(source: string): void {
    this.sources.charge(source, 1);
  }

  /** Whether an unverified rejection from `source` may still be written to the audit. */
  mayAudit(provider: string, source: string): boolean {
    const ok = this.audits.has(source) && this.auditsOverall.take(OVERALL) && this.audits.take(source);
    if (!ok) auditSuppressed.inc({ provider });
    return ok;
  }
}

/** The source address the edge passed; anything unusable shares one "unknown" bucket. */
export function sourceOf(header: string | string[] | undefined): string {
  const v = Array.isArray(header) ? header[0] : header;
  return v && /^[0-9A-Fa-f:.]{2,45}$/.test(v) ? v : "unknown";
}

export const AUDIT_PAYLOAD_MAX_BYTES = 4096;

/**
 * At most `max` bytes of a payload for the audit (cut on a character boundary), marked when cut,
 * with the original size.
 */
export function auditPayload(
  payload: string,
  max = AUDIT_PAYLOAD_MAX_BYTES,
): { text: string; bytes: number; truncated: boolean } {
  const bytes = Buffer.byteLength(payload, "utf8");
  if (bytes <= max) return { text: payload, bytes, truncated: false };
  const marker = `…[truncated: ${bytes} bytes]`;
  const room = max - Buffer.byteLength(marker, "utf8");
  // Decoding a byte prefix may end in half a character (U+FFFD): drop it.
  const head = Buffer.from(payload, "utf8")
    .subarray(0, room)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
  return { text: `${head}${marker}`, bytes, truncated: true };
}
