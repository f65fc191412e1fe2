import { buildHTTPExecutor } from "@graphql-tools/executor-http";
import { stitchSchemas } from "@graphql-tools/stitch";
import { stitchingDirectives } from "@graphql-tools/stitching-directives";
import type { SubschemaConfig } from "@graphql-tools/delegate";
import { filterSchema, pruneSchema, type Executor, type ExecutionResult } from "@graphql-tools/utils";
import type { Plugin } from "graphql-yoga";
import { buildSchema, GraphQLError, GraphQLSchema } from "graphql";
import { Counter, Histogram } from "prom-client";
import { ERROR_STATUS, registry } from "@lsp/runtime";
import { invokeService, type SidecarPorts } from "@lsp/dapr";
import type { EdgeContext } from "./context.js";

const { stitchingDirectivesTransformer } = stitchingDirectives();

const upstreamRequests = new Counter({
  name: "edge_upstream_requests_total",
  help: "GraphQL requests the edge sent to each subschema (one per batch), by outcome",
  labelNames: ["subschema", "outcome"] as const,
  registers: [registry],
});
const upstreamDuration = new Histogram({
  name: "edge_upstream_request_duration_seconds",
  help: "Duration of the edge's requests to each subschema",
  labelNames: ["subschema"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

/** Asks one service for its subschema (`_sdl`) through Dapr service invocation. */
export async function fetchSdl(ports: SidecarPorts, app: string): Promise<string> {
  const res = await invokeService(ports, app, "graphql", {
    body: JSON.stringify({ query: "{ _sdl }" }),
    timeoutMs: 3000,
  });
  if (!res.ok) throw new Error(`${app}: SDL request answered ${res.status}`);
  const body = (await res.json()) as { data?: { _sdl?: string } };
  if (!body.data?._sdl) throw new Error(`${app}: no SDL in answer`);
  return body.data._sdl;
}

/** Codes a service itself answers with; anything else without data is a transport failure. */
const SERVICE_CODES = new Set<string>([
  ...Object.keys(ERROR_STATUS),
  "GRAPHQL_VALIDATION_FAILED",
  "GRAPHQL_PARSE_FAILED",
]);

/**
 * Counts and times each upstream request, and turns a transport failure (service down, sidecar
 * timeout, open circuit breaker: an answer without data whose errors are not a service's own,
 * e.g. executor-http's RESPONSE_VALIDATION_FAILED / SUBREQUEST_HTTP_ERROR, which also carry the
 * request body) into one UNAVAILABLE error, placed by stitching at the paths of that service's
 * fields. A mutation that timed out may still have committed: clients retry with the same
 * idempotency key.
 */
function instrumented(app: string, executor: Executor): Executor {
  return async (request) => {
    const end = upstreamDuration.startTimer({ subschema: app });
    try {
      const result = (await executor(request)) as ExecutionResult;
      const failed =
        result.data == null &&
        (result.errors ?? []).every((e) => !SERVICE_CODES.has(String(e.extensions?.code ?? "")));
      upstreamRequests.inc({ subschema: app, outcome: failed ? "unavailable" : "ok" });
      if (!failed) return result;
      return {
        errors: [
          new GraphQLError(`${app} is unavailable right now`, { extensions: { code: "UNAVAILABLE" } }),
        ],
      };
    } finally {
      end();
    }
  };
}

function remoteSubschema(ports: SidecarPorts, app: string, sdl: string, timeoutMs: number): SubschemaConfig {
  const executor = buildHTTPExecutor({
    // Every request goes through the one sidecar client (token, path checks); the URL is unused.
    endpoint: `http://${app}.dapr.invalid/graphql`,
    fetch: async (_url: string, init?: RequestInit) => {
      const headers = Object.fromEntries(new Headers(init?.headers).entries());
      return invokeService(ports, app, "graphql", {
        method: init?.method ?? "POST",
        ...(typeof init?.body === "string" ? { body: init.body } : {}),
        headers,
        timeoutMs,
      });
    },
    // The caller travels as itself: the user's own access token, verified again by the service.
    headers: (req) => {
      const ctx = req?.context as EdgeContext | undefined;
      return ctx ? ctx.forward() : {};
    },
    // The budget is the sidecar client's (`timeoutMs` above: no answer within it is UNAVAILABLE);
    // executor-http's own `timeout` would only make an abort signal that the fetch above never
    // reads (measured: with it, each upstream request paid for a timer, an AbortSignal.any and
    // their finalizers, about 4 % of an executed query at the edge). Retries are Dapr
    // resiliency's job (components/local/resiliency.yaml): one retry layer.
  });
  // `batch: true` merges the root fields of one tick into one request per service (no N+1);
  // merged types resolve through each service's list field (`@merge` + keyField → argsFromKeys).
  return {
    schema: buildSchema(sdl),
    executor: instrumented(app, executor as Executor),
    batch: true,
    name: app,
  } as SubschemaConfig;
}

/**
 * Root fields named `_…` are stitching's plumbing (`_sdl`, the `_<service>Locations` merge
 * fields, the live subschemas' placeholders): stitching resolves merged types through the
 * subschemas themselves, so the public schema does not offer them to clients at all.
 */
export function isPublicRootField(name: string): boolean {
  return !name.startsWith("_");
}

/**
 * Stitches the services' subschemas that are in (by app, in the registry's order) with the edge's
 * own schemas; throws when they do not stitch.
 */
export function stitch(
  ports: SidecarPorts,
  sdls: ReadonlyMap<string, string>,
  local: (GraphQLSchema | SubschemaConfig)[],
  timeoutMs: number,
): GraphQLSchema {
  const stitched = stitchSchemas({
    subschemaConfigTransforms: [stitchingDirectivesTransformer],
    subschemas: [
      ...[...sdls].map(([app, sdl]) => remoteSubschema(ports, app, sdl, timeoutMs)),
      // A local schema is batched like a service unless it says otherwise (location-root.ts).
      ...local.map((l) => (l instanceof GraphQLSchema ? { schema: l, batch: true } : l)),
    ],
  });
  return pruneSchema(
    filterSchema({ schema: stitched, rootFieldFilter: (_op, name) => isPublicRootField(name) }),
  );
}

/**
 * Serves the registry's current schema to every operation, over HTTP and graphql-ws alike (Yoga's
 * own schema factory is bound to HTTP request parsing, so WebSocket operations would miss it).
 */
export function useCurrentSchema(current: () => GraphQLSchema | undefined): Plugin {
  return {
    onEnveloped({ setSchema }) {
      const schema = current();
      if (!schema)
        throw new GraphQLError("gateway schema not loaded yet", { extensions: { code: "UNAVAILABLE" } });
      setSchema(schema);
    },
  };
}
