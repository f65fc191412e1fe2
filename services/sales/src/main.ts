import path from "node:path";
import {
  BaseConfig,
  DatabaseConfig,
  createLogger,
  identityFromHeaders,
  loadConfig,
  mountSubschema,
  openServiceDatabase,
  pingDatabase,
  startOutboxRelay,
  startService,
} from "@lsp/service-kit";
import type { SalesDB } from "./db.js";
import { resolvers, typeDefs, type SalesContext } from "./schema.js";

const config = loadConfig(BaseConfig.extend(DatabaseConfig.shape));
const log = createLogger(config.SERVICE_NAME);
const database = await openServiceDatabase<SalesDB>(
  {
    url: config.DATABASE_URL,
    schema: "sales",
    poolMax: config.DATABASE_POOL_MAX,
    migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
    migrate: config.MIGRATE_ON_START,
  },
  log,
);
const { db, pool } = database;
const stopRelay = startOutboxRelay({ db, pool, ports: config, source: "sales", log });

await startService({
  config,
  log,
  readiness: { database: () => pingDatabase(pool) },
  routes(app) {
    mountSubschema<SalesContext>(app, {
      typeDefs,
      resolvers,
      log,
      context: ({ request }) => ({ db, ports: config, identity: () => identityFromHeaders(request.headers) }),
    });
  },
  onShutdown: async () => {
    await stopRelay();
    await db.destroy();
  },
});
