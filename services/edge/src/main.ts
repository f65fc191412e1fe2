import type { GraphQLSchema } from "graphql";
import { createYoga } from "graphql-yoga";
import { z } from "zod";
import {
  AppError,
  BaseConfig,
  createDaprClient,
  createLogger,
  libraryLogger,
  loadConfig,
  maskGraphQLError,
  startService,
  toAppError,
} from "@lsp/service-kit";
import { aiSubschema } from "./ai-subschema.js";
import type { EdgeContext } from "./context.js";
import { buildGatewaySchema } from "./stitching.js";
import { resolveTenant, tenantSlugOf } from "./tenants.js";
import { mountWebhooks } from "./webhooks.js";
import { mountNotificationEvents, notificationsLiveSchema } from "./notifications-live.js";

const config = loadConfig(BaseConfig.extend({ GRAPHIQL: z.stringbool().default(true) }));
const log = createLogger(config.SERVICE_NAME);
const dapr = createDaprClient(config, log);

let schema: GraphQLSchema | undefined;
async function loadSchema(): Promise<void> {
  for (let attempt = 1; !schema; attempt++) {
    try {
      schema = await buildGatewaySchema(config, [aiSubschema(dapr), notificationsLiveSchema()], log);
    } catch (err) {
      if (attempt % 10 === 1) log.warn({ err: String(err), attempt }, "subschemas not ready yet; retrying");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  log.info("gateway schema ready");
}

const yoga = createYoga<object, EdgeContext>({
  schema: () => {
    if (!schema) throw new AppError("UNAVAILABLE", "gateway schema not loaded yet");
    return schema;
  },
  graphiql: config.GRAPHIQL,
  landingPage: false,
  // A fresh context per request; identity is resolved once and shared by every resolver.
  context: async ({ request }) => {
    const slug = tenantSlugOf(request.headers.get("host"), request.headers.get("x-tenant"));
    let identity: ReturnType<EdgeContext["identity"]> | undefined;
    let failure: AppError | undefined;
    if (!slug)
      failure = new AppError("UNAUTHENTICATED", "no tenant: use <tenant>.<host> or the X-Tenant header");
    else {
      try {
        const tenant = await resolveTenant(config, slug);
        // Until phone login lands (issue 3) the edge acts as the tenant's owner.
        identity = { tenantId: tenant.id, role: "owner" };
      } catch (err) {
        failure = toAppError(err);
      }
    }
    return {
      identity: () => {
        if (identity) return identity;
        throw failure ?? new AppError("UNAUTHENTICATED", "not authenticated");
      },
    };
  },
  maskedErrors: { maskError: maskGraphQLError(log) },
  logging: libraryLogger(log, "yoga"),
});

await startService({
  config,
  log,
  readiness: { schema: async () => schema !== undefined },
  routes(app) {
    mountWebhooks(app, config);
    mountNotificationEvents(app, log);
    app.use(yoga.graphqlEndpoint, yoga);
  },
});
void loadSchema();
