import { createHash } from "node:crypto";
import { LRUCache } from "lru-cache";
import { z } from "zod";
import type { Identity } from "@lsp/identity";

export const ResponseCacheConfig = z.object({
  /** How long a query result is reused for the same caller (0 turns the cache off). */
  EDGE_RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).default(2_000),
  EDGE_RESPONSE_CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(10_000),
  /** Bytes of cached answers kept at most (their JSON text), whatever their number. */
  EDGE_RESPONSE_CACHE_MAX_BYTES: z.coerce
    .number()
    .int()
    .positive()
    .default(64 * 1024 * 1024),
});
export type ResponseCacheConfig = z.infer<typeof ResponseCacheConfig>;

/** What a cached answer is looked up by: who asks, for what, in which response format. */
export interface CacheLookup {
  /** The verified caller (never a header's claim: an unverified request is never looked up). */
  identity: Identity;
  /** The trusted document's hash when the client sent one, else the document's text. */
  document: { hash: string } | { text: string };
  operationName: string | undefined;
  /** The variables as sent (JSON), or undefined. */
  variables: unknown;
  /** The client's Accept header: it chooses the answer's media type. */
  accept: string;
}

/** One answer as it went out: replayed byte for byte on a hit. */
export interface CachedAnswer {
  contentType: string;
  body: string;
  etag: string;
  /** The ids (UUIDs) the answer depends on: an event about any of them drops it. */
  ids: ReadonlySet<string>;
}

/** The part of the key that says who asks: tenant, user, role and allowed locations. */
export function identityKey(who: Identity): string {
  const locations = who.locationIds ? [...who.locationIds].sort().join(",") : "*";
  return `${who.tenantId}|${who.userId ?? ""}|${who.role ?? ""}|${locations}`;
}

/**
 * The cache key: a SHA-256 over the verified identity, the document (trusted-document hash or
 * text), the operation name, the variables and the Accept header. Two callers never share a key
 * unless they are the same tenant, user, role and locations.
 */
export function cacheKey(lookup: CacheLookup): string {
  const document = "hash" in lookup.document ? `h:${lookup.document.hash}` : `q:${lookup.document.text}`;
  return createHash("sha256")
    .update(identityKey(lookup.identity))
    .update("\0")
    .update(document)
    .update("\0")
    .update(lookup.operationName ?? "")
    .update("\0")
    .update(lookup.variables === undefined ? "" : JSON.stringify(lookup.variables))
    .update("\0")
    .update(lookup.accept)
    .digest("base64url");
}

/** A strong ETag of an answer's bytes. */
export function etagOf(body: string): string {
  return `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
}

/** True when `If-None-Match` names `etag` (RFC 9110 §13.1.2: weak comparison; `*` matches). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  const opaque = etag.replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === opaque;
  });
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The ids an answer depends on: every UUID in the request (literal arguments and variables) and
 * in the answer (`id`, `locationId`…). A location's figures change → its id is in every answer
 * that shows them, whether or not the query selected `id` (a query by `location(id: …)` names it
 * in its arguments). Over-matching only drops an entry early.
 */
export function idsOf(...texts: string[]): Set<string> {
  const ids = new Set<string>();
  for (const text of texts) for (const m of text.matchAll(UUID)) ids.add(m[0].toLowerCase());
  return ids;
}

/**
 * Whether an executed answer may be reused: a query, no errors, and no degraded AI answer (a
 * fallback is for now, not for the next TTL).
 */
export function reusable(outcome: { operation?: string; errors?: boolean }, body: string): boolean {
  return outcome.operation === "query" && outcome.errors === false && !body.includes('"degraded":true');
}

/**
 * Query answers reused per caller for a short time, answered before Yoga's pipeline: a room of
 * phones refreshing the same dashboard costs one stitched execution per TTL, and a hit costs a
 * hash and a lookup (no parse, validation or plugins).
 *
 * - Scoped per caller: the key holds the verified identity (tenant, user, role, locations).
 * - Bounded: an LRU of at most EDGE_RESPONSE_CACHE_MAX_ENTRIES answers and _MAX_BYTES bytes,
 *   each for EDGE_RESPONSE_CACHE_TTL_MS.
 * - Invalidated by events: `dropIds` removes every answer that depends on one of the ids
 *   (`dashboard.updated` names its location; a successful mutation names what it touched).
 * - Never refilled with what a drop made stale: an execution takes a `begin()` mark, and its
 *   answer is not stored when one of its ids was dropped after that mark. (Without it, a query
 *   that read the old figures while the event was on its way stored them after the drop, and
 *   they were served until the TTL ran out: CI saw exactly that with a 60 s TTL.)
 */
export class ResponseCache {
  private readonly entries: LRUCache<string, CachedAnswer>;
  /** How many drops have happened: the mark `begin()` hands out. */
  private drops = 0;
  /** The drop (its number) that last named each id; bounded, the oldest forgotten first. */
  private readonly droppedAt: LRUCache<string, number>;
  /** The newest drop number that `droppedAt` has forgotten: marks before it cannot be trusted. */
  private forgottenUpTo = 0;

  constructor(cfg: ResponseCacheConfig) {
    this.entries = new LRUCache<string, CachedAnswer>({
      max: cfg.EDGE_RESPONSE_CACHE_MAX_ENTRIES,
      maxSize: cfg.EDGE_RESPONSE_CACHE_MAX_BYTES,
      sizeCalculation: (a) => Math.max(1, a.body.length),
      ttl: cfg.EDGE_RESPONSE_CACHE_TTL_MS,
      ttlAutopurge: false,
    });
    this.droppedAt = new LRUCache<string, number>({
      max: cfg.EDGE_RESPONSE_CACHE_MAX_ENTRIES,
      dispose: (drop, _id, reason) => {
        if (reason === "evict") this.forgottenUpTo = Math.max(this.forgottenUpTo, drop);
      },
    });
  }

  get(key: string): CachedAnswer | undefined {
    return this.entries.get(key);
  }

  /** A mark to take before executing a query whose answer may be stored with `set`. */
  begin(): number {
    return this.drops;
  }

  /**
   * Stores an answer computed since `mark` (from `begin()`), unless one of its ids was dropped
   * since then (the answer may predate the change); returns whether it was stored.
   */
  set(key: string, answer: CachedAnswer, mark: number): boolean {
    if (mark < this.forgottenUpTo) return false;
    for (const id of answer.ids) if ((this.droppedAt.get(id) ?? 0) > mark) return false;
    this.entries.set(key, answer);
    return true;
  }

  /** Drops every answer that depends on one of `ids`; returns how many. */
  dropIds(ids: Iterable<string>): number {
    const wanted = [...ids].map((id) => id.toLowerCase());
    if (wanted.length === 0) return 0;
    this.drops++;
    for (const id of wanted) this.droppedAt.set(id, this.drops);
    const doomed: string[] = [];
    // At most MAX_ENTRIES answers (and a 2 s TTL keeps it far fewer): a scan beats an index
    // that would have to be kept in step with every eviction.
    for (const [key, answer] of this.entries.entries())
      if (wanted.some((id) => answer.ids.has(id))) doomed.push(key);
    for (const key of doomed) this.entries.delete(key);
    return doomed.length;
  }

  get size(): number {
    return this.entries.size;
  }
}
