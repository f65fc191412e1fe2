import path from "node:path";
import {
  bootDatabaseService,
  serviceCallers,
  mountSubschema,
  pingDatabase,
  startOutboxRelay,
  startService,
  subscriptionRoute,
} from "@lsp/service-kit";
import type { SalesDB } from "./db.js";
import { applyPaymentSucceeded } from "./orders.js";
import { resolvers, typeDefs, type SalesContext } from "./schema.js";

const { config, log, database } = await bootDatabaseService<SalesDB>({
  schema: "sales",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
});
const { db, pool } = database;
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "sales", log });

// Users by their access token; payments and notifications as system callers in a tenant.
const callerOf = serviceCallers(config, { systemCallers: ["payments", "notifications"] });

await startService({
  config,
  log,
  readiness: { database: () => pingDatabase(pool) },
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
    await stopRelay();
    await db.destroy();
  },
});
