// The read model against a real PostgreSQL, connected as the dashboard's own role.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { OrderCreated } from "@lsp/contracts";
import { withTenant } from "@lsp/service-kit";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { DashboardDB } from "../src/db.js";
import { applyOrderCreated, dayFigures } from "../src/read-model.js";

let database: TestServiceDatabase<DashboardDB>;

before(async () => {
  database = await startServiceDatabase<DashboardDB>(
    "dashboard",
    path.join(import.meta.dirname, "..", "migrations"),
  );
});
after(() => database?.stop());

function order(tenantId: string, locationId: string, totalVnd: number): OrderCreated {
  return {
    orderId: randomUUID(),
    tenantId,
    locationId,
    businessDay: "2026-11-20",
    createdAt: "2026-11-20T05:00:00.000Z",
    paymentMethod: "cash",
    totalVnd,
    lines: [{ itemId: randomUUID(), name: "Phở tái", quantity: 1, unitPriceVnd: totalVnd }],
  };
}

test("an event applied twice counts once", async () => {
  const tenant = randomUUID();
  const location = randomUUID();
  const eventId = randomUUID();
  assert.equal(await applyOrderCreated(database.db, eventId, order(tenant, location, 55_000)), true);
  assert.equal(await applyOrderCreated(database.db, eventId, order(tenant, location, 55_000)), false);
  await applyOrderCreated(database.db, randomUUID(), order(tenant, location, 20_000));
  const [figures] = await dayFigures(database.db, tenant, [
    { locationId: location, businessDay: "2026-11-20" },
  ]);
  assert.deepEqual(figures, { revenueVnd: 75_000, orders: 2 });
});

test("row-level security: a query without a tenant filter sees only the transaction's tenant", async () => {
  const [a, b] = [randomUUID(), randomUUID()];
  const [locA, locB] = [randomUUID(), randomUUID()];
  await applyOrderCreated(database.db, randomUUID(), order(a, locA, 10_000));
  await applyOrderCreated(database.db, randomUUID(), order(b, locB, 99_000));

  const seenByA = await withTenant(database.db, a, (trx) =>
    trx.selectFrom("location_days").select(["tenant_id", "revenue_vnd"]).execute(),
  );
  assert.deepEqual(seenByA, [{ tenant_id: a, revenue_vnd: 10_000 }]);
  // Asking for B's location while bound to A returns zeros, not B's figures.
  const [leak] = await dayFigures(database.db, a, [{ locationId: locB, businessDay: "2026-11-20" }]);
  assert.deepEqual(leak, { revenueVnd: 0, orders: 0 });
  // Outside a tenant transaction nothing is visible, and nothing can be written for another tenant.
  const { rows } = await sql`SELECT count(*)::int AS n FROM location_days`.execute(database.db);
  assert.deepEqual(rows, [{ n: 0 }]);
  await assert.rejects(
    withTenant(database.db, a, (trx) =>
      trx
        .insertInto("location_days")
        .values({ tenant_id: b, location_id: locB, business_day: "2026-11-21" })
        .execute(),
    ),
    /row-level security/,
  );
});
