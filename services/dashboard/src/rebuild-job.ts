// The owner's `rebuildDashboard` as a background job: the replay grows with the tenant's history
// (a year of a chain is far past a request timeout), so the mutation answers at once with a job
// the owner polls (`dashboardRebuild(id)`).
//
// A running job holds a row lock on its job row for the whole replay transaction, and marks the
// row done in that same transaction. A row that says "running" but is not locked therefore
// belongs to a process that died mid-replay (its transaction rolled back, figures untouched).
import { sql, type Kysely, type Transaction } from "kysely";
import { withTenant } from "@lsp/db";
import type { Logger } from "@lsp/runtime";
import type { DashboardDB } from "./db.js";
import { replayJournal, type Replayed } from "./rebuild.js";

export interface RebuildJob {
  id: string;
  status: "RUNNING" | "DONE" | "FAILED";
  events: number | null;
  locationDays: number | null;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
}

interface JobRow {
  id: string;
  status: string;
  events: number | null;
  location_days: number | null;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}

const INTERRUPTED = "interrupted: the dashboard instance running it stopped; nothing was changed";
// Between the job row's insert and the replay transaction taking its lock there is a moment in
// which a running job is not locked yet; only older unlocked rows count as interrupted.
const LOCK_GRACE_SECONDS = 30;

function toJob(r: JobRow): RebuildJob {
  return {
    id: r.id,
    status: r.status === "running" ? "RUNNING" : r.status === "done" ? "DONE" : "FAILED",
    events: r.events,
    locationDays: r.location_days,
    error: r.error,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
  };
}

/** Marks the job failed if it claims to run but no live transaction holds it. */
async function settleIfInterrupted(trx: Transaction<DashboardDB>, row: JobRow): Promise<JobRow> {
  if (row.status !== "running") return row;
  const free = await sql<JobRow>`
    UPDATE rebuild_jobs SET status = 'failed', error = ${INTERRUPTED}, finished_at = now()
    WHERE id = (SELECT id FROM rebuild_jobs WHERE id = ${row.id} AND status = 'running'
                AND started_at < now() - make_interval(secs => ${LOCK_GRACE_SECONDS})
                FOR UPDATE SKIP LOCKED)
    RETURNING *`.execute(trx);
  return free.rows[0] ?? row;
}

export async function findRebuildJob(
  db: Kysely<DashboardDB>,
  tenantId: string,
  id: string,
): Promise<RebuildJob | null> {
  return withTenant(db, tenantId, async (trx) => {
    const row = (await sql<JobRow>`SELECT * FROM rebuild_jobs WHERE id = ${id}`.execute(trx)).rows[0];
    return row ? toJob(await settleIfInterrupted(trx, row)) : null;
  });
}

/**
 * Starts a rebuild of the tenant's read model, or returns the one already running. `onDone`
 * runs after the replay committed (the caller drops cached reports there).
 */
export async function startRebuild(
  db: Kysely<DashboardDB>,
  tenantId: string,
  log: Logger,
  onDone: (replayed: Replayed) => Promise<void>,
): Promise<RebuildJob> {
  const job = await withTenant(db, tenantId, async (trx) => {
    const running = (await sql<JobRow>`SELECT * FROM rebuild_jobs WHERE status = 'running'`.execute(trx))
      .rows[0];
    if (running && (await settleIfInterrupted(trx, running)).status === "running")
      return { row: running, fresh: false };
    // A concurrent start between our read and insert meets the one-running index: theirs wins.
    const inserted = await sql<JobRow>`
      INSERT INTO rebuild_jobs (tenant_id, status) VALUES (${tenantId}, 'running')
      ON CONFLICT (tenant_id) WHERE status = 'running' DO NOTHING RETURNING *`.execute(trx);
    if (inserted.rows[0]) return { row: inserted.rows[0], fresh: true };
    const theirs = await sql<JobRow>`SELECT * FROM rebuild_jobs WHERE status = 'running'`.execute(trx);
    return { row: theirs.rows[0] as JobRow, fresh: false };
  });
  if (job.fresh) void runRebuild(db, tenantId, job.row.id, log, onDone);
  return toJob(job.row);
}

async function runRebuild(
  db: Kysely<DashboardDB>,
  tenantId: string,
  jobId: string,
  log: Logger,
  onDone: (replayed: Replayed) => Promise<void>,
): Promise<void> {
  const started = performance.now();
  try {
    const replayed = await withTenant(db, tenantId, async (trx) => {
      // The lock that tells readers this job is alive, held until the replay commits.
      await sql`SELECT 1 FROM rebuild_jobs WHERE id = ${jobId} FOR UPDATE`.execute(trx);
      const result = await replayJournal(trx, tenantId);
      await sql`UPDATE rebuild_jobs SET status = 'done', events = ${result.events},
        location_days = ${result.days.length}, finished_at = now() WHERE id = ${jobId}`.execute(trx);
      return result;
    });
    log.info(
      { tenantId, jobId, events: replayed.events, durationMs: Math.round(performance.now() - started) },
      "dashboard rebuilt from the journal",
    );
    await onDone(replayed).catch((err: unknown) => log.warn({ err, jobId }, "after-rebuild step failed"));
  } catch (err) {
    log.error({ err, tenantId, jobId }, "dashboard rebuild failed; the read model is unchanged");
    await withTenant(db, tenantId, (trx) =>
      sql`UPDATE rebuild_jobs SET status = 'failed', error = ${err instanceof Error ? err.message : String(err)},
        finished_at = now() WHERE id = ${jobId}`.execute(trx),
    ).catch((e: unknown) => log.error({ err: e, jobId }, "could not record the failed rebuild"));
  }
}
