import { createCounter, createHistogram, usePrometheus, type FillLabelsFnParams } from "@envelop/prometheus";
import type { Plugin } from "graphql-yoga";
import { Counter, Gauge, Histogram } from "prom-client";
import { registry } from "@lsp/runtime";

/**
 * The edge's own metrics (the RED metrics of its HTTP server come from @lsp/runtime, the
 * per-subschema delegation metrics `edge_upstream_*` from stitching.ts). Labels stay bounded:
 * no tenant, location or user; operation names go through `boundedOperationName`.
 */

// ---- GraphQL per operation (Envelop's Prometheus plugin) --------------------------------------

/** Distinct operation names kept as labels; later ones count as "other" (clients choose names). */
export const MAX_OPERATION_NAMES = 200;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const seenOperationNames = new Set<string>();

/**
 * The operation name as a label value: "Anonymous" without one, "other" once MAX_OPERATION_NAMES
 * distinct names were seen (a client sending random names must not blow up the series count).
 */
export function boundedOperationName(name: string | undefined, seen = seenOperationNames): string {
  if (!name) return "Anonymous";
  if (!OPERATION_NAME.test(name)) return "other";
  if (seen.has(name)) return name;
  if (seen.size >= MAX_OPERATION_NAMES) return "other";
  seen.add(name);
  return name;
}

const operationLabels = (p: FillLabelsFnParams) => ({
  operationName: boundedOperationName(p.operationName),
  operationType: p.operationType ?? "unknown",
});
const OPERATION_LABELS = ["operationName", "operationType"] as const;

/**
 * GraphQL operations at the edge, per operation name and type, over HTTP and graphql-ws alike
 * (both run through Yoga's envelop pipeline). The plugin counts an operation when its result is
 * complete: a query or mutation when it has executed, a subscription when its stream ends. The
 * duration histogram takes queries and mutations only (a subscription's "duration" would be how
 * long a screen stayed open, which would drown the p95).
 */
export function graphqlMetricsPlugin(): Plugin {
  return usePrometheus({
    registry,
    skipIntrospection: true,
    metrics: {
      graphql_envelop_request: createCounter({
        registry,
        counter: {
          name: "edge_graphql_operations_total",
          help: "GraphQL operations at the edge, by operation name and type (a subscription counts when its stream ends)",
          labelNames: OPERATION_LABELS,
        },
        fillLabelsFn: operationLabels,
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: {
          name: "edge_graphql_operation_duration_seconds",
          help: "Execution time of GraphQL queries and mutations at the edge, by operation name and type",
          labelNames: OPERATION_LABELS,
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        },
        fillLabelsFn: operationLabels,
        phases: ["execute"],
      }),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: {
          name: "edge_graphql_errors_total",
          help: "Errors in GraphQL results at the edge, by operation name and type and the phase that raised them",
          labelNames: [...OPERATION_LABELS, "phase"] as const,
        },
        fillLabelsFn: (p) => ({ ...operationLabels(p), phase: p.errorPhase ?? "execute" }),
      }),
    },
  }) as Plugin;
}

// ---- AI calls (ai-subschema.ts) ---------------------------------------------------------------

/** Why an AI answer was not used: the call ran out of its budget, failed, or answered garbage. */
export type AiFailure = "timeout" | "unavailable" | "unexpected_answer";

const aiCallSeconds = new Histogram({
  name: "edge_ai_call_duration_seconds",
  help: "Edge → ai actor calls (Dapr actor invocation) by actor method and outcome (ok or the failure)",
  labelNames: ["method", "outcome"] as const,
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 0.8, 1],
  registers: [registry],
});

const aiFallbacks = new Counter({
  name: "edge_ai_fallbacks_total",
  help: "Degraded AI answers served by the edge, by actor method, reason, and what was served (last_good: the last model answer; rules: the rule-based answer)",
  labelNames: ["method", "reason", "served"] as const,
  registers: [registry],
});

/** Times one actor call; `outcome` is "ok" or the failure. */
export function timeAiCall(method: string): (outcome: "ok" | AiFailure) => void {
  const end = aiCallSeconds.startTimer({ method });
  return (outcome) => void end({ outcome });
}

export function countAiFallback(method: string, reason: AiFailure, served: "last_good" | "rules"): void {
  aiFallbacks.inc({ method, reason, served });
}

// ---- webhook → screen (dashboard-live.ts) -----------------------------------------------------

const webhookToScreenSeconds = new Histogram({
  name: "edge_webhook_to_screen_seconds",
  help: "From a provider payment notice reaching payments (its webhook) to the edge pushing the resulting dashboard update to a subscriber; one observation per subscriber pushed to",
  buckets: [0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30],
  registers: [registry],
});

/** Observes one push of an update caused by a provider payment received at `receivedAt`. */
export function observeWebhookToScreen(receivedAt: string, now = Date.now()): void {
  const at = Date.parse(receivedAt);
  // A clock step between hosts could make it negative; such a sample says nothing.
  if (Number.isFinite(at) && now >= at) webhookToScreenSeconds.observe((now - at) / 1000);
}

// ---- live subscriptions (live-events.ts) -----------------------------------------------------

const liveSubscriptions = new Gauge({
  name: "edge_live_subscriptions",
  help: "GraphQL subscriptions of this edge replica listening for an event type (their stream has started: an update published now reaches them)",
  labelNames: ["event"] as const,
  registers: [registry],
});

/**
 * The event target of one live event type's pub/sub (graphql-yoga's createPubSub), counting its
 * listeners in `edge_live_subscriptions`. A listener is added when a subscription's stream starts
 * (after its resolver's checks) and removed when the stream ends, so the gauge says how many
 * screens an update published now reaches; tests wait on it instead of sleeping.
 */
export function countedEventTarget(event: string): EventTarget {
  const gauge = liveSubscriptions.labels({ event });
  gauge.set(0);
  const listeners = new Set<unknown>();
  return new (class extends EventTarget {
    override addEventListener(...args: Parameters<EventTarget["addEventListener"]>): void {
      super.addEventListener(...args);
      if (args[1] && !listeners.has(args[1])) {
        listeners.add(args[1]);
        gauge.inc();
      }
    }
    override removeEventListener(...args: Parameters<EventTarget["removeEventListener"]>): void {
      super.removeEventListener(...args);
      if (listeners.delete(args[1])) gauge.dec();
    }
  })();
}

// ---- schema reloads (schema-registry.ts, via main.ts) -----------------------------------------

const sdlFetches = new Counter({
  name: "edge_schema_sdl_fetches_total",
  help: "Requests of the edge's schema registry for a subschema's SDL (one per subschema per reload), by subschema and outcome (ok, failed: the service did not answer one; its last SDL stays in the schema)",
  labelNames: ["subschema", "outcome"] as const,
  registers: [registry],
});

/** Counts one SDL request of the schema registry by its outcome; passes its result on. */
export async function countSdlFetch(subschema: string, fetched: Promise<string>): Promise<string> {
  try {
    const sdl = await fetched;
    sdlFetches.inc({ subschema, outcome: "ok" });
    return sdl;
  } catch (err) {
    sdlFetches.inc({ subschema, outcome: "failed" });
    throw err;
  }
}

// ---- response cache (graphql-front.ts) --------------------------------------------------------

const responseCacheRequests = new Counter({
  name: "edge_response_cache_requests_total",
  help: "Cacheable GraphQL requests of verified callers at the edge, by outcome: hit (answered from the cache), not_modified (a hit answered 304 to If-None-Match), miss (executed)",
  labelNames: ["outcome"] as const,
  registers: [registry],
});

/** Bound once: a hit must not pay for a label lookup. */
export const countResponseCache = {
  hit: responseCacheRequests.labels({ outcome: "hit" }),
  notModified: responseCacheRequests.labels({ outcome: "not_modified" }),
  miss: responseCacheRequests.labels({ outcome: "miss" }),
};

// ---- CSV exports (exports.ts) -----------------------------------------------------------------
// Whole downloads as the client got them; the owning services count rows per slice
// (csv_export_rows_total, csv_export_bytes_total, csv_export_slice_duration_seconds).

/** How a download ended: ok (whole file), refused (before the first byte: typed error), cut (mid-file). */
export type ExportOutcome = "ok" | "refused" | "cut";

const exportDownloads = new Counter({
  name: "edge_export_downloads_total",
  help: "CSV export downloads by kind and outcome (ok: whole file; refused: a typed error before the first byte; cut: the transfer was broken mid-file)",
  labelNames: ["kind", "outcome"] as const,
  registers: [registry],
});
const exportBytes = new Counter({
  name: "edge_export_bytes_total",
  help: "Bytes of CSV passed on to clients, by export kind",
  labelNames: ["kind"] as const,
  registers: [registry],
});
const exportSeconds = new Histogram({
  name: "edge_export_duration_seconds",
  help: "From a download link's request to its last byte (or its failure), by export kind and outcome",
  labelNames: ["kind", "outcome"] as const,
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
  registers: [registry],
});

/** Counts one download's bytes as they pass, and its outcome and duration at the end. */
export function trackExport(kind: string): {
  bytes: (n: number) => void;
  end: (outcome: ExportOutcome) => void;
} {
  const started = performance.now();
  let ended = false;
  return {
    bytes: (n) => exportBytes.inc({ kind }, n),
    end: (outcome) => {
      if (ended) return;
      ended = true;
      exportDownloads.inc({ kind, outcome });
      exportSeconds.observe({ kind, outcome }, (performance.now() - started) / 1000);
    },
  };
}
