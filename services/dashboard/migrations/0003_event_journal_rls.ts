import { sql, type Kysely } from "kysely";
import { allowOwnerReads, enableTenantIsolation } from "@lsp/db";

/**
 * Row-level security for the event journal (0002 left it without). A rebuild of every tenant
 * needs only the list of tenants with journaled events: a SECURITY DEFINER function of the
 * schema owner answers with tenant ids only (see allowOwnerReads); each tenant's events are read
 * inside its own transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await enableTenantIsolation(db, "event_journal");
  await allowOwnerReads(db, "event_journal");
  await sql`CREATE FUNCTION journal_tenants() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT DISTINCT tenant_id FROM dashboard.event_journal $$`.execute(db);
}
