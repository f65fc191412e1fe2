import path from "node:path";
import { isEventType, parseEvent, type EventType } from "@lsp/contracts";
import { AppError, startService } from "@lsp/runtime";
import { bootDatabaseService, pingDatabase, startOutboxRelay, startRetention } from "@lsp/db";
import { serviceCallers } from "@lsp/identity";
import { mountSubschema } from "@lsp/graphql";
import { subscriptionRoute, type EventHandlers, sidecarReady } from "@lsp/dapr";
import { locationChangesRoute } from "@lsp/locations";
import type { NotificationsDB } from "./db.js";
import { mountDeadLetterRoutes, type Redeliver } from "./dead-letters.js";
import { sendDueDigests } from "./digest.js";
import { eventHandlers } from "./handlers.js";
import { pushNotification } from "./push.js";
import { retentionConfig, retentionRules } from "./retention.js";
import { resolvers, typeDefs, type NotificationsContext } from "./schema.js";

const extraConfig = retentionConfig;
const { config, log, database } = await bootDatabaseService<NotificationsDB, typeof extraConfig>({
  schema: "notifications",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
  extraConfig,
});
const { db, pool } = database;
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "notifications", log });
const deps = { db, ports: config, log };
const stopRetention = startRetention({
  db,
  log,
  lockKey: "notifications",
  intervalMs: config.RETENTION_INTERVAL_SECONDS * 1000,
  rules: retentionRules(config),
});

// The handlers of each topic notifications subscribes to; a dead letter's replay runs the same one.
const feedHandlers = eventHandlers(deps);
const handlersByTopic = {
  payments: feedHandlers,
  ai: feedHandlers,
  dashboard: feedHandlers,
  notifications: {
    "notification.created": async (eventId, n) => {
      const result = await pushNotification(deps, eventId, parseEvent("notification.created", n));
      log.debug({ eventId, result }, "push");
    },
  } satisfies EventHandlers,
} satisfies Record<string, EventHandlers>;
const redeliver: Redeliver = async (topic, eventId, type, data) => {
  const byType: EventHandlers | undefined = (handlersByTopic as Record<string, EventHandlers>)[topic];
  const handler = isEventType(type) ? byType?.[type] : undefined;
  if (!handler) throw new AppError("BAD_USER_INPUT", `a ${type} event of ${topic} cannot be replayed here`);
  const parsed = parseEvent(type as EventType, data);
  await (handler as (id: string, d: unknown) => Promise<void>)(eventId, parsed);
};

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
    // auth's location.changed keeps the location-settings cache current (@lsp/locations).
    locationChangesRoute(app, log);
    // Declarative subscriptions (components/local/notifications.yaml) deliver here; a handler
    // failure answers 500 so that Dapr retries and finally dead-letters the message.
    subscriptionRoute(app, "/events/payments", handlersByTopic.payments, log);
    subscriptionRoute(app, "/events/ai", handlersByTopic.ai, log);
    subscriptionRoute(app, "/events/dashboard", handlersByTopic.dashboard, log);
    subscriptionRoute(app, "/events/push", handlersByTopic.notifications, log);
    mountDeadLetterRoutes(app, db, log);
    // Input binding `digest-cron`: Dapr POSTs here on its schedule.
    app.post("/digest-cron", async (_req, res) => {
      const sent = await sendDueDigests(deps);
      if (sent) log.info({ sent }, "daily digests sent");
      res.json({ sent });
    });
    mountSubschema<NotificationsContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: async ({ request }) => ({
        db,
        ports: config,
        redeliver,
        identity: (await callerOf(request.headers)).identity,
      }),
    });
  },
  onShutdown: async () => {
    await stopRetention();
    await stopRelay();
    await db.destroy();
  },
});
