import { sql, type Kysely } from "kysely";
import { enableTenantIsolation } from "@lsp/db";

/**
 * Rebuilds run as background jobs (a replay grows with the history, far past a request's
 * timeout); the owner polls the job. One running job per tenant.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("rebuild_jobs")
    .addColumn("id", "uuid", (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn("tenant_id", "uuid", (c) => c.notNull())
    .addColumn("status", "text", (c) => c.notNull().check(sql`status IN ('running', 'done', 'failed')`))
    .addColumn("events", "integer")
    .addColumn("location_days", "integer")
    .addColumn("error", "text")
    .addColumn("started_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("finished_at", "timestamptz")
    .execute();
  await sql`CREATE UNIQUE INDEX rebuild_jobs_one_running ON rebuild_jobs (tenant_id) WHERE status = 'running'`.execute(
    db,
  );
  await enableTenantIsolation(db, "rebuild_jobs");
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable("rebuild_jobs").execute();
}
