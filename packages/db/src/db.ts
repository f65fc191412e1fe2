import { promises as fs } from "node:fs";
import path from "node:path";
import { createHash } from "node:crypto";
import {
  FileMigrationProvider,
  Kysely,
  Migrator,
  PostgresDialect,
  sql,
  type PostgresPool,
  type PostgresPoolClient,
  type Transaction,
} from "kysely";
import pg from "pg";
import type { Logger } from "@lsp/runtime";
import { parseInt8Exact } from "./int8.js";

// BIGINT (VND sums) and COUNT come back as strings by default: read exactly, or refused beyond 2^53 − 1.
pg.types.setTypeParser(pg.types.builtins.INT8, parseInt8Exact);
// DATE columns hold business days: keep them as 'YYYY-MM-DD' strings, never shifted by a time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (v) => v);

export interface Database<DB> {
  db: Kysely<DB>;
  pool: pg.Pool;
  schema: string;
}

/**
 * Idle connections are kept a minute (pg's default is 10 s): lunch traffic comes in bursts, and a
 * new connection costs PostgreSQL a process fork and the client a few round trips.
 */
const POOL_IDLE_MS = 60_000;

/**
 * A new connection that PostgreSQL does not accept within this time fails (pg waits forever by
 * default): while the database is down a request answers UNAVAILABLE instead of hanging.
 */
const CONNECT_TIMEOUT_MS = 3_000;

/**
 * A Kysely instance whose connections work inside the service's own schema. A connection that
 * PostgreSQL drops (a restart, a kill) is logged and discarded: pg emits its loss as an `error`
 * event (on the pool when idle, on the client when checked out), which without a listener would
 * end the process. The service rides the outage
 * out instead: readiness fails (pingDatabase), requests answer UNAVAILABLE (toAppError), and the
 * pool connects afresh once the database is back.
 */
export function createDatabase<DB>(url: string, schema: string, poolMax = 10, log?: Logger): Database<DB> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: url,
    max: poolMax,
    idleTimeoutMillis: POOL_IDLE_MS,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    options: `-c search_path=${schema}`,
  });
  const lost = (err: Error) =>
    log?.warn(
      { err, code: "DATABASE_UNAVAILABLE", schema },
      "database connection lost; the pool drops it and connects afresh",
    );
  // An idle connection's error reaches the pool; one checked out (a transaction, an advisory
  // lock held across awaits, the outbox's LISTEN) is emitted on the client itself: each gets a
  // listener, and whoever holds it sees the failure on its next query and releases it.
  pool.on("error", lost);
  pool.on("connect", (client) => client.on("error", lost));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) });
  return { db, pool, schema };
}

/** Distinct statements prepared by name (per process; each connection prepares a name once). */
const MAX_PREPARED = 2000;
const MAX_PREPARED_TEXT = 8000;
const statementNames = new Map<string, string>();

/** The name a parameterized statement is prepared under, or undefined to run it unnamed. */
function statementName(text: string): string | undefined {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_PREPARED && text.length <= MAX_PREPARED_TEXT) {
    name = `lsp_${createHash("sha1").update(text).digest("hex").slice(0, 24)}`;
    statementNames.set(text, name);
  }
  return name;
}

// "cached plan must not change result type": a prepared `SELECT *` after a migration added a column.
const PLAN_RESULT_CHANGED = "0A000";

/**
 * Kysely's pg dialect sends every query unnamed, so PostgreSQL parses and plans it each time.
 * This pool prepares each distinct parameterized statement once per connection, under a name
 * derived from its text (node-postgres prepares a named query on first use and then only binds
 * and executes it), and reuses the plan. Statements without parameters go as they are (simple
 * protocol), and so does anything past MAX_PREPARED distinct texts (queries built with a
 * variable number of parameters). A migration that changes a prepared statement's result type
 * makes PostgreSQL refuse it once on each connection (0A000): that connection is then dropped
 * instead of returned, so the next one prepares afresh.
 */
function preparingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      let broken = false;
      const query = (textOrCursor: unknown, parameters?: readonly unknown[]): unknown => {
        if (typeof textOrCursor !== "string")
          return client.query(textOrCursor as Parameters<typeof client.query>[0]);
        const values = parameters ? [...parameters] : [];
        const name = values.length > 0 ? statementName(textOrCursor) : undefined;
        const pending = name
          ? client.query({ name, text: textOrCursor, values })
          : client.query(textOrCursor, values);
        return pending.catch((err: unknown) => {
          if ((err as { code?: unknown }).code === PLAN_RESULT_CHANGED) broken = true;
          throw err;
        });
      };
      return {
        query: query as PostgresPoolClient["query"],
        release: () => client.release(broken),
      };
    },
    end: () => pool.end(),
  };
}

function migrationProvider(folder: string): FileMigrationProvider {
  return new FileMigrationProvider({ fs, path, migrationFolder: folder });
}

/** Applies the service's migrations (files in `folder`) inside its schema; fails loudly. */
export async function migrateToLatest<DB>(
  { db, schema }: Database<DB>,
  folder: string,
  log: Logger,
): Promise<void> {
  // In the mesh the schema is created for the service's role (which may not create schemas);
  // standalone, against a fresh database, the service creates it.
  const exists = await sql`SELECT 1 FROM pg_namespace WHERE nspname = ${schema}`.execute(db);
  if (exists.rows.length === 0) await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db);
  const migrator = new Migrator({ db, provider: migrationProvider(folder), migrationTableSchema: schema });
  const { error, results } = await migrator.migrateToLatest();
  for (const r of results ?? []) log.info({ migration: r.migrationName, status: r.status }, "migration");
  if (error) throw error instanceof Error ? error : new Error(String(error));
  // Replicas migrating at once (init containers of a rollout): Kysely's lock covers the
  // migrations; this one covers the grants and the function below.
  await db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(hashtext(${`lsp_migrate:${schema}`}))`.execute(trx);
    await keepMigrationLedgerToOwner(trx, schema);
    await publishAppliedMigrations(trx, schema);
  });
}

/**
 * The serving role may not read Kysely's ledger (keepMigrationLedgerToOwner), yet it must know
 * whether the schema is at the migrations its code expects. This owner-defined function tells it
 * the applied migration names, and nothing else: names are no secret, so anyone may call it.
 */
async function publishAppliedMigrations<DB>(db: Kysely<DB>, schema: string): Promise<void> {
  const fn = sql.id(schema, APPLIED_MIGRATIONS_FUNCTION);
  await sql`CREATE OR REPLACE FUNCTION ${fn}() RETURNS SETOF text
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS ${sql.lit(`SELECT name FROM ${quoteIdent(schema)}.kysely_migration ORDER BY name`)}`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION ${fn}() TO PUBLIC`.execute(db);
}

const APPLIED_MIGRATIONS_FUNCTION = "lsp_applied_migrations";

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The schema is not at the migrations this code knows: serving would fail on missing tables. */
export class SchemaNotMigratedError extends Error {
  readonly code = "SCHEMA_NOT_MIGRATED";
  constructor(
    readonly schema: string,
    readonly missing: readonly string[],
  ) {
    super(
      `schema "${schema}" is missing migrations ${missing.join(", ")}: run the service's migrate step first ` +
        `(the same entry point with LSP_MIGRATE_ONLY=1 and DATABASE_MIGRATION_URL, the schema owner's URL; ` +
        `in the cluster the pod's init container does it). The serving role cannot and must not migrate.`,
    );
    this.name = "SchemaNotMigratedError";
  }
}

/**
 * Checks, as the serving role, that every migration in `folder` is applied (one query through
 * the owner's lsp_applied_migrations function); throws SchemaNotMigratedError otherwise.
 * Migrations applied but unknown here (a newer release migrated first) are returned: their
 * changes are meant to be compatible with the release before.
 */
export async function assertSchemaMigrated<DB>(
  { db, schema }: Database<DB>,
  folder: string,
): Promise<{ applied: number; unknown: string[] }> {
  const known = Object.keys(await migrationProvider(folder).getMigrations()).sort();
  let applied: string[];
  try {
    const rows = await sql<{
      name: string;
    }>`SELECT name FROM ${sql.id(schema, APPLIED_MIGRATIONS_FUNCTION)}() AS name`.execute(db);
    applied = rows.rows.map((r) => r.name);
  } catch (err) {
    // 3F000: no such schema; 42883: no such function (never migrated by this code).
    const code = (err as { code?: unknown }).code;
    if (code === "3F000" || code === "42883") throw new SchemaNotMigratedError(schema, known);
    throw err;
  }
  const done = new Set(applied);
  const missing = known.filter((m) => !done.has(m));
  if (missing.length > 0) throw new SchemaNotMigratedError(schema, missing);
  const knownSet = new Set(known);
  return { applied: applied.length, unknown: applied.filter((m) => !knownSet.has(m)) };
}

/** Migrates the schema over a short-lived connection of the owner role, then closes it. */
export async function migrateAsOwner(
  opts: { migrationUrl: string; schema: string; migrationsDir: string },
  log: Logger,
): Promise<void> {
  const owner = createDatabase(opts.migrationUrl, opts.schema, 1);
  try {
    await migrateToLatest(owner, opts.migrationsDir, log);
  } finally {
    await owner.db.destroy();
  }
}

/**
 * The schema's default privileges give the service's runtime role data rights on every table the
 * owner creates, Kysely's migration ledger included; only the migrating role needs that one.
 */
async function keepMigrationLedgerToOwner<DB>(db: Kysely<DB>, schema: string): Promise<void> {
  const grantees = await sql<{ grantee: string; table_name: string }>`
    SELECT DISTINCT grantee, table_name FROM information_schema.role_table_grants
    WHERE table_schema = ${schema} AND table_name IN ('kysely_migration', 'kysely_migration_lock')
      AND grantee <> current_user`.execute(db);
  for (const g of grantees.rows)
    await sql`REVOKE ALL ON ${sql.id(schema, g.table_name)} FROM ${sql.id(g.grantee)}`.execute(db);
}

/**
 * Runs `fn` in a transaction bound to one tenant: the setting `lsp.tenant_id` is what row-level
 * security policies key on, so a query that forgets its tenant filter still sees only this tenant.
 */
export async function withTenant<DB, T>(
  db: Kysely<DB>,
  tenantId: string,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('lsp.tenant_id', ${tenantId}, true)`.execute(trx);
    return fn(trx);
  });
}

/**
 * withTenant for an event consumer whose input the broker redelivers until the handler answers
 * (a Dapr subscription: the message is acknowledged only when the handler returns success).
 * The transaction commits with `synchronous_commit = off`: COMMIT returns, and its row locks are
 * released, without waiting for the disk, so a hot row (one location's figures) is not held
 * through an fsync per event. Before returning, hence before the handler can acknowledge, it
 * waits until the WAL holding that commit is flushed (one autocommit statement that takes a
 * transaction id commits synchronously; WAL is flushed in order, so its flush covers ours, and
 * concurrent waiters share one fsync). A crash before the flush loses the transaction and the
 * acknowledgement together: the broker delivers the event again and it is applied once (the
 * transaction claims the event id, claimEvent). Never for a write that answers a client (an order,
 * a payment): those commit synchronously.
 */
export async function withTenantForEvent<DB, T>(
  db: Kysely<DB>,
  tenantId: string,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  const result = await db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('lsp.tenant_id', ${tenantId}, true), set_config('synchronous_commit', 'off', true)`.execute(
      trx,
    );
    return fn(trx);
  });
  await waitForWalFlush(db);
  return result;
}

/** Returns once every transaction committed before the call is on disk (see withTenantForEvent). */
export async function waitForWalFlush<DB>(db: Kysely<DB>): Promise<void> {
  await sql`SELECT txid_current()`.execute(db);
}

/**
 * Like withTenant, and also sets `lsp.location_ids` to the caller's allowed locations (empty =
 * every location of the tenant), which the location policies of enableLocationIsolation key on:
 * staff limited to some locations see only their rows even where a query forgets to filter.
 */
export async function withScope<DB, T>(
  db: Kysely<DB>,
  scope: { tenantId: string; locationIds?: readonly string[] | undefined },
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT set_config('lsp.tenant_id', ${scope.tenantId}, true),
      set_config('lsp.location_ids', ${scope.locationIds === undefined ? "" : scope.locationIds.join(",") || "none"}, true)`.execute(
      trx,
    );
    return fn(trx);
  });
}

export async function pingDatabase(pool: pg.Pool): Promise<void> {
  await pool.query("SELECT 1");
}

/**
 * Row-level security for a tenant table (used in migrations): rows are visible and writable only
 * when `tenant_id` equals the transaction's `lsp.tenant_id`. FORCE applies it to the table owner
 * too, which is the role the service connects as.
 */
export async function enableTenantIsolation(db: Kysely<unknown>, table: string): Promise<void> {
  const t = sql.id(table);
  await sql`ALTER TABLE ${t} ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`ALTER TABLE ${t} FORCE ROW LEVEL SECURITY`.execute(db);
  await sql`CREATE POLICY tenant_isolation ON ${t}
    USING (tenant_id = nullif(current_setting('lsp.tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('lsp.tenant_id', true), '')::uuid)`.execute(db);
}

/**
 * A second, restrictive policy for a location-scoped table (used in migrations, after
 * enableTenantIsolation): when the transaction names allowed locations (withScope), only rows of
 * those locations are visible and writable; unset or empty = every location of the tenant.
 */
export async function enableLocationIsolation(
  db: Kysely<unknown>,
  table: string,
  column = "location_id",
): Promise<void> {
  await sql`CREATE POLICY location_scope ON ${sql.id(table)} AS RESTRICTIVE
    USING (coalesce(current_setting('lsp.location_ids', true), '') = ''
      OR ${sql.id(column)}::text = ANY (string_to_array(current_setting('lsp.location_ids', true), ',')))
    WITH CHECK (coalesce(current_setting('lsp.location_ids', true), '') = ''
      OR ${sql.id(column)}::text = ANY (string_to_array(current_setting('lsp.location_ids', true), ',')))`.execute(
    db,
  );
}

/**
 * For a tenant table that also keeps rows of no tenant (an audit of a request whose tenant could
 * not be known; used in migrations, after enableTenantIsolation): such rows are written and seen
 * only outside any tenant's transaction, so a tenant's transaction still sees its own rows only.
 */
export async function allowTenantlessRows(db: Kysely<unknown>, table: string): Promise<void> {
  await sql`CREATE POLICY tenantless_rows ON ${sql.id(table)}
    USING (tenant_id IS NULL AND nullif(current_setting('lsp.tenant_id', true), '') IS NULL)
    WITH CHECK (tenant_id IS NULL AND nullif(current_setting('lsp.tenant_id', true), '') IS NULL)`.execute(
    db,
  );
}

/**
 * Lets the role running this migration, the schema owner (migrations and platform admins only;
 * never the role the service serves with), read every tenant's rows of `table`. SECURITY DEFINER
 * functions it owns rely on this for narrow cross-tenant lookups (e.g. which tenants have work
 * pending), which the service then does inside each tenant's transaction. Services never
 * migrate as their serving role (openServiceDatabase), so that role never gets these reads.
 */
export async function allowOwnerReads(db: Kysely<unknown>, table: string): Promise<void> {
  await sql`CREATE POLICY owner_reads ON ${sql.id(table)} FOR SELECT TO CURRENT_USER USING (true)`.execute(
    db,
  );
}

/** The idempotency ledger every event consumer keeps in its own schema (see claimEvent). */
export async function createProcessedEventsTable(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("processed_events")
    .addColumn("event_id", "text", (c) => c.primaryKey())
    .addColumn("processed_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
}

/**
 * Opens the service's database for serving. Normally the schema was migrated beforehand by the
 * migrate step (bootDatabaseService with LSP_MIGRATE_ONLY, run as the owner): the serving
 * process then has only DATABASE_URL and checks that the schema is at the latest migration it
 * knows, refusing to start (SchemaNotMigratedError) otherwise. It never migrates as its own role,
 * which would make that role the owner of its tables (and able to turn row security off).
 * `migrate` with a `migrationUrl` (MIGRATE_ON_START, single-process development only) still
 * migrates over a short-lived owner connection first, with a warning that this process holds
 * the owner's credentials.
 */
export async function openServiceDatabase<DB>(
  opts: {
    url: string;
    migrationUrl?: string | undefined;
    schema: string;
    poolMax: number;
    migrationsDir: string;
    migrate: boolean;
  },
  log: Logger,
): Promise<Database<DB>> {
  if (opts.migrate && opts.migrationUrl) {
    log.warn(
      { schema: opts.schema },
      "migrating on start with DATABASE_MIGRATION_URL: this serving process holds the schema owner's credentials; run the migrate step (LSP_MIGRATE_ONLY=1) separately and give the app DATABASE_URL only",
    );
    await migrateAsOwner(
      { migrationUrl: opts.migrationUrl, schema: opts.schema, migrationsDir: opts.migrationsDir },
      log,
    );
  }
  const database = createDatabase<DB>(opts.url, opts.schema, opts.poolMax, log);
  try {
    const { applied, unknown } = await assertSchemaMigrated(database, opts.migrationsDir);
    if (unknown.length > 0)
      log.warn({ schema: opts.schema, unknown }, "the schema has migrations this release does not know");
    log.info({ schema: opts.schema, applied }, "schema is at the latest migration");
  } catch (err) {
    await database.db.destroy();
    throw err;
  }
  return database;
}
