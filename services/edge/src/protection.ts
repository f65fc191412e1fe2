import { EnvelopArmor } from "@escape.tech/graphql-armor";
import { useRateLimiter, type Store } from "@envelop/rate-limiter";
import { GraphQLError } from "graphql";
import type { Plugin } from "graphql-yoga";
import { z } from "zod";
import type { EdgeContext } from "./context.js";
import { MemoryRateLimitStore } from "./rate-limit-store.js";

/** Limits of the edge, from env (EDGE_*), with defaults sized for the mobile and web apps. */
export const ProtectionConfig = z.object({
  // 12 lets GraphiQL's introspection query (the deepest our schema allows) through.
  EDGE_MAX_DEPTH: z.coerce.number().int().positive().default(12),
  EDGE_MAX_TOKENS: z.coerce.number().int().positive().default(2_000),
  EDGE_MAX_ALIASES: z.coerce.number().int().positive().default(15),
  EDGE_MAX_DIRECTIVES: z.coerce.number().int().positive().default(20),
  EDGE_MAX_COST: z.coerce.number().int().positive().default(5_000),
  /** Root fields per caller (tenant + user, or the client address) and window. */
  EDGE_RATE_LIMIT_MAX: z.coerce.number().int().positive().default(600),
  EDGE_RATE_LIMIT_WINDOW: z.string().default("1m"),
  /**
   * Where the windows are counted: `memory` (each replica its own), or `shared` (the cache state
   * store, one budget across edge replicas: rate-limit-store.ts). The launcher and the chart set
   * `shared` where more than one edge replica runs.
   */
  EDGE_RATE_LIMIT_STORE: z.enum(["memory", "shared"]).default("memory"),
  /** Budget of one upstream (subschema) request, and of a whole HTTP request. */
  EDGE_UPSTREAM_TIMEOUT_MS: z.coerce.number().int().positive().default(5_000),
  EDGE_REQUEST_TIMEOUT_MS: z.coerce.number().int().positive().default(60_000),
});
export type ProtectionConfig = z.infer<typeof ProtectionConfig>;

function typed(code: string, message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code } });
}

/** Who a rate limit counts against: the caller's tenant and user, else its address. */
function callerKey(ctx: unknown): string {
  const c = ctx as Partial<EdgeContext> & { request?: Request };
  try {
    const who = c.identity?.();
    if (who) return `${who.tenantId}:${who.userId ?? "owner"}`;
  } catch {
    // not authenticated: fall back to the address
  }
  return c.request?.headers.get("x-forwarded-for") ?? "anonymous";
}

/**
 * Query-shape limits (GraphQL Armor: depth, tokens, aliases, directives, cost, no field
 * suggestions in production) and per-caller rate limits (@envelop/rate-limiter), each rejection
 * a typed error. Body size and time limits are set on the HTTP server and executors (main.ts,
 * stitching.ts).
 */
export function protectionPlugins(cfg: ProtectionConfig, production: boolean, store?: Store): Plugin[] {
  const reject = (code: string) => [
    (_ctx: unknown, error: GraphQLError) => void (error.extensions.code ??= code),
  ];
  const armor = new EnvelopArmor({
    // Introspection counts too: `ofType { ofType { … } }` is the only way to nest deep here.
    maxDepth: { n: cfg.EDGE_MAX_DEPTH, ignoreIntrospection: false, onReject: reject("QUERY_TOO_DEEP") },
    maxTokens: { n: cfg.EDGE_MAX_TOKENS, onReject: reject("QUERY_TOO_LARGE") },
    maxAliases: { n: cfg.EDGE_MAX_ALIASES, onReject: reject("TOO_MANY_ALIASES") },
    maxDirectives: { n: cfg.EDGE_MAX_DIRECTIVES, onReject: reject("TOO_MANY_DIRECTIVES") },
    costLimit: { maxCost: cfg.EDGE_MAX_COST, onReject: reject("QUERY_TOO_COSTLY") },
    blockFieldSuggestion: { enabled: production },
  });
  return [
    ...(armor.protect().plugins as Plugin[]),
    useRateLimiter({
      identifyFn: callerKey,
      // Default: this replica's memory, bounded (rate-limit-store.ts; not the library's own store).
      store: store ?? new MemoryRateLimitStore(cfg.EDGE_RATE_LIMIT_MAX),
      configByField: [
        { type: "Query", field: "*", max: cfg.EDGE_RATE_LIMIT_MAX, window: cfg.EDGE_RATE_LIMIT_WINDOW },
        { type: "Mutation", field: "*", max: cfg.EDGE_RATE_LIMIT_MAX, window: cfg.EDGE_RATE_LIMIT_WINDOW },
        {
          type: "Subscription",
          field: "*",
          max: cfg.EDGE_RATE_LIMIT_MAX,
          window: cfg.EDGE_RATE_LIMIT_WINDOW,
        },
      ],
      transformError: (message) => typed("RATE_LIMITED", message),
    }) as Plugin,
  ];
}
