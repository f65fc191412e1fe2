import path from "node:path";
import { z } from "zod";
import { sidecarReady } from "@lsp/dapr";
import { bootDatabaseService, pingDatabase, startOutboxRelay, startRetention } from "@lsp/db";
import { createDaprClient } from "@lsp/dapr/configuration";
import { liveFlags } from "@lsp/flags";
import { serviceCallers } from "@lsp/identity";
import { mountSubschema } from "@lsp/graphql";
import { startService } from "@lsp/runtime";
import { locationChangesRoute } from "@lsp/locations";
import type { PaymentsDB } from "./db.js";
import { resolvers, typeDefs, type PaymentsContext } from "./schema.js";
import { reconcile } from "./reconcile.js";
import { retentionConfig, retentionRules } from "./retention.js";
import { DEFAULT_GUARD, WebhookGuard } from "./webhook-guard.js";
import { mountWebhookRoutes } from "./webhook-http.js";

/** Provider hosts (sandbox by default) and our public address, used to build signed requests. */
const providerConfig = {
  MOMO_ENDPOINT: z.url().default("https://test-payment.momo.vn"),
  ZALOPAY_ENDPOINT: z.url().default("https://sb-openapi.zalopay.vn"),
  VNPAY_ENDPOINT: z.url().default("https://sandbox.vnpayment.vn"),
  PUBLIC_URL: z.url().default("http://localhost:4000"),
  /** A callback later than this is considered missed and the provider is asked. */
  RECONCILE_AFTER_SECONDS: z.coerce.number().int().min(0).default(300),
  /** Rejected (unverified) webhooks per second, and burst, one source address may cause (webhook-guard.ts). */
  WEBHOOK_SOURCE_REJECTS_PER_SECOND: z.coerce
    .number()
    .positive()
    .default(DEFAULT_GUARD.sourceRejections.ratePerSecond),
  WEBHOOK_SOURCE_REJECT_BURST: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_GUARD.sourceRejections.burst),
  /** Webhooks per second (and burst) naming one provider merchant code. */
  WEBHOOK_MERCHANT_RATE: z.coerce.number().positive().default(DEFAULT_GUARD.merchant.ratePerSecond),
  WEBHOOK_MERCHANT_BURST: z.coerce.number().int().positive().default(DEFAULT_GUARD.merchant.burst),
  ...retentionConfig,
};

const { config, log, database } = await bootDatabaseService<PaymentsDB, typeof providerConfig>({
  schema: "payments",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
  extraConfig: providerConfig,
});
const { db, pool } = database;
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "payments", log });
// Feature flags (provider-flags.ts): the `flags` configuration store, live in memory.
const flags = liveFlags(createDaprClient(config), log);
const deps = { db, ports: config, log, flags: flags.table };
const guard = new WebhookGuard({
  ...DEFAULT_GUARD,
  sourceRejections: {
    ratePerSecond: config.WEBHOOK_SOURCE_REJECTS_PER_SECOND,
    burst: config.WEBHOOK_SOURCE_REJECT_BURST,
  },
  merchant: { ratePerSecond: config.WEBHOOK_MERCHANT_RATE, burst: config.WEBHOOK_MERCHANT_BURST },
});
const stopRetention = startRetention({
  db,
  log,
  lockKey: "payments",
  intervalMs: config.RETENTION_INTERVAL_SECONDS * 1000,
  rules: retentionRules(config),
});

// Users by their access token (no service calls this subschema as `system`).
const callerOf = serviceCallers(config);

await startService({
  config,
  log,
  readiness: {
    sidecar: () => sidecarReady(config),
    database: () => pingDatabase(pool),
    flags: async () => flags.table.loaded,
  },
  routes(app) {
    // auth's location.changed keeps the location-settings cache current (@lsp/locations).
    locationChangesRoute(app, log);
    // Internal: the edge forwards provider webhooks here through Dapr service invocation.
    mountWebhookRoutes(app, deps, guard);
    // Input binding `reconcile-cron`: Dapr POSTs here on its schedule (components/local/payments.yaml).
    app.post("/reconcile-cron", async (_req, res) => {
      res.json(await reconcile(deps, { minAgeMs: config.RECONCILE_AFTER_SECONDS * 1000 }));
    });
    mountSubschema<PaymentsContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: async ({ request }) => ({
        ...(await callerOf(request.headers)),
        db,
        ports: config,
        log,
        endpoints: config,
        flags: flags.table,
      }),
    });
  },
  onShutdown: async () => {
    flags.stop();
    await stopRetention();
    await stopRelay();
    await db.destroy();
  },
});
