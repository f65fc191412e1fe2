import path from "node:path";
import {
  bootDatabaseService,
  identityFromHeaders,
  mountSubschema,
  pingDatabase,
  startService,
  subscriptionRoute,
} from "@lsp/service-kit";
import type { DashboardDB } from "./db.js";
import { applyOrderCreated } from "./read-model.js";
import { resolvers, typeDefs, type DashboardContext } from "./schema.js";

const { config, log, database } = await bootDatabaseService<DashboardDB>({
  schema: "dashboard",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
});
const { db, pool } = database;

await startService({
  config,
  log,
  readiness: { database: () => pingDatabase(pool) },
  routes(app) {
    // Declarative subscription `dashboard-orders` (components/) delivers the orders topic here.
    subscriptionRoute(
      app,
      "/events/orders",
      {
        "order.created": async (eventId, data) => {
          const applied = await applyOrderCreated(db, eventId, data);
          log.debug({ eventId, applied }, "order.created");
        },
      },
      log,
    );
    mountSubschema<DashboardContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: ({ request }) => ({ db, ports: config, identity: () => identityFromHeaders(request.headers) }),
    });
  },
  onShutdown: () => db.destroy(),
});
