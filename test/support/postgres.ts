// A private PostgreSQL for a service's own integration tests: the launcher's server, on a free
// port, in a fresh temporary directory, with the same per-service roles and schemas as the mesh.
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import {
  bootstrapDatabase,
  migrationDatabaseUrl,
  serviceDatabaseUrl,
  startPostgres,
} from "../../scripts/mesh/infra.js";
import { stopProcess } from "../../scripts/mesh/processes.js";
import { createDatabase, migrateToLatest, type Database } from "@lsp/db";
import { createLogger } from "@lsp/runtime";

export interface TestPostgres {
  /** The URL a service connects with: its own role, which cannot bypass row-level security. */
  serviceUrl: (service: string) => string;
  /** The schema owner's URL: what migrations run with. */
  migrationUrl: (service: string) => string;
  stop: () => Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function startTestPostgres(): Promise<TestPostgres> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "lsp-pg-"));
  chmodSync(dir, 0o755); // the server runs as the postgres user when the tests run as root
  const port = await freePort();
  const proc = await startPostgres(path.join(dir, "data"), port, path.join(dir, "logs"));
  await bootstrapDatabase(port);
  return {
    serviceUrl: (service) => serviceDatabaseUrl(port, service),
    migrationUrl: (service) => migrationDatabaseUrl(port, service),
    stop: async () => {
      await stopProcess(proc);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type TestServiceDatabase<DB> = Database<DB> & { stop: () => Promise<void> };

/**
 * A private PostgreSQL with one service's migrations applied, connected as that service's own
 * role (so row-level security applies exactly as in the mesh).
 */
export async function startServiceDatabase<DB>(
  service: string,
  migrationsDir: string,
): Promise<TestServiceDatabase<DB>> {
  const pg = await startTestPostgres();
  const database = createDatabase<DB>(pg.serviceUrl(service), service, 4);
  const owner = createDatabase<DB>(pg.migrationUrl(service), service, 1);
  try {
    await migrateToLatest(owner, migrationsDir, createLogger("test", "warn"));
    await owner.db.destroy();
  } catch (err) {
    await owner.db.destroy();
    await database.db.destroy();
    await pg.stop();
    throw err;
  }
  return {
    ...database,
    stop: async () => {
      await database.db.destroy();
      await pg.stop();
    },
  };
}
