import { sql, type Kysely } from "kysely";
import { allowOwnerReads, allowTenantlessRows, enableTenantIsolation } from "@lsp/db";

/**
 * Feature flags (issue 16). `feature_flags` is the table of the Dapr configuration store `flags`
 * (component `configuration.postgresql`, components/local/flags.yaml): the component reads it
 * with `SELECT *` and expects exactly these four columns in this order (key, value, version,
 * metadata), and learns of each change from the trigger below, which NOTIFYs the row under
 * `data` on the channel the component LISTENs on. One row per flag definition and per tenant or
 * location rule (key shapes: packages/contracts/src/flags.ts). Rows are never deleted (a rule
 * is set to "inherit"): a DELETE would reach subscribers as the old value.
 *
 * `feature_flags` is not a tenant table: flags are platform configuration across tenants (a
 * rollout spans them), and the configuration component reads the table whole; auth's code writes
 * a tenant's rules only for that tenant's owner (or the platform's CLI). `feature_flag_audit`
 * keeps who changed what, when, old → new: a tenant's rows under row-level security, a
 * definition's change as a tenantless row, and every row readable by the owner role (the CLI's
 * `audit`, a platform-admin read).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE feature_flags (
      key text PRIMARY KEY CHECK (key ~ '^[a-zA-Z0-9./_]{1,200}$'),
      value text NOT NULL,
      version text NOT NULL,
      metadata json NOT NULL DEFAULT '{}'
    )`.execute(db);
  await sql`
    CREATE FUNCTION feature_flags_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('lsp_feature_flags', json_build_object('data', row_to_json(NEW))::text);
      RETURN NULL;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER feature_flags_notify AFTER INSERT OR UPDATE ON feature_flags
      FOR EACH ROW EXECUTE FUNCTION feature_flags_notify()`.execute(db);

  await db.schema
    .createTable("feature_flag_audit")
    .addColumn("id", "bigserial", (c) => c.primaryKey())
    .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn("flag", "text", (c) => c.notNull())
    .addColumn("item_key", "text", (c) => c.notNull())
    // The tenant whose rule changed, or whose location's; null for a change of the definition.
    .addColumn("tenant_id", "uuid")
    .addColumn("location_id", "uuid")
    // "user:<id>" (an owner through GraphQL) or "platform:<name>" (the flags CLI).
    .addColumn("actor", "text", (c) => c.notNull())
    .addColumn("actor_role", "text", (c) => c.notNull())
    .addColumn("old_value", "text")
    .addColumn("new_value", "text", (c) => c.notNull())
    .execute();
  await sql`CREATE INDEX feature_flag_audit_flag_idx ON feature_flag_audit (flag, at DESC)`.execute(db);
  await sql`CREATE INDEX feature_flag_audit_tenant_idx ON feature_flag_audit (tenant_id, at DESC)`.execute(
    db,
  );
  await enableTenantIsolation(db, "feature_flag_audit");
  await allowTenantlessRows(db, "feature_flag_audit");
  await allowOwnerReads(db, "feature_flag_audit");

  // The configuration component's own login (`cfg_flags`, made by the launcher and the chart
  // with the service roles): it reads this one table and nothing else of auth.
  await sql`
    DO $$ BEGIN
      IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'cfg_flags') THEN
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO cfg_flags', current_schema());
        GRANT SELECT ON feature_flags TO cfg_flags;
      END IF;
    END $$`.execute(db);
}
