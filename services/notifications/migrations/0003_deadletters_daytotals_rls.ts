import { sql, type Kysely } from "kysely";
import { allowOwnerReads, allowTenantlessRows, enableTenantIsolation } from "@lsp/db";

/**
 * Row-level security for the two tables 0002 left without it. The daily digest's only
 * cross-tenant need, which tenants have a day waiting, is a SECURITY DEFINER function of the
 * schema owner that answers with tenant ids only (see allowOwnerReads); the days themselves are
 * read and marked inside each tenant's transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // A dead letter whose event names no valid tenant keeps tenant_id NULL: written outside any
  // tenant's transaction and readable only there (platform admins, the owner role).
  await enableTenantIsolation(db, "dead_letters");
  await allowTenantlessRows(db, "dead_letters");
  await allowOwnerReads(db, "dead_letters");

  await enableTenantIsolation(db, "day_totals");
  await allowOwnerReads(db, "day_totals");
  await sql`CREATE FUNCTION digest_pending_tenants() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT DISTINCT tenant_id FROM notifications.day_totals WHERE digest_sent_at IS NULL $$`.execute(
    db,
  );
}
