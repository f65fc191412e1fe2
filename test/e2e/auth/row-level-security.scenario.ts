// Row-level security in every service schema, checked as each service's own role.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import pg from "pg";
import { DATABASE, DB_SERVICES, serviceDatabaseUrl } from "../../../scripts/mesh/infra.js";
import { vnpaySecureHash, vnpaySignData } from "../../../services/payments/src/providers/vnpay.js";
import { asSidecarOf } from "../../support/mesh.js";
import { CREATE_ORDER, DEMO, edgeClient, eventually } from "../../support/graphql-client.js";
import { TENANT_IDS, type AuthMesh } from "../../support/auth.js";

/**
 * Rows of two tenants in every service schema, each written by the service's own code: an
 * order (sales, dashboard's facts and journal, notifications' day totals through
 * dashboard.updated), a started VNPay payment (payments' intent), a webhook with a bad signature
 * for it (a tenant's audit row) and one for an unknown reference (an audit row of no tenant),
 * and dead letters posted to notifications' dead-letter route as Dapr delivers them (one per
 * tenant, one naming no tenant).
 */
async function writeRowsOfTwoTenants(h: AuthMesh): Promise<void> {
  const { mesh } = h;
  const webhooks = `http://127.0.0.1:${mesh.plan.apps.edge.app}/api/v1/webhooks`;
  const deadLetters = `http://127.0.0.1:${mesh.plan.apps.notifications.app}/deadletters/payments-notifications-deadletter`;
  const vnpayNotice = (reference: string, amountVnd: number) => {
    const params: Record<string, string> = {
      vnp_Amount: String(amountVnd * 100),
      vnp_OrderInfo: `Thanh toan don ${reference}`,
      vnp_ResponseCode: "00",
      vnp_TmnCode: "LSPDEV01",
      vnp_TransactionNo: String(Date.now()),
      vnp_TransactionStatus: "00",
      vnp_TxnRef: reference,
    };
    // Signed with a key no tenant has: refused, and audited.
    return `${vnpaySignData(params)}&vnp_SecureHashType=HmacSHA512&vnp_SecureHash=${vnpaySecureHash("not-a-tenant-key", params)}`;
  };
  const postDeadLetter = (tenantId: string | undefined) =>
    fetch(deadLetters, {
      method: "POST",
      // As notifications' sidecar delivers them (the app token).
      headers: { "content-type": "application/json", ...asSidecarOf(mesh, "notifications") },
      body: JSON.stringify({
        id: randomUUID(),
        type: "payment.succeeded",
        data: tenantId ? { tenantId } : { note: "no tenant" },
      }),
    });
  const tenants = [
    { slug: DEMO.phoBo.slug, location: DEMO.phoBo.hoanKiem, item: DEMO.phoBo.phoTai, id: TENANT_IDS.phoBo },
    {
      slug: DEMO.caPhe.slug,
      location: DEMO.caPhe.quan1,
      item: DEMO.caPhe.caPheSuaDa,
      id: TENANT_IDS.caPhe,
    },
  ];
  for (const t of tenants) {
    const gql = edgeClient(mesh.edgeUrl, t.slug);
    const created = await gql<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
      input: {
        locationId: t.location,
        idempotencyKey: randomUUID(),
        paymentMethod: "vnpay",
        lines: [{ itemId: t.item, quantity: 1 }],
      },
    });
    assert.ok(created.data?.createOrder, JSON.stringify(created.errors));
    const started = await gql<{ startPayment: { reference: string } }>(
      `mutation ($orderId: ID!) { startPayment(orderId: $orderId, provider: vnpay) { reference } }`,
      { orderId: created.data.createOrder.id },
    );
    assert.ok(started.data?.startPayment, JSON.stringify(started.errors));
    const refused = await fetch(
      `${webhooks}/vnpay?${vnpayNotice(started.data.startPayment.reference, created.data.createOrder.totalVnd)}`,
    );
    assert.equal(((await refused.json()) as { RspCode: string }).RspCode, "97"); // invalid signature
    assert.equal((await postDeadLetter(t.id)).status, 200);
  }
  await fetch(`${webhooks}/vnpay?${vnpayNotice(`LSP-UNKNOWN-${Date.now()}`, 1000)}`);
  assert.equal((await postDeadLetter(undefined)).status, 200);
}

export function rowLevelSecurityScenarios(h: AuthMesh): void {
  test("row-level security in every service schema: each tenant table (found in pg_catalog) has a forced policy; connected as the service's role, an unfiltered SELECT in tenant A's transaction returns exactly A's rows; the role owns nothing and cannot turn row security off", async () => {
    const { mesh } = h;
    await writeRowsOfTwoTenants(h);
    // The server's superuser (test infrastructure only) counts what is really stored.
    const admin = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${mesh.plan.postgres}/${DATABASE}`,
    });
    await admin.connect();
    type TenantTable = { schema: string; name: string; rls: boolean; forced: boolean; policies: number };
    const stored = async (t: TenantTable) =>
      (
        await admin.query(
          `SELECT tenant_id::text AS tenant, count(*)::int AS n FROM ${t.schema}.${t.name} GROUP BY 1`,
        )
      ).rows as { tenant: string | null; n: number }[];
    try {
      // Rows arrive in dashboard and notifications through pub/sub: wait for both tenants there.
      for (const table of ["dashboard.event_journal", "notifications.day_totals"])
        await eventually(
          `${table} has rows of both tenants`,
          async () => {
            const r = await admin.query(`SELECT count(DISTINCT tenant_id)::int AS n FROM ${table}
            WHERE tenant_id IN ('${TENANT_IDS.phoBo}', '${TENANT_IDS.caPhe}')`);
            return r.rows[0].n === 2 ? true : undefined;
          },
          60_000,
        );

      const withRowsOfA = new Set<string>();
      let checked = 0;
      for (const service of DB_SERVICES) {
        const client = new pg.Client({ connectionString: serviceDatabaseUrl(mesh.plan.postgres, service) });
        await client.connect();
        try {
          const role = await client.query(
            `SELECT r.rolbypassrls, r.rolsuper,
               (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relowner = r.oid) AS owned_relations,
               (SELECT count(*)::int FROM pg_namespace n WHERE n.nspname = $1 AND n.nspowner = r.oid) AS owned_schemas,
               has_schema_privilege($1, 'CREATE') AS can_create,
               (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname = $1 AND c.relname LIKE 'kysely_migration%'
                   AND has_table_privilege(c.oid, 'SELECT, INSERT, UPDATE, DELETE')) AS ledger_access
             FROM pg_roles r WHERE r.rolname = current_user`,
            [service],
          );
          assert.deepEqual(
            role.rows[0],
            {
              rolbypassrls: false,
              rolsuper: false,
              owned_relations: 0,
              owned_schemas: 0,
              can_create: false,
              ledger_access: 0,
            },
            `svc_${service} cannot bypass row security, owns nothing, cannot create tables, cannot touch the migration ledger`,
          );
          const tables = (
            await client.query(
              `SELECT n.nspname AS schema, c.relname AS name, c.relrowsecurity AS rls,
                 c.relforcerowsecurity AS forced,
                 (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND EXISTS (
                 SELECT 1 FROM pg_attribute a
                 WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
               ORDER BY c.relname`,
              [service],
            )
          ).rows as TenantTable[];
          for (const t of tables) {
            const where = `${service}.${t.name}`;
            assert.ok(t.rls && t.forced && t.policies > 0, `${where} has forced row-level security`);
            const truth = await stored(t);
            for (const a of [TENANT_IDS.phoBo, TENANT_IDS.caPhe]) {
              await client.query("BEGIN");
              await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [a]);
              // Deliberately no WHERE on the tenant.
              const seen = (await client.query(`SELECT tenant_id::text AS tenant FROM ${t.name}`)).rows as {
                tenant: string | null;
              }[];
              await client.query("ROLLBACK");
              const foreign = seen.filter((r) => r.tenant !== a);
              assert.equal(
                foreign.length,
                0,
                `${where}: no row of another tenant (or of none) in ${a}'s transaction`,
              );
              assert.equal(
                seen.length,
                truth.find((r) => r.tenant === a)?.n ?? 0,
                `${where}: every row of ${a}`,
              );
              if (seen.length > 0) withRowsOfA.add(where);
            }
            // Without a tenant in the transaction, no tenant's row.
            const bare = await client.query(
              `SELECT count(*)::int AS n FROM ${t.name} WHERE tenant_id IS NOT NULL`,
            );
            assert.equal(bare.rows[0].n, 0, `${where}: nothing without a tenant`);
            // The runtime role cannot switch row security off: it owns no table, and asking the
            // session for row_security = off makes the query fail instead of bypassing.
            for (const ddl of ["NO FORCE ROW LEVEL SECURITY", "DISABLE ROW LEVEL SECURITY"])
              await assert.rejects(
                client.query(`ALTER TABLE ${t.name} ${ddl}`),
                /must be owner/,
                `${where}: ${ddl} refused`,
              );
            await assert.rejects(
              client.query(`DROP POLICY tenant_isolation ON ${t.name}`),
              /must be owner/,
              `${where}: DROP POLICY refused`,
            );
            await client.query("SET row_security = off");
            await assert.rejects(
              client.query(`SELECT 1 FROM ${t.name} LIMIT 1`),
              /row-level security/,
              where,
            );
            await client.query("RESET row_security");
            checked++;
          }
        } finally {
          await client.end();
        }
      }
      // The proof means something only where both tenants have rows: these tables got some above.
      for (const table of [
        "auth.locations",
        "auth.memberships",
        "sales.menu_items",
        "sales.orders",
        "sales.order_lines",
        "dashboard.order_facts",
        "dashboard.event_journal",
        "payments.payment_intents",
        "payments.webhook_audit",
        "notifications.dead_letters",
        "notifications.day_totals",
      ])
        assert.ok(withRowsOfA.has(table), `${table} was checked with rows present`);
      assert.ok(checked >= 20, `checked ${checked} tenant tables`);
      // Rows of no tenant exist, and no tenant's transaction saw them (checked above).
      const tenantless = await admin.query(
        "SELECT (SELECT count(*)::int FROM payments.webhook_audit WHERE tenant_id IS NULL) AS audit, (SELECT count(*)::int FROM notifications.dead_letters WHERE tenant_id IS NULL) AS dead",
      );
      assert.ok(tenantless.rows[0].audit > 0 && tenantless.rows[0].dead > 0, JSON.stringify(tenantless.rows));
    } finally {
      await admin.end();
    }
  });

  test("row-level security: an unfiltered SELECT in tenant A's transaction sees nothing of B; the role cannot bypass it", async () => {
    const { authDb } = h;
    const client = await authDb.connect();
    try {
      const role = await client.query(
        "SELECT rolbypassrls, rolsuper FROM pg_roles WHERE rolname = current_user",
      );
      assert.deepEqual(role.rows[0], { rolbypassrls: false, rolsuper: false });
      // Without a tenant: nothing at all.
      assert.equal(Number((await client.query("SELECT count(*) FROM memberships")).rows[0].count), 0);
      await client.query("BEGIN");
      await client.query("SELECT set_config('lsp.tenant_id', $1, true)", [TENANT_IDS.caPhe]);
      for (const table of ["memberships", "locations", "refresh_tokens", "invites", "join_codes"]) {
        // Deliberately no WHERE on the tenant.
        const rows = (await client.query(`SELECT tenant_id FROM ${table}`)).rows as { tenant_id: string }[];
        assert.ok(
          rows.every((r) => r.tenant_id === TENANT_IDS.caPhe),
          `${table}: only tenant B's rows`,
        );
        if (["memberships", "locations", "refresh_tokens"].includes(table)) assert.ok(rows.length > 0, table);
      }
      // Writing a row of another tenant fails the policy's check.
      await assert.rejects(
        client.query(
          "INSERT INTO join_codes (code, tenant_id, role, location_ids) VALUES ('ZZZZ9999', $1, 'staff', $2)",
          [TENANT_IDS.phoBo, [DEMO.phoBo.hoanKiem]],
        ),
        /row-level security/,
      );
      await client.query("ROLLBACK");
      // Staff scope: with allowed locations set, other locations of the same tenant are invisible.
      await client.query("BEGIN");
      await client.query(
        "SELECT set_config('lsp.tenant_id', $1, true), set_config('lsp.location_ids', $2, true)",
        [TENANT_IDS.phoBo, DEMO.phoBo.hoanKiem],
      );
      const scoped = (await client.query("SELECT id FROM locations")).rows as { id: string }[];
      assert.deepEqual(
        scoped.map((r) => r.id),
        [DEMO.phoBo.hoanKiem],
      );
      await client.query("ROLLBACK");
      // Asking for row security off does not bypass it: the query fails instead.
      await client.query("SET row_security = off");
      await assert.rejects(client.query("SELECT * FROM memberships"), /row-level security/);
      await client.query("RESET row_security");
    } finally {
      client.release();
    }
  });
}
