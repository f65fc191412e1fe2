import path from "node:path";
import { bootDatabaseService, startService, pingDatabase } from "@lsp/service-kit";

// The payments service's process, schema and sidecar are part of the mesh; its flows land with the
// payments/notifications issue (see README.md).
const { config, log, database } = await bootDatabaseService<Record<string, never>>({
  schema: "payments",
  migrationsDir: path.join(import.meta.dirname, "..", "migrations"),
});

await startService({
  config,
  log,
  readiness: { database: () => pingDatabase(database.pool) },
  routes() {},
  onShutdown: () => database.db.destroy(),
});
