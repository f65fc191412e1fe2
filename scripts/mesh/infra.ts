import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { MeshError, startProcess, tcpOpen, waitFor, type Managed } from "./processes.js";
import { CHART_FILES } from "./repo.js";

const isRoot = process.getuid?.() === 0;

/** PostgreSQL refuses to run as root: as root we run it as the `postgres` system user. */
function asDbUser(command: string, args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
}

function postgresBinDir(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(path.join(root, v, "bin", "initdb")))
    : [];
  versions.sort((a, b) => Number(b) - Number(a));
  if (!versions[0])
    throw new MeshError(
      "PostgreSQL server binaries not found under /usr/lib/postgresql: run `npm run setup`",
    );
  return path.join(root, versions[0], "bin");
}

export function redisServerPath(): string {
  for (const p of ["/usr/bin/redis-server", "/usr/local/bin/redis-server"]) if (existsSync(p)) return p;
  throw new MeshError("redis-server not found: run `npm run setup`");
}

/**
 * The server settings for LSP's workload, one list shared with the chart
 * (charts/lsp/files/postgresql/workload.conf), as `name=value` strings. Durability is the
 * server's default, as in production: the figures measured on the mesh include the fsync an
 * order or a payment waits for.
 */
export function postgresSettings(): string[] {
  const file = path.join(CHART_FILES, "postgresql", "workload.conf");
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line !== "")
    .map((line) => {
      const m = /^([a-z_]+)\s*=\s*(\S+)$/.exec(line);
      if (!m) throw new MeshError(`workload.conf: not a "name = value" line: ${line}`);
      return `${m[1]}=${m[2]}`;
    })
    .concat(process.env.LSP_POSTGRES_NO_FSYNC === "1" ? NO_FSYNC : []);
}

/**
 * LSP_POSTGRES_NO_FSYNC=1: the settings the mesh ran with before issue 13 (no fsync at all), only
 * to compare a benchmark with figures measured then. Never for production.
 */
const NO_FSYNC = ["fsync=off", "synchronous_commit=off", "full_page_writes=off"];

export async function startPostgres(dataDir: string, port: number, logDir: string): Promise<Managed> {
  const bin = postgresBinDir();
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    mkdirSync(dataDir, { recursive: true });
    if (isRoot) chownSync(dataDir, uidOf("postgres"), gidOf("postgres"));
    const [cmd, args] = asDbUser(path.join(bin, "initdb"), [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "-E",
      "UTF8",
      "--no-locale",
    ]);
    try {
      execFileSync(cmd, args, { stdio: "pipe" });
    } catch (err) {
      const e = err as { stderr?: Buffer };
      throw new MeshError(`initdb failed for ${dataDir}: ${e.stderr?.toString() ?? String(err)}`);
    }
  }
  const [cmd, args] = asDbUser(path.join(bin, "postgres"), [
    "-D",
    dataDir,
    "-p",
    String(port),
    "-k",
    dataDir,
    "-c",
    "listen_addresses=127.0.0.1",
    ...postgresSettings().flatMap((s) => ["-c", s]),
  ]);
  const proc = startProcess("postgres", cmd, args, { cwd: dataDir, logDir });
  await waitFor("PostgreSQL", () => canConnect(port), { timeoutMs: 30_000, process: proc });
  return proc;
}

async function canConnect(port: number): Promise<boolean> {
  const client = new pg.Client({
    host: "127.0.0.1",
    port,
    user: "postgres",
    database: "postgres",
    connectionTimeoutMillis: 1000,
  });
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user]).toString().trim());
}
function gidOf(user: string): number {
  return Number(execFileSync("id", ["-g", user]).toString().trim());
}

export const DATABASE = "lsp";
/**
 * Each service owns one schema and two roles: `own_<s>` owns the schema and its tables and is
 * used only to run migrations; `svc_<s>`, which the service serves with, gets data privileges
 * only. Neither can bypass RLS, and the runtime role, not being an owner, cannot turn it off.
 */
export const DB_SERVICES = ["auth", "sales", "dashboard", "payments", "notifications", "ai"] as const;

/** The runtime role's URL: what a service reads and writes with. */
export function serviceDatabaseUrl(port: number, service: string): string {
  return `postgres://svc_${service}@127.0.0.1:${port}/${DATABASE}`;
}

/** The owner role's URL: migrations (DATABASE_MIGRATION_URL) and platform-admin reads only. */
export function migrationDatabaseUrl(port: number, service: string): string {
  return `postgres://own_${service}@127.0.0.1:${port}/${DATABASE}`;
}

/** The login of the `flags` configuration component (components/local/flags.yaml). */
export const FLAGS_READER = "cfg_flags";

const ROLE_OPTIONS = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE";

export async function bootstrapDatabase(port: number): Promise<void> {
  const admin = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: "postgres" });
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
    for (const s of DB_SERVICES) {
      for (const role of [`own_${s}`, `svc_${s}`]) {
        await admin.query(`DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${role}') THEN
            CREATE ROLE ${role} ${ROLE_OPTIONS};
          END IF; END $$`);
        await admin.query(`ALTER ROLE ${role} ${ROLE_OPTIONS}`);
      }
    }
    // The feature flags' configuration store logs in as this role: auth's migration 0005 grants
    // it SELECT on auth.feature_flags and nothing else.
    await admin.query(`DO $$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${FLAGS_READER}') THEN
        CREATE ROLE ${FLAGS_READER} ${ROLE_OPTIONS};
      END IF; END $$`);
  } finally {
    await admin.end();
  }
  const db = new pg.Client({ host: "127.0.0.1", port, user: "postgres", database: DATABASE });
  await db.connect();
  try {
    for (const s of DB_SERVICES) await db.query(serviceRolesSql(s));
    await db.query(`GRANT CONNECT ON DATABASE ${DATABASE} TO ${FLAGS_READER};
      ALTER ROLE ${FLAGS_READER} SET search_path = auth`);
  } finally {
    await db.end();
  }
}

/**
 * Schema, ownership and grants of one service (idempotent). A database made before the split,
 * where `svc_<s>` owned everything, is handed over to `own_<s>` (REASSIGN OWNED).
 */
function serviceRolesSql(s: string): string {
  const own = `own_${s}`;
  const svc = `svc_${s}`;
  return `
    CREATE SCHEMA IF NOT EXISTS ${s} AUTHORIZATION ${own};
    REASSIGN OWNED BY ${svc} TO ${own};
    ALTER SCHEMA ${s} OWNER TO ${own};
    ALTER ROLE ${own} SET search_path = ${s};
    ALTER ROLE ${svc} SET search_path = ${s};
    GRANT CONNECT ON DATABASE ${DATABASE} TO ${own}, ${svc};
    REVOKE CREATE ON SCHEMA ${s} FROM ${svc};
    GRANT USAGE ON SCHEMA ${s} TO ${svc};
    ALTER DEFAULT PRIVILEGES FOR ROLE ${own} IN SCHEMA ${s}
      GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${svc};
    ALTER DEFAULT PRIVILEGES FOR ROLE ${own} IN SCHEMA ${s}
      GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${svc};
    -- The owner's functions (e.g. SECURITY DEFINER lookups across tenants) run for the service
    -- only, not for every role of the database.
    ALTER DEFAULT PRIVILEGES FOR ROLE ${own} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
    ALTER DEFAULT PRIVILEGES FOR ROLE ${own} IN SCHEMA ${s} GRANT EXECUTE ON FUNCTIONS TO ${svc};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${s} TO ${svc};
    GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${s} TO ${svc};
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${s} TO ${svc};`;
}

export async function startRedis(dataDir: string, port: number, logDir: string): Promise<Managed> {
  mkdirSync(dataDir, { recursive: true });
  const proc = startProcess(
    "redis",
    redisServerPath(),
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dataDir,
      // Durable as in production (the chart's Redis): every write goes to the append-only file
      // before its reply, so a kill -9 of Redis loses no published event; the file reaches the
      // disk every second (appendfsync everysec: only a machine crash could cost that second).
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--daemonize",
      "no",
    ],
    { cwd: dataDir, logDir },
  );
  await waitFor("Redis", () => tcpOpen(port), { timeoutMs: 15_000, process: proc });
  return proc;
}
