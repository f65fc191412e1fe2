import path from "node:path";
import {
  bootDatabaseService,
  DAY_MS,
  deleteOlderThan,
  deleteThroughFunction,
  mountCsvExports,
  pingDatabase,
  startOutboxRelay,
  startRetention,
} from "@lsp/db";
import { serviceCallers } from "@lsp/identity";
import { mountSubschema } from "@lsp/graphql";
import { startService } from "@lsp/runtime";
import { subscriptionRoute, sidecarReady } from "@lsp/dapr";
import type { SalesDB } from "./db.js";
import { SALES_EXPORTS } from "./exports.js";
import { applyPaymentSucceeded } from "./orders.js";
import { resolvers, typeDefs, type SalesContext } from "./schema.js";

const { config, log, database } = await bootDatabaseService<SalesDB>({
  schema: "sales",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
});
const { db, pool } = database;
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "sales", log });
// Retention (README: Retention): published outbox rows 7 d; consumed event ids 45 d (longer than
// notifications keeps a dead letter it may replay to the payments topic); idempotency keys 30 d.
const stopRetention = startRetention({
  db,
  log,
  lockKey: "sales",
  rules: [
    {
      name: "outbox",
      horizonMs: 7 * DAY_MS,
      deleteBatch: deleteOlderThan({ table: "outbox", column: "published_at" }),
    },
    {
      name: "processed_events",
      horizonMs: 45 * DAY_MS,
      deleteBatch: deleteOlderThan({ table: "processed_events", column: "processed_at" }),
    },
    {
      name: "idempotency_keys",
      horizonMs: 30 * DAY_MS,
      deleteBatch: deleteThroughFunction("purge_idempotency_keys"),
    },
  ],
});

// Users by their access token; payments and notifications as system callers in a tenant.
const callerOf = serviceCallers(config, { systemCallers: ["payments", "notifications"] });

await startService({
  config,
  log,
  readiness: {
    sidecar: () => sidecarReady(config),
    database: () => pingDatabase(pool),
  },
  routes(app) {
    // Declarative subscription `sales-payments` (components/local/subscriptions.yaml).
    subscriptionRoute(
      app,
      "/events/payments",
      {
        "payment.succeeded": async (eventId, data) => {
          const outcome = await applyPaymentSucceeded(db, eventId, data);
          log.info({ eventId, orderId: data.orderId, outcome }, "payment.succeeded");
        },
      },
      log,
    );
    // CSV export slices for the edge's signed download links (edge only: a system caller).
    mountCsvExports(app, {
      prefix: "/v1/exports",
      pool,
      callerOf: serviceCallers(config, { systemCallers: ["edge"] }),
      log,
      exports: SALES_EXPORTS,
    });
    mountSubschema<SalesContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: async ({ request }) => ({
        ...(await callerOf(request.headers)),
        db,
        ports: config,
        menus: new Map(),
      }),
    });
  },
  onShutdown: async () => {
    await stopRetention();
    await stopRelay();
    await db.destroy();
  },
});
