// The dashboard's consumer checks and big amounts against a real PostgreSQL: an order event whose
// location is not its tenant's (auth's records) is dropped and moves no figure; a 5.49 bn VND order
// goes through the read model and the day report exactly.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { OrderCreated } from "@lsp/contracts";
import { createLogger } from "@lsp/runtime";
import type { BulkEvent, BulkStatus } from "@lsp/dapr";
import type { LocationSettings } from "@lsp/locations";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { DashboardDB } from "../src/db.js";
import { acceptOnlyKnownLocations, type LocationLookup } from "../src/event-check.js";
import { applyOrderEvents, dayFigures, type OrderEvent } from "../src/read-model.js";
import { dayReport } from "../src/report.js";

let database: TestServiceDatabase<DashboardDB>;

before(async () => {
  database = await startServiceDatabase<DashboardDB>(
    "dashboard",
    path.join(import.meta.dirname, "..", "migrations"),
  );
});
after(() => database?.stop());

const log = createLogger("test", "silent");
const DAY = "2026-11-20";

function created(tenantId: string, locationId: string, lines: OrderCreated["lines"]): OrderCreated {
  const totalVnd = lines.reduce((s, l) => s + l.quantity * l.unitPriceVnd, 0);
  return {
    orderId: randomUUID(),
    tenantId,
    locationId,
    businessDay: DAY,
    createdAt: `${DAY}T05:00:00.000Z`,
    paymentMethod: "card",
    totalVnd,
    subtotalVnd: totalVnd,
    discountVnd: 0,
    lines,
  };
}

const bulk = (data: OrderCreated): BulkEvent => ({
  entryId: randomUUID(),
  eventId: randomUUID(),
  type: "order.created",
  data,
});

/** The service's own handler shape: the batch applied per tenant, every entry SUCCESS. */
async function applyAll(events: BulkEvent[]): Promise<Map<string, BulkStatus>> {
  const statuses = new Map<string, BulkStatus>();
  const byTenant = new Map<string, BulkEvent[]>();
  for (const e of events) {
    const t = (e.data as OrderCreated).tenantId;
    byTenant.set(t, [...(byTenant.get(t) ?? []), e]);
  }
  for (const [tenantId, group] of byTenant) {
    await applyOrderEvents(
      database.db,
      tenantId,
      group.map((e) => ({ eventId: e.eventId, event: { type: e.type, data: e.data } as OrderEvent })),
    );
    for (const e of group) statuses.set(e.entryId, "SUCCESS");
  }
  return statuses;
}

/** Auth's records, in memory: which location belongs to which tenant. */
function records(locations: Record<string, string>, down = new Set<string>()): LocationLookup {
  return (tenantId, locationId) => {
    if (down.has(locationId)) return Promise.reject(new Error("auth unavailable"));
    const owner = locations[locationId];
    if (owner !== tenantId) return Promise.resolve(null);
    const settings: LocationSettings = {
      id: locationId,
      tenantId,
      name: "x",
      timeZone: "Asia/Ho_Chi_Minh",
      cutoverHour: 4,
    };
    return Promise.resolve(settings);
  };
}

const pho = { itemId: randomUUID(), name: "Phở tái", quantity: 2, unitPriceVnd: 55_000 };

test("an event naming another tenant's location, or a location auth does not know, is dropped and moves nothing", async () => {
  const [tenantA, tenantB] = [randomUUID(), randomUUID()];
  const [locA, locB, unknown, flaky] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const handle = acceptOnlyKnownLocations(
    applyAll,
    records({ [locA]: tenantA, [locB]: tenantB, [flaky]: tenantA }, new Set([flaky])),
    log,
  );
  const genuine = bulk(created(tenantA, locA, [pho]));
  const forgedCrossTenant = bulk(created(tenantA, locB, [pho])); // B's location under A's name
  const forgedUnknown = bulk(created(tenantB, unknown, [pho]));
  const whileAuthDown = bulk(created(tenantA, flaky, [pho]));
  const statuses = await handle([genuine, forgedCrossTenant, forgedUnknown, whileAuthDown]);
  assert.equal(statuses.get(genuine.entryId), "SUCCESS");
  assert.equal(statuses.get(forgedCrossTenant.entryId), "DROP");
  assert.equal(statuses.get(forgedUnknown.entryId), "DROP");
  assert.equal(statuses.get(whileAuthDown.entryId), "RETRY");
  const figures = await dayFigures(database.db, tenantA, [
    { locationId: locA, businessDay: DAY },
    { locationId: locB, businessDay: DAY },
    { locationId: flaky, businessDay: DAY },
  ]);
  assert.deepEqual(figures, [
    { revenueVnd: 110_000, orders: 1 },
    { revenueVnd: 0, orders: 0 },
    { revenueVnd: 0, orders: 0 },
  ]);
  const [ofB] = await dayFigures(database.db, tenantB, [{ locationId: unknown, businessDay: DAY }]);
  assert.deepEqual(ofB, { revenueVnd: 0, orders: 0 });
  // A batch of nothing but forgeries never reaches the handler.
  let called = false;
  const guarded = acceptOnlyKnownLocations(
    async () => {
      called = true;
      return new Map();
    },
    records({}),
    log,
  );
  assert.deepEqual([...(await guarded([forgedUnknown])).values()], ["DROP"]);
  assert.equal(called, false);
});

test("a 100-line order of 5.49 bn VND: day report and figures exact", async () => {
  const tenant = randomUUID();
  const location = { id: randomUUID(), timeZone: "Asia/Ho_Chi_Minh", cutoverHour: 4 };
  const lines = Array.from({ length: 100 }, (_, i) => ({
    itemId: randomUUID(),
    name: `Mâm cỗ ${i + 1}`,
    category: "Tiệc",
    quantity: 999,
    unitPriceVnd: 55_000,
  }));
  const order = created(tenant, location.id, lines);
  assert.equal(order.totalVnd, 5_494_500_000);
  const handle = acceptOnlyKnownLocations(applyAll, records({ [location.id]: tenant }), log);
  await handle([bulk(order), bulk(created(tenant, location.id, [pho]))]);
  const report = await dayReport(database.db, tenant, location, DAY);
  assert.equal(report.netRevenueVnd, 5_494_610_000);
  assert.equal(report.grossSalesVnd, 5_494_610_000);
  assert.equal(report.averageTicketVnd, 2_747_305_000);
  assert.equal(report.topItems.find((i) => i.name === "Mâm cỗ 1")?.revenueVnd, 54_945_000);
  assert.equal(report.topCategories.find((c) => c.category === "Tiệc")?.revenueVnd, 5_494_500_000);
  assert.equal(
    report.hourly.reduce((s, h) => s + h.revenueVnd, 0),
    5_494_610_000,
  );
  assert.equal(report.paymentMix[0]?.revenueVnd, 5_494_610_000);
  const [figures] = await dayFigures(database.db, tenant, [{ locationId: location.id, businessDay: DAY }]);
  assert.deepEqual(figures, { revenueVnd: 5_494_610_000, orders: 2 });
});
