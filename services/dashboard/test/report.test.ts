// Day reports and menu engineering against a real PostgreSQL: events in any order, duplicates,
// voids and discounts give the figures an independent computation gives; a rebuild from the
// journal reaches the same numbers.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { OrderCreated } from "@lsp/contracts";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { DashboardDB } from "../src/db.js";
import { withTenant } from "@lsp/db";
import { applyOrderEvent, applyOrderEvents, type OrderEvent } from "../src/read-model.js";
import { rebuildTenant } from "../src/rebuild.js";
import { addDays, classifyMenu, dayReport, menuEngineering, weekStart, wholeMonths } from "../src/report.js";

let database: TestServiceDatabase<DashboardDB>;

before(async () => {
  database = await startServiceDatabase<DashboardDB>(
    "dashboard",
    path.join(import.meta.dirname, "..", "migrations"),
  );
});
after(() => database?.stop());

const ITEMS = [
  { itemId: randomUUID(), name: "Phở bò tái", category: "Phở", unitPriceVnd: 55_000, unitCostVnd: 21_000 },
  { itemId: randomUUID(), name: "Trà đá", category: "Đồ uống", unitPriceVnd: 5_000, unitCostVnd: 800 },
  { itemId: randomUUID(), name: "Bún chả", category: "Bún", unitPriceVnd: 60_000, unitCostVnd: 30_000 },
];
const location = { id: randomUUID(), timeZone: "Asia/Ho_Chi_Minh", cutoverHour: 4 };

/** A deterministic pseudo-random stream (the test must be reproducible). */
function rng(seed: number) {
  return () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

test("a day's report equals an independent computation, whatever the event order", async () => {
  const tenant = randomUUID();
  const rand = rng(7);
  const day = "2026-11-20"; // a Friday
  const orders: { created: OrderCreated; paid: boolean; voided: boolean }[] = [];
  for (let i = 0; i < 60; i++) {
    // Local 04:00..03:59 next day → UTC = local − 7 h.
    const localMinutes = 4 * 60 + Math.floor(rand() * 24 * 60);
    const createdAt = new Date(Date.parse(`${day}T00:00:00Z`) + (localMinutes - 7 * 60) * 60_000);
    const lines = ITEMS.filter(() => rand() < 0.6).map((it) => ({
      ...it,
      quantity: 1 + Math.floor(rand() * 3),
    }));
    if (lines.length === 0) lines.push({ ...ITEMS[0]!, quantity: 1 });
    const subtotal = lines.reduce((s, l) => s + l.quantity * l.unitPriceVnd, 0);
    const discount = rand() < 0.2 ? 10_000 : 0;
    orders.push({
      created: {
        orderId: randomUUID(),
        tenantId: tenant,
        locationId: location.id,
        businessDay: day,
        createdAt: createdAt.toISOString(),
        paymentMethod: (["cash", "momo", "vnpay"] as const)[Math.floor(rand() * 3)]!,
        subtotalVnd: subtotal,
        discountVnd: discount,
        totalVnd: subtotal - discount,
        guests: 1 + Math.floor(rand() * 4),
        lines,
      },
      paid: rand() < 0.8,
      voided: rand() < 0.1,
    });
  }
  // Events: created, paid, voided, each with an id; shuffled, and some delivered twice.
  const events: { id: string; e: OrderEvent }[] = [];
  for (const o of orders) {
    const c = o.created;
    events.push({ id: randomUUID(), e: { type: "order.created", data: c } });
    if (o.paid)
      events.push({
        id: randomUUID(),
        e: { type: "order.paid", data: { ...c, paidAt: c.createdAt, paymentMethod: c.paymentMethod } },
      });
    if (o.voided)
      events.push({ id: randomUUID(), e: { type: "order.voided", data: { ...c, voidedAt: c.createdAt } } });
  }
  const deliveries = [...events, ...events.filter(() => rand() < 0.3)].sort(() => rand() - 0.5);
  for (const d of deliveries) await applyOrderEvent(database.db, d.id, d.e, { publish: false });

  const kept = orders.filter((o) => !o.voided).map((o) => o.created);
  const net = kept.reduce((s, o) => s + o.totalVnd, 0);
  const report = await dayReport(database.db, tenant, location, day);
  assert.equal(report.netRevenueVnd, net);
  assert.equal(report.orders, kept.length);
  assert.equal(report.paidOrders, orders.filter((o) => !o.voided && o.paid).length);
  assert.equal(report.averageTicketVnd, Math.round(net / kept.length));
  assert.equal(
    report.guests,
    kept.reduce((s, o) => s + (o.guests ?? 0), 0),
  );
  assert.equal(report.voids.orders, orders.filter((o) => o.voided).length);
  assert.equal(
    report.discounts.amountVnd,
    kept.reduce((s, o) => s + (o.discountVnd ?? 0), 0),
  );
  // Hourly: local hour of each order, buckets starting at 04:00.
  assert.deepEqual(
    report.hourly.map((h) => h.hour),
    [...Array(24).keys()].map((i) => (4 + i) % 24),
  );
  for (const h of report.hourly) {
    const inHour = kept.filter((o) => (new Date(o.createdAt).getUTCHours() + 7) % 24 === h.hour);
    assert.equal(
      h.revenueVnd,
      inHour.reduce((s, o) => s + o.totalVnd, 0),
      `hour ${h.hour}`,
    );
  }
  for (const it of ITEMS) {
    const qty = kept
      .flatMap((o) => o.lines)
      .filter((l) => l.itemId === it.itemId)
      .reduce((s, l) => s + l.quantity, 0);
    const top = report.topItems.find((t) => t.itemId === it.itemId);
    assert.equal(top?.quantity ?? 0, qty, it.name);
    assert.equal(top?.revenueVnd ?? 0, qty * it.unitPriceVnd);
  }
  for (const m of report.paymentMix) {
    const mine = kept.filter((o) => o.paymentMethod === m.method);
    assert.equal(
      m.revenueVnd,
      mine.reduce((s, o) => s + o.totalVnd, 0),
    );
    assert.equal(m.orders, mine.length);
  }
  assert.equal(weekStart(day), "2026-11-16");
  assert.equal(report.weekToDate.revenueVnd, net);

  // Rebuild from the journal: the same numbers.
  await rebuildTenant(database.db, tenant);
  const rebuilt = await dayReport(database.db, tenant, location, day);
  assert.deepEqual({ ...rebuilt, version: 0 }, { ...report, version: 0 });
});

test("same day last week and week-to-date compare against the right days", async () => {
  const tenant = randomUUID();
  const order = (day: string, totalVnd: number): OrderEvent => ({
    type: "order.created",
    data: {
      orderId: randomUUID(),
      tenantId: tenant,
      locationId: location.id,
      businessDay: day,
      createdAt: `${day}T05:00:00.000Z`,
      paymentMethod: "cash",
      totalVnd,
      lines: [{ ...ITEMS[0]!, quantity: 1, unitPriceVnd: totalVnd }],
    },
  });
  // Wednesday 2026-11-18; Monday the 16th; last week: Mon 9th..Wed 11th; Thursday 12th is outside.
  for (const [day, amount] of [
    ["2026-11-18", 100_000],
    ["2026-11-16", 50_000],
    ["2026-11-11", 70_000],
    ["2026-11-09", 20_000],
    ["2026-11-12", 999_000],
    ["2026-11-15", 888_000],
  ] as const)
    await applyOrderEvent(database.db, randomUUID(), order(day, amount), { publish: false });
  const r = await dayReport(database.db, tenant, location, "2026-11-18");
  assert.deepEqual(r.sameDayLastWeek, { businessDay: "2026-11-11", revenueVnd: 70_000, orders: 1 });
  assert.deepEqual(
    { ...r.weekToDate },
    {
      from: "2026-11-16",
      to: "2026-11-18",
      revenueVnd: 150_000,
      orders: 2,
      lastWeekRevenueVnd: 90_000,
      lastWeekOrders: 2,
    },
  );
});

test("menu engineering puts items in Kasavana–Smith quadrants", () => {
  const rows = [
    // 100 portions in all, 4 items: popular at ≥ 17.5 portions. Weighted average margin:
    // (40·30k + 30·10k + 20·40k + 10·5k) / 100 = 23.5k.
    { itemId: "a", name: "A", category: "x", quantity: 40, revenueVnd: 40 * 50_000, costVnd: 40 * 20_000 },
    { itemId: "b", name: "B", category: "x", quantity: 30, revenueVnd: 30 * 20_000, costVnd: 30 * 10_000 },
    { itemId: "c", name: "C", category: "x", quantity: 20, revenueVnd: 20 * 60_000, costVnd: 20 * 20_000 },
    { itemId: "d", name: "D", category: "x", quantity: 10, revenueVnd: 10 * 10_000, costVnd: 10 * 5_000 },
  ];
  const out = Object.fromEntries(classifyMenu(rows).map((i) => [i.itemId, i.quadrant]));
  assert.deepEqual(out, { a: "star", b: "plowhorse", c: "star", d: "dog" });
  const puzzle = classifyMenu([
    { itemId: "p", name: "P", category: "x", quantity: 2, revenueVnd: 2 * 90_000, costVnd: 0 },
    { itemId: "q", name: "Q", category: "x", quantity: 98, revenueVnd: 98 * 10_000, costVnd: 0 },
  ]);
  assert.equal(puzzle.find((i) => i.itemId === "p")?.quadrant, "puzzle");
});

test("menu engineering over months: the monthly roll-ups give what the orders give, for any range, and again after a rebuild", async () => {
  const tenant = randomUUID();
  const rand = rng(11);
  // 2025-11-20 … 2026-03-10: cut months at both ends, a year boundary, February.
  const days: string[] = [];
  for (let d = "2025-11-20"; d <= "2026-03-10"; d = addDays(d, 1)) days.push(d);
  const orders: { created: OrderCreated; voided: boolean }[] = [];
  for (const day of days)
    for (let i = 0; i < 2; i++) {
      const lines = ITEMS.filter(() => rand() < 0.6).map((it) => ({
        ...it,
        quantity: 1 + Math.floor(rand() * 3),
      }));
      if (lines.length === 0) lines.push({ ...ITEMS[1]!, quantity: 1 });
      const subtotal = lines.reduce((s, l) => s + l.quantity * l.unitPriceVnd, 0);
      orders.push({
        created: {
          orderId: randomUUID(),
          tenantId: tenant,
          locationId: location.id,
          businessDay: day,
          createdAt: `${day}T05:00:00.000Z`,
          paymentMethod: "cash",
          subtotalVnd: subtotal,
          totalVnd: subtotal,
          lines,
        },
        voided: rand() < 0.15,
      });
    }
  // Batches of several days and months at once, events out of order, some twice.
  const events: { eventId: string; event: OrderEvent }[] = orders.flatMap((o) => [
    { eventId: randomUUID(), event: { type: "order.created", data: o.created } as OrderEvent },
    ...(o.voided
      ? [
          {
            eventId: randomUUID(),
            event: {
              type: "order.voided",
              data: { ...o.created, voidedAt: o.created.createdAt },
            } as OrderEvent,
          },
        ]
      : []),
  ]);
  const deliveries = [...events, ...events.filter(() => rand() < 0.2)].sort(() => rand() - 0.5);
  for (let i = 0; i < deliveries.length; i += 37)
    await applyOrderEvents(database.db, tenant, deliveries.slice(i, i + 37), { publish: false });

  /** Kasavana–Smith over [from, to] computed here from the orders themselves. */
  const expected = (from: string, to: string) => {
    const sold = new Map<
      string,
      {
        itemId: string;
        name: string;
        category: string;
        quantity: number;
        revenueVnd: number;
        costVnd: number;
      }
    >();
    for (const o of orders)
      if (!o.voided && o.created.businessDay >= from && o.created.businessDay <= to)
        for (const l of o.created.lines) {
          const cur = sold.get(l.itemId) ?? {
            itemId: l.itemId,
            name: l.name,
            category: l.category ?? "",
            quantity: 0,
            revenueVnd: 0,
            costVnd: 0,
          };
          cur.quantity += l.quantity;
          cur.revenueVnd += l.quantity * l.unitPriceVnd;
          cur.costVnd += l.quantity * (l.unitCostVnd ?? 0);
          sold.set(l.itemId, cur);
        }
    return classifyMenu([...sold.values()]);
  };
  const ranges: [string, string][] = [
    ["2025-11-20", "2026-03-10"], // cut months at both ends, three whole ones
    ["2025-12-01", "2026-02-28"], // whole months only
    ["2026-01-01", "2026-01-31"], // one whole month
    ["2026-01-05", "2026-01-20"], // inside one month
    ["2025-12-15", "2026-01-14"], // two cut months, none whole
    ["2026-02-28", "2026-03-01"],
  ];
  const check = async (label: string) => {
    for (const [from, to] of ranges)
      assert.deepEqual(
        await menuEngineering(database.db, tenant, location.id, from, to),
        expected(from, to),
        `${label}: ${from} … ${to}`,
      );
  };
  await check("live");
  const monthRows = () =>
    withTenant(database.db, tenant, (trx) =>
      trx.selectFrom("month_items").selectAll().orderBy("month").orderBy("item_id").execute(),
    );
  const live = await monthRows();
  assert.equal(live.length, 5 * ITEMS.length); // November … March, every item sold each month
  await rebuildTenant(database.db, tenant);
  assert.deepEqual(await monthRows(), live);
  await check("rebuilt");
});

test("whole months inside a range", () => {
  assert.deepEqual(wholeMonths("2026-01-01", "2026-12-31"), { first: "2026-01-01", end: "2027-01-01" });
  assert.deepEqual(wholeMonths("2025-11-30", "2026-11-29"), { first: "2025-12-01", end: "2026-11-01" });
  assert.deepEqual(wholeMonths("2026-01-05", "2026-01-20"), { first: "2026-02-01", end: "2026-01-01" });
  assert.deepEqual(wholeMonths("2024-02-01", "2024-02-29"), { first: "2024-02-01", end: "2024-03-01" });
});
