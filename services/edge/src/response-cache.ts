import { randomUUID } from "node:crypto";
import { createInMemoryCache, useResponseCache } from "@graphql-yoga/plugin-response-cache";
import type { Plugin } from "graphql-yoga";
import { z } from "zod";
import type { Identity } from "@lsp/service-kit";

export const ResponseCacheConfig = z.object({
  /** How long a query result is reused for the same caller (0 turns the cache off). */
  EDGE_RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).default(2_000),
  EDGE_RESPONSE_CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(10_000),
});
export type ResponseCacheConfig = z.infer<typeof ResponseCacheConfig>;

/**
 * Query results reused per caller for a short time (Yoga's response cache): a screen of owners
 * refreshing the same dashboard costs one stitched execution per TTL, not one per request.
 *
 * - Scoped per caller: the key includes the verified identity (tenant, user, role, locations),
 *   never just the query, so nobody is served another caller's answer. Requests whose token does
 *   not verify get a key of their own that is never reused.
 * - Fresh on demand: `Cache-Control: no-cache` (or `no-store`) executes the query (tests and
 *   tools that must see the upstream services use it).
 * - Results with errors are not cached (a degraded or partial answer is not reused).
 * - Invalidated by events: each `dashboard.updated` drops the cached results that contain that
 *   Location (when the query selected its `id`); otherwise the TTL bounds how old a figure is.
 */
export function responseCache(
  cfg: ResponseCacheConfig,
  identityOf: (request: Request) => Promise<Identity | undefined>,
): { plugin: Plugin; invalidateLocation: (id: string) => Promise<void> } {
  const cache = createInMemoryCache({ max: cfg.EDGE_RESPONSE_CACHE_MAX_ENTRIES });
  const plugin = useResponseCache({
    cache,
    ttl: cfg.EDGE_RESPONSE_CACHE_TTL_MS,
    enabled: (request) =>
      cfg.EDGE_RESPONSE_CACHE_TTL_MS > 0 &&
      !/no-cache|no-store/i.test(request.headers.get("cache-control") ?? ""),
    session: async (request) => {
      const who = await identityOf(request);
      if (!who) return `unverified:${randomUUID()}`;
      return [who.tenantId, who.userId ?? "", who.role ?? "", who.locationIds?.join(",") ?? "*"].join("|");
    },
  });
  return {
    plugin,
    invalidateLocation: async (id) => {
      await cache.invalidate([{ typename: "Location", id }]);
    },
  };
}
