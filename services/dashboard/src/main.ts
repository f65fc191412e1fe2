import path from "node:path";
import {
  bootDatabaseService,
  fetchLocation,
  identityFromHeaders,
  mountSubschema,
  pingDatabase,
  startOutboxRelay,
  startService,
  subscriptionRoute,
} from "@lsp/service-kit";
import { reportCache } from "./cache.js";
import { coalescer } from "./coalesce.js";
import type { DashboardDB } from "./db.js";
import { applyOrderEvent, type Applied, type OrderEvent } from "./read-model.js";
import { dayReport } from "./report.js";
import { reportKey, resolvers, typeDefs, type DashboardContext } from "./schema.js";

const { config, log, database } = await bootDatabaseService<DashboardDB>({
  schema: "dashboard",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
});
const { db, pool } = database;
const cache = reportCache(config, log);
// dashboard.updated leaves through the outbox, committed with the figures it announces.
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "dashboard", log });

const refreshOnce = coalescer<string>();

/**
 * Keeps a cached report fresh after an event: recomputed only if readers keep it warm, and once
 * for a burst of events on the same report (a busy location's events arrive ten at a time).
 */
function refreshCache(applied: Applied): Promise<void> {
  const key = reportKey(applied.tenantId, applied.locationId, applied.businessDay);
  return refreshOnce(key, async () => {
    if (!(await cache.has(key))) return;
    const who = { tenantId: applied.tenantId, role: "system" as const };
    const location = await fetchLocation(config, who, applied.locationId);
    await cache.put(key, await dayReport(db, applied.tenantId, location, applied.businessDay));
  });
}

async function onEvent(eventId: string, event: OrderEvent): Promise<void> {
  const applied = await applyOrderEvent(db, eventId, event);
  log.debug({ eventId, type: event.type, applied: applied !== null }, "order event");
  if (applied) await refreshCache(applied).catch((err: unknown) => log.warn({ err }, "cache refresh failed"));
}

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
        "order.created": (id, data) => onEvent(id, { type: "order.created", data }),
        "order.paid": (id, data) => onEvent(id, { type: "order.paid", data }),
        "order.voided": (id, data) => onEvent(id, { type: "order.voided", data }),
      },
      log,
    );
    mountSubschema<DashboardContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: ({ request }) => ({
        db,
        ports: config,
        cache,
        identity: () => identityFromHeaders(request.headers),
        log,
        reports: new Map(),
      }),
    });
  },
  onShutdown: async () => {
    await stopRelay();
    await db.destroy();
  },
});
