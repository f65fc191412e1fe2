import { sql, type Kysely, type RawBuilder } from "kysely";
import { Counter } from "prom-client";
import { registry, type Logger } from "@lsp/runtime";

/**
 * Retention: tables that only grow (audit rows, published outbox rows, processed-event ids,
 * idempotency keys) are trimmed in-process, in small batches, by one replica at a time.
 *
 * Each rule names a horizon and how to delete one batch of rows older than it. Two ways exist:
 * - `deleteOlderThan` for a table the serving role may delete from directly (no row-level
 *   security: the outbox, processed_events);
 * - `deleteThroughFunction` for a tenant table with forced row-level security, where the serving
 *   role sees one tenant at a time: an owner-defined SECURITY DEFINER function
 *   `fn(before timestamptz, max_rows integer) RETURNS integer` does the cross-tenant delete
 *   (defined in the service's migration; it deletes only by age, so it grants nothing else).
 */

export interface RetentionRule {
  /** Names the rule in logs and metrics (usually the table). */
  name: string;
  /** Rows older than this (milliseconds) are deleted. */
  horizonMs: number;
  /** Deletes at most `limit` rows older than `before` in one statement; returns how many. */
  deleteBatch: (db: Kysely<unknown>, before: Date, limit: number) => Promise<number>;
}

export const DAY_MS = 86_400_000;

const IDENT = /^[a-z_][a-z0-9_]*$/;

function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`retention: invalid identifier ${name}`);
  return name;
}

/**
 * One batch straight from `table` by its timestamp `column` (optionally narrowed by `where`).
 * Rows are picked by ctid so that the batch size holds without a numeric key.
 */
export function deleteOlderThan(opts: {
  table: string;
  column: string;
  where?: RawBuilder<boolean>;
}): RetentionRule["deleteBatch"] {
  const table = sql.id(ident(opts.table));
  const column = sql.id(ident(opts.column));
  const extra = opts.where ? sql`AND (${opts.where})` : sql``;
  return async (db, before, limit) => {
    const result = await sql`DELETE FROM ${table} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${table} WHERE ${column} < ${before} ${extra} LIMIT ${limit}))`.execute(db);
    return Number(result.numAffectedRows ?? 0n);
  };
}

/** One batch through an owner-defined `fn(before timestamptz, max_rows integer) RETURNS integer`. */
export function deleteThroughFunction(fn: string): RetentionRule["deleteBatch"] {
  const name = sql.id(ident(fn));
  return async (db, before, limit) => {
    const result = await sql<{
      n: number | null;
    }>`SELECT ${name}(${before}::timestamptz, ${limit}::integer) AS n`.execute(db);
    return Number(result.rows[0]?.n ?? 0);
  };
}

/**
 * For a migration (run as the schema owner): the SECURITY DEFINER function that
 * deleteThroughFunction calls, deleting rows of `table` older than `before` by `column` (and
 * matching `where`, SQL over the table's columns), at most `max_rows`, across tenants. Row-level
 * security is forced on the owner too, so the owner gets policies to see and delete the rows;
 * the owner serves nobody (migrations, platform admins), and the serving role only gets to call
 * this age-bounded delete.
 */
export async function createRetentionFunction(
  db: Kysely<unknown>,
  opts: { name: string; table: string; column: string; where?: string },
): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db);
  const schema = ident(rows[0]?.schema ?? "");
  const [name, table, column] = [ident(opts.name), ident(opts.table), ident(opts.column)];
  const extra = opts.where ? ` AND (${opts.where})` : "";
  const body = `WITH gone AS (
      DELETE FROM ${schema}.${table} WHERE ctid = ANY (ARRAY(
        SELECT ctid FROM ${schema}.${table} WHERE ${column} < p_before${extra} LIMIT p_max_rows))
      RETURNING 1)
    SELECT count(*)::integer FROM gone`;
  await sql`CREATE FUNCTION ${sql.id(name)}(p_before timestamptz, p_max_rows integer) RETURNS integer
    LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS ${sql.lit(body)}`.execute(db);
  await sql`CREATE POLICY ${sql.id(`${name}_reads`)} ON ${sql.id(table)} FOR SELECT TO CURRENT_USER USING (true)`.execute(
    db,
  );
  await sql`CREATE POLICY ${sql.id(`${name}_deletes`)} ON ${sql.id(table)} FOR DELETE TO CURRENT_USER USING (true)`.execute(
    db,
  );
}

export interface RetentionOptions<DB = unknown> {
  /** The service's database (its own role). */
  db: Kysely<DB>;
  log: Logger;
  /** One runner at a time per key across replicas (a PostgreSQL advisory lock on it). */
  lockKey: string;
  rules: readonly RetentionRule[];
  /** Rows one statement deletes at most: keeps each statement's locks and WAL short. */
  batchSize?: number;
  /** Bounds one run per rule; what is left is deleted by the next run. */
  maxBatchesPerRun?: number;
  /** Injected clock (tests). */
  now?: () => Date;
}

export interface RetentionReport {
  /** Rows deleted per rule in this run. */
  deleted: Record<string, number>;
}

const deletedRows = new Counter({
  name: "lsp_retention_deleted_rows_total",
  help: "Rows deleted by the retention job, by rule",
  labelNames: ["rule"] as const,
  registers: [registry],
});

/**
 * Runs every rule once, batch after batch, unless another replica holds the lock (then answers
 * null at once). The lock is session-level on one pinned connection, so each batch commits on its
 * own while the lock is held; a crashed runner's lock goes with its connection.
 */
export async function runRetentionOnce<DB>(opts: RetentionOptions<DB>): Promise<RetentionReport | null> {
  const batchSize = opts.batchSize ?? 1000;
  const maxBatches = opts.maxBatchesPerRun ?? 100;
  const now = (opts.now ?? (() => new Date()))();
  const lock = sql`hashtext(${`lsp_retention:${opts.lockKey}`})`;
  // The rules work on raw SQL only; the service's table typing does not matter here.
  const db = opts.db as unknown as Kysely<unknown>;
  return db.connection().execute(async (conn) => {
    const got = await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(${lock}) AS ok`.execute(conn);
    if (!got.rows[0]?.ok) return null;
    try {
      const deleted: Record<string, number> = {};
      for (const rule of opts.rules) {
        const before = new Date(now.getTime() - rule.horizonMs);
        let total = 0;
        for (let i = 0; i < maxBatches; i++) {
          const n = await rule.deleteBatch(conn, before, batchSize);
          total += n;
          if (n < batchSize) break;
        }
        deleted[rule.name] = total;
        if (total > 0) deletedRows.inc({ rule: rule.name }, total);
      }
      return { deleted };
    } finally {
      await sql`SELECT pg_advisory_unlock(${lock})`.execute(conn);
    }
  });
}

/**
 * Runs the rules on an interval (first run after `firstRunMs`, so that a start-up is not slowed),
 * logging what each run deleted. Returns a stop function that waits for a run in progress.
 */
export function startRetention<DB>(
  opts: RetentionOptions<DB> & { intervalMs?: number; firstRunMs?: number },
): () => Promise<void> {
  const { log } = opts;
  let running: Promise<void> | undefined;
  let stopped = false;
  const run = (): void => {
    if (stopped || running) return;
    running = (async () => {
      try {
        const report = await runRetentionOnce(opts);
        if (report === null) log.debug({ lockKey: opts.lockKey }, "retention: another replica is running it");
        else
          log.info(
            {
              deleted: report.deleted,
              horizonsDays: Object.fromEntries(opts.rules.map((r) => [r.name, r.horizonMs / DAY_MS])),
            },
            "retention run",
          );
      } catch (err) {
        log.warn({ err }, "retention run failed; next interval retries");
      } finally {
        running = undefined;
      }
    })();
  };
  const first = setTimeout(run, opts.firstRunMs ?? 60_000);
  const timer = setInterval(run, opts.intervalMs ?? 15 * 60_000);
  first.unref();
  timer.unref();
  return async () => {
    stopped = true;
    clearTimeout(first);
    clearInterval(timer);
    await running;
  };
}
