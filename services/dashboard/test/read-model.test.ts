// The read model against a real PostgreSQL, connected as the dashboard's own role.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import type { OrderCreated } from "@lsp/contracts";
import { withTenant } from "@lsp/db";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { DashboardDB } from "../src/db.js";
import { applyOrderCreated, applyOrderEvents, dayFigures } from "../src/read-model.js";

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

test("a bulk batch: each event once, one update per location-day; overlapping concurrent batches converge without deadlock", async () => {
  const tenant = randomUUID();
  const [loc1, loc2] = [randomUUID(), randomUUID()];
  const orders = Array.from({ length: 40 }, (_, i) => order(tenant, i % 2 ? loc1 : loc2, 10_000 + i));
  const created = orders.map((o) => ({
    eventId: randomUUID(),
    event: { type: "order.created" as const, data: o },
  }));
  const voided = orders.slice(0, 10).map((o) => ({
    eventId: randomUUID(),
    event: {
      type: "order.voided" as const,
      data: {
        orderId: o.orderId,
        tenantId: tenant,
        locationId: o.locationId,
        businessDay: o.businessDay,
        voidedAt: "2026-11-20T06:00:00.000Z",
        totalVnd: o.totalVnd,
      },
    },
  }));
  // The same event twice in one batch, and batches that share orders in opposite orders.
  const first = await applyOrderEvents(
    database.db,
    tenant,
    [created[0]!, created[0]!, ...created.slice(1, 20)],
    {
      publish: false,
    },
  );
  assert.equal(first.length, 2, "one update per location-day touched");
  const batchA = [...created.slice(15, 40), ...voided.slice(0, 5)];
  const batchB = [...voided.slice(5), ...created.slice(20).reverse()];
  await Promise.all([
    applyOrderEvents(database.db, tenant, batchA, { publish: false }),
    applyOrderEvents(database.db, tenant, batchB.reverse(), { publish: false }),
    applyOrderEvents(database.db, tenant, voided, { publish: false }),
  ]);
  // Redelivering everything changes nothing.
  assert.deepEqual(
    await applyOrderEvents(database.db, tenant, [...created, ...voided], { publish: false }),
    [],
  );
  const want = (loc: string) => {
    const kept = orders.slice(10).filter((o) => o.locationId === loc);
    return { revenueVnd: kept.reduce((s, o) => s + o.totalVnd, 0), orders: kept.length };
  };
  const figures = await dayFigures(database.db, tenant, [
    { locationId: loc1, businessDay: "2026-11-20" },
    { locationId: loc2, businessDay: "2026-11-20" },
  ]);
  assert.deepEqual(figures, [want(loc1), want(loc2)]);
  await assert.rejects(
    applyOrderEvents(database.db, randomUUID(), created.slice(0, 1)),
    /must belong to the batch's tenant/,
  );
});
