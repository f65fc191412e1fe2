import { sql, type Kysely } from "kysely";
import { allowOwnerReads, allowTenantlessRows, enableTenantIsolation } from "@lsp/db";

/**
 * Row-level security for the two tables 0002 left without it. The cross-tenant needs are two
 * lookups that answer with tenant ids only, as SECURITY DEFINER functions of the schema owner
 * (run as this migration's role, see allowOwnerReads); everything else about an intent is read
 * inside that tenant's transaction.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await enableTenantIsolation(db, "payment_intents");
  await allowOwnerReads(db, "payment_intents");

  // A webhook names our reference, not a tenant: the reference → its tenant, nothing else.
  await sql`CREATE FUNCTION payment_intent_tenant(p_provider text, p_reference text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT tenant_id FROM payments.payment_intents
          WHERE provider = p_provider AND reference = p_reference $$`.execute(db);

  // Reconciliation walks the tenants that have unsettled attempts in the query window.
  await sql`CREATE FUNCTION unsettled_intent_tenants(p_created_before timestamptz, p_created_after timestamptz)
    RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
    AS $$ SELECT DISTINCT tenant_id FROM payments.payment_intents
          WHERE settled_at IS NULL AND created_at <= p_created_before AND created_at > p_created_after $$`.execute(
    db,
  );

  // Audit rows of a known tenant belong to it; a rejected webhook whose tenant is unknown (no
  // such reference, unparsable body) keeps tenant_id NULL and is seen only outside any tenant's
  // transaction: by the service when it writes it, and by platform admins (the owner role).
  await enableTenantIsolation(db, "webhook_audit");
  await allowTenantlessRows(db, "webhook_audit");
  await allowOwnerReads(db, "webhook_audit");
}
