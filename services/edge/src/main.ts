import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import type { Request as ExpressRequest, Response as ExpressResponse } from "express";
import { createYoga, type Plugin } from "graphql-yoga";
import { useDisableIntrospection } from "@graphql-yoga/plugin-disable-introspection";
import { z } from "zod";
import { sidecarReady } from "@lsp/dapr";
import { BaseConfig, createLogger, httpMetrics, libraryLogger, loadConfig, startService } from "@lsp/runtime";
import { createDaprClient } from "@lsp/dapr/configuration";
import { maskGraphQLError } from "@lsp/graphql";
import { aiSubschema } from "./ai-subschema.js";
import type { EdgeContext } from "./context.js";
import { dashboardLiveSchema, mountDashboardEvents } from "./dashboard-live.js";
import { locationRootSchema } from "./location-root.js";
import { LiveConfig, mountGraphQLWs } from "./live.js";
import { ProtectionConfig, protectionPlugins } from "./protection.js";
import { fetchSdl, stitch, useCurrentSchema } from "./stitching.js";
import { schemaRegistry, subschemaApps } from "./schema-registry.js";
import { sharedRateLimitStore } from "./rate-limit-store.js";
import { callerOfRequest, createAuthenticator } from "./identity.js";
import { ClientAddressConfig, mountAuthPassThrough, upgradeClientAddress } from "./auth-passthrough.js";
import { TrustedDocumentsConfig, documentResolver, trustedDocuments } from "./trusted-documents.js";
import { mountWebhooks } from "./webhooks.js";
import { edgeFlags, featureFlagsSchema } from "./feature-flags.js";
import { resolveTenant, tenantSlugOf } from "./tenants.js";
import { memberChanges } from "./members.js";
import { countSdlFetch, graphqlMetricsPlugin } from "./metrics.js";
import { mountNotificationEvents, notificationsLiveSchema } from "./notifications-live.js";
import { ResponseCache, ResponseCacheConfig } from "./response-cache.js";
import { ExportConfig, exportsSchema, mountExportDownloads } from "./exports.js";
import { mountOrderEvents, ordersLiveSchema } from "./orders-live.js";
import { mountMenuEvents } from "./menu-events.js";
import {
  graphqlFront,
  parseByteLimit,
  useExecutionOutcome,
  useFrontParams,
  type FrontContext,
} from "./graphql-front.js";

const config = loadConfig(
  BaseConfig.extend(ProtectionConfig.shape)
    .extend(ResponseCacheConfig.shape)
    .extend(ClientAddressConfig.shape)
    .extend(LiveConfig.shape)
    .extend(TrustedDocumentsConfig.shape)
    .extend(ExportConfig.shape)
    .extend({
      // GraphiQL and introspection in development only (NODE_ENV=production turns them off
      // unless asked for): a production client knows its operations.
      GRAPHIQL: z.stringbool().default(process.env.NODE_ENV !== "production"),
      EDGE_INTROSPECTION: z.stringbool().default(process.env.NODE_ENV !== "production"),
      EDGE_SCHEMA_POLL_MS: z.coerce.number().int().positive().default(30_000),
      EDGE_SCHEMA_RETRY_MS: z.coerce.number().int().positive().default(500),
      // Readiness waits for these subschemas (comma-separated). Empty in the cluster: an edge
      // serves whatever answers and adds the rest when they come, so one service down does not
      // take the door out of rotation. The local launcher lists the apps it started, so a test
      // begins only when every field of the mesh it asked for is there.
      EDGE_SUBSCHEMAS_REQUIRED: z
        .string()
        .default("")
        .transform((list) => list.split(",").filter(Boolean)),
    }),
);
const log = createLogger(config.SERVICE_NAME);
const dapr = createDaprClient(config);
const members = memberChanges(log);
const authenticator = createAuthenticator(config, (identity, issuedAt) => members.check(identity, issuedAt));

// Feature flags: the `flags` configuration store, live in memory (feature-flags.ts).
const flags = edgeFlags(dapr, log);
const localSchemas = [
  aiSubschema(config, flags.isOn),
  notificationsLiveSchema(),
  dashboardLiveSchema(config, flags.isOn),
  featureFlagsSchema(flags, config),
  ordersLiveSchema(config),
  exportsSchema(config, config),
  // `location(id)` from the edge's location cache instead of a hop to auth (location-root.ts).
  locationRootSchema(config),
];
const schemas = schemaRegistry({
  apps: subschemaApps(config.LSP_ALLOWED_INVOCATIONS),
  required: config.EDGE_SUBSCHEMAS_REQUIRED,
  fetchSdl: (app) => countSdlFetch(app, fetchSdl(config, app)),
  build: (sdls) => stitch(config, sdls, localSchemas, config.EDGE_UPSTREAM_TIMEOUT_MS),
  log,
  pollMs: config.EDGE_SCHEMA_POLL_MS,
  retryMs: config.EDGE_SCHEMA_RETRY_MS,
});

// The caller is who their access token says (verified against auth's JWKS), in the tenant of the
// address (subdomain or X-Tenant); graphql-ws passes connectionParams as headers. Resolved once
// per request, shared by the response cache's key and the context.
const callers = new WeakMap<Request, ReturnType<typeof callerOfRequest>>();
function callerOf(request: Request): ReturnType<typeof callerOfRequest> {
  let caller = callers.get(request);
  if (!caller) {
    caller = callerOfRequest(authenticator, {
      host: request.headers.get("host"),
      xTenant: request.headers.get("x-tenant"),
      authorization: request.headers.get("authorization"),
    });
    callers.set(request, caller);
  }
  return caller;
}
const cache = config.EDGE_RESPONSE_CACHE_TTL_MS > 0 ? new ResponseCache(config) : undefined;

const productionOnly: Plugin[] = [
  ...(config.EDGE_INTROSPECTION ? [] : [useDisableIntrospection() as Plugin]),
  // Trusted-only mode per restaurant (flag edge.trusted_documents), on top of the global setting.
  ...trustedDocuments(config, async (request) => {
    const slug = tenantSlugOf(request.headers.get("host"), request.headers.get("x-tenant"));
    if (!slug) return false;
    const tenant = await resolveTenant(config, slug).catch(() => undefined);
    return tenant !== undefined && flags.isOn("edge.trusted_documents", { tenantId: tenant.id });
  }),
];

const yoga = createYoga<object, EdgeContext>({
  plugins: [
    useCurrentSchema(schemas.schema),
    // Requests of the front (graphql-front.ts) come with their body parsed already.
    useFrontParams(),
    // Per-operation GraphQL metrics (edge_graphql_*), HTTP and graphql-ws alike.
    graphqlMetricsPlugin(),
    ...protectionPlugins(
      config,
      process.env.NODE_ENV === "production",
      config.EDGE_RATE_LIMIT_STORE === "shared" ? sharedRateLimitStore(config) : undefined,
    ),
    ...productionOnly,
    // Last: sees only what every plugin above let through; tells the front what may be cached.
    useExecutionOutcome(),
  ],
  graphiql: config.GRAPHIQL,
  landingPage: false,
  // A fresh context per request; identity is resolved once and shared by every resolver.
  // The front (graphql-front.ts) has resolved the caller already; graphql-ws and the ordinary
  // path resolve it here.
  context: async ({ request, edgeCaller }: { request: Request } & Partial<FrontContext>) => {
    const caller = edgeCaller ?? (await callerOf(request));
    return { identity: caller.identity, forward: caller.forward };
  },
  maskedErrors: { maskError: maskGraphQLError(log) },
  logging: libraryLogger(log, "yoga"),
});

const { server } = await startService({
  config,
  log,
  // 503 until a schema holds every required subschema (a failed reload keeps the last good
  // one) and the flags' first snapshot is in.
  readiness: {
    sidecar: () => sidecarReady(config),
    schema: async () => schemas.checkReady(),
    flags: async () => {
      if (!flags.table.loaded) throw new Error("feature flags not loaded yet");
    },
  },
  // The only routes anyone may call: GraphQL, auth's four REST routes and JWKS, the providers'
  // webhooks. Everything else (Dapr deliveries) needs the app token only our sidecar has.
  publicRoutes: ["/graphql", "/api/v1/auth", "/api/v1/webhooks", "/.well-known/jwks.json", "/api/v1/exports"],
  rawBodyRoutes: ["/api/v1/webhooks"],
  routes(app) {
    mountWebhooks(app, config);
    mountAuthPassThrough(app, config, config.EDGE_TRUSTED_PROXY_HOPS);
    mountNotificationEvents(app, log);
    mountDashboardEvents(app, log, async (update) => {
      cache?.dropIds([update.locationId]);
    });
    // Signed CSV download links (requestExport): checked here, streamed from sales and dashboard.
    mountExportDownloads(app, config, log, (identity, issuedAtMs) => members.check(identity, issuedAtMs));
    // orderUpdates; a changed order drops cached answers that name it or its location.
    mountOrderEvents(app, log, async (update) => {
      cache?.dropIds([update.locationId, update.orderId]);
    });
    // A menu change (on any replica's sales call) drops the menus this replica cached.
    mountMenuEvents(app, log, async (ids) => {
      cache?.dropIds(ids);
    });
    members.mount(app, (tenantId, userId, reason) => ws.closeSocketsOf(tenantId, userId, reason));
    app.use(yoga.graphqlEndpoint, yoga);
  },
  onShutdown: async () => {
    schemas.stop();
    flags.stop();
    await ws.close();
  },
});
// POSTed JSON GraphQL requests are served by the front before Express (measured: Express's
// middleware chain cost more than a whole cached answer); everything else goes through Express.
const front = graphqlFront({
  path: yoga.graphqlEndpoint,
  bodyLimitBytes: parseByteLimit(config.BODY_LIMIT),
  cache,
  callerOf: (credentials) => callerOfRequest(authenticator, credentials),
  // The same RED metrics as Express's routes (http_server_*), under the route "/graphql".
  observe: (req, res) =>
    recordHttp(
      Object.assign(req, { route: { path: yoga.graphqlEndpoint }, baseUrl: "" }) as unknown as ExpressRequest,
      res as unknown as ExpressResponse,
      () => undefined,
    ),
  execute: (url, init, context) => yoga.fetch(url, init, context),
  log,
});
const viaExpress = server.listeners("request") as RequestListener[];
const recordHttp = httpMetrics();
server.removeAllListeners("request");
server.on("request", (req: IncomingMessage, res: ServerResponse) =>
  front(req, res, () => {
    for (const listener of viaExpress) listener(req, res);
  }),
);
// A slow or stuck client cannot hold a request (or its upload) open longer than this.
server.requestTimeout = config.EDGE_REQUEST_TIMEOUT_MS;
server.headersTimeout = Math.min(config.EDGE_REQUEST_TIMEOUT_MS, 10_000);
const ws = mountGraphQLWs(
  server,
  yoga,
  authenticator,
  config,
  (req) => upgradeClientAddress(req, config.EDGE_TRUSTED_PROXY_HOPS),
  documentResolver(config, (tenantId) => flags.isOn("edge.trusted_documents", { tenantId })),
  log,
);
void schemas.start();
