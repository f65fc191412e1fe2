import path from "node:path";
import {
  bootDatabaseService,
  DAY_MS,
  deleteOlderThan,
  pingDatabase,
  startOutboxRelay,
  startRetention,
} from "@lsp/db";
import { fetchLocation, locationChangesRoute } from "@lsp/locations";
import { serviceCallers } from "@lsp/identity";
import { mountSubschema } from "@lsp/graphql";
import { startService } from "@lsp/runtime";
import { bulkSubscriptionRoute, type BulkEvent, type BulkStatus, sidecarReady } from "@lsp/dapr";
import { DEFAULT_CUTOVER_HOUR } from "@lsp/contracts";
import { groupCommit } from "./batcher.js";
import { reportCache } from "./cache.js";
import { coalescer } from "./coalesce.js";
import { acceptOnlyKnownLocations, authLocations } from "./event-check.js";
import type { DashboardDB } from "./db.js";
import { mountDashboardExports } from "./exports.js";
import { applyOrderEvents, type Applied, type OrderEvent } from "./read-model.js";
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
// Retention (README: Retention): published outbox rows 7 d, consumed event ids 90 d. The event
// journal is kept whole: a rebuild drops every fact and replays all of it.
const stopRetention = startRetention({
  db,
  log,
  lockKey: "dashboard",
  rules: [
    {
      name: "outbox",
      horizonMs: 7 * DAY_MS,
      deleteBatch: deleteOlderThan({ table: "outbox", column: "published_at" }),
    },
    {
      name: "processed_events",
      horizonMs: 90 * DAY_MS,
      deleteBatch: deleteOlderThan({ table: "processed_events", column: "processed_at" }),
    },
  ],
});

const refreshOnce = coalescer<string>();
/** At most this many events in one transaction (a batch holds its location-days' locks). */
const BATCH_MAX_EVENTS = 500;

/** The newest version each report has been moved to by an applied batch, until a refresh takes it. */
const newestVersion = new Map<string, number>();

/**
 * Keeps a cached report fresh after an event: recomputed only if readers keep it warm, and once
 * for a burst of events on the same report (a busy location's events arrive ten at a time); a
 * report nobody has cached gets a floor at the event's version instead, so that a reader that
 * computed it before the event cannot store the old figures after it (cache.ts). The report
 * reads the cut-over its day's events carried: no call to auth on the event path.
 */
function refreshCache(applied: Applied): Promise<void> {
  const key = reportKey(applied.tenantId, applied.locationId, applied.businessDay);
  newestVersion.set(key, Math.max(newestVersion.get(key) ?? 0, applied.version));
  // A burst shares one queued refresh (the first caller's closure): it takes the newest version.
  return refreshOnce(key, async () => {
    const version = newestVersion.get(key) ?? applied.version;
    newestVersion.delete(key);
    if ((await cache.advance(key, version)) === "cold") return;
    const location = { id: applied.locationId, cutoverHour: DEFAULT_CUTOVER_HOUR };
    await cache.put(key, await dayReport(db, applied.tenantId, location, applied.businessDay));
  });
}

/**
 * Time zones of the locations of order.created events sent before events carried theirs (only
 * events in flight across the upgrade): from the location cache, which the event check just
 * filled for the same locations.
 */
async function legacyTimeZones(events: readonly OrderEvent[]): Promise<Map<string, string>> {
  const zones = new Map<string, string>();
  for (const e of events)
    if (e.type === "order.created" && e.data.timeZone === undefined && !zones.has(e.data.locationId)) {
      const who = { tenantId: e.data.tenantId, role: "system" as const };
      zones.set(e.data.locationId, (await fetchLocation(config, who, e.data.locationId)).timeZone);
    }
  return zones;
}

/**
 * A bulk delivery of order events: one transaction per tenant (a tenant's failure leaves only its
 * events for redelivery), then the cached reports of the location-days that moved.
 */
async function onEvents(events: BulkEvent[]): Promise<Map<string, BulkStatus>> {
  const statuses = new Map<string, BulkStatus>();
  const byTenant = new Map<string, BulkEvent[]>();
  for (const e of events) {
    const tenantId = (e.data as OrderEvent["data"]).tenantId;
    byTenant.set(tenantId, [...(byTenant.get(tenantId) ?? []), e]);
  }
  for (const [tenantId, group] of byTenant) {
    const incoming = group.map((e) => ({
      eventId: e.eventId,
      event: { type: e.type, data: e.data } as OrderEvent,
    }));
    try {
      const zones = await legacyTimeZones(incoming.map((i) => i.event));
      const applied = await applyOrderEvents(db, tenantId, incoming, { legacyTimeZones: zones });
      for (const e of group) statuses.set(e.entryId, "SUCCESS");
      log.debug({ tenantId, events: group.length, locationDays: applied.length }, "order events applied");
      await Promise.all(
        applied.map((a) =>
          refreshCache(a).catch((err: unknown) => log.warn({ err }, "cache refresh failed")),
        ),
      );
    } catch (err) {
      log.error({ err, tenantId, events: group.length }, "order events not applied; Dapr will redeliver");
      for (const e of group) statuses.set(e.entryId, "RETRY");
    }
  }
  return statuses;
}

// Users by their access token (no service calls this subschema as `system`).
const callerOf = serviceCallers(config);

await startService({
  config,
  log,
  readiness: {
    sidecar: () => sidecarReady(config),
    database: () => pingDatabase(pool),
  },
  routes(app) {
    // Declarative subscription `dashboard-orders` (components/) delivers the orders topic here,
    // one event a request, many requests at once; they are applied in batches (group commit,
    // src/batcher.ts), each answered after its batch committed. Bulk deliveries work too (README:
    // why the subscription is not bulk).
    bulkSubscriptionRoute(
      app,
      "/events/orders",
      ["order.created", "order.paid", "order.voided"],
      groupCommit(acceptOnlyKnownLocations(onEvents, authLocations(config), log), {
        maxEvents: BATCH_MAX_EVENTS,
      }),
      log,
    );
    // auth's location.changed keeps the location-settings cache current (@lsp/locations).
    locationChangesRoute(app, log);
    // CSV export slices for the edge's signed download links (src/exports.ts).
    mountDashboardExports(app, pool, config, log);
    mountSubschema<DashboardContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: async ({ request }) => ({
        ...(await callerOf(request.headers)),
        db,
        ports: config,
        cache,
        log,
        reports: new Map(),
      }),
    });
  },
  onShutdown: async () => {
    await stopRetention();
    await stopRelay();
    await db.destroy();
  },
});
