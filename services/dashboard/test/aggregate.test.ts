// The pure aggregation logic: the counted-order rule, merging events in any order, and the
// per-location-day differences that must add up to a recomputation from scratch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import {
  accumulate,
  applyToFacts,
  contributionOf,
  monthItemDeltas,
  isCounted,
  localHourOf,
  mergeEvent,
  type DayDelta,
  type OrderEvent,
  type OrderFact,
} from "../src/aggregate.js";

const tenantId = randomUUID();
const locationId = randomUUID();
const businessDay = "2026-11-20";
const pho = randomUUID();
const tra = randomUUID();

function created(
  orderId: string,
  over: Partial<Extract<OrderEvent, { type: "order.created" }>["data"]> = {},
): OrderEvent {
  return {
    type: "order.created",
    data: {
      orderId,
      tenantId,
      locationId,
      businessDay,
      createdAt: "2026-11-20T05:30:00.000Z", // 12:30 in Ho Chi Minh City
      paymentMethod: "cash",
      subtotalVnd: 110_000,
      discountVnd: 10_000,
      totalVnd: 100_000,
      guests: 2,
      timeZone: "Asia/Ho_Chi_Minh",
      cutoverHour: 4,
      lines: [
        {
          itemId: pho,
          name: "Phở tái",
          quantity: 2,
          unitPriceVnd: 50_000,
          category: "Phở",
          unitCostVnd: 20_000,
        },
        { itemId: tra, name: "Trà đá", quantity: 2, unitPriceVnd: 5_000 },
      ],
      ...over,
    },
  };
}
const paid = (orderId: string): OrderEvent => ({
  type: "order.paid",
  data: {
    orderId,
    tenantId,
    locationId,
    businessDay,
    paidAt: "2026-11-20T05:40:00.000Z",
    paymentMethod: "momo",
    totalVnd: 100_000,
  },
});
const voided = (orderId: string): OrderEvent => ({
  type: "order.voided",
  data: {
    orderId,
    tenantId,
    locationId,
    businessDay,
    voidedAt: "2026-11-20T05:50:00.000Z",
    totalVnd: 100_000,
  },
});

/** A comparable picture of a delta (maps as sorted entries, zero entries left out). */
function picture(d: DayDelta | undefined) {
  if (!d) return undefined;
  const entries = <V extends object>(m: Map<string | number, V>) =>
    [...m]
      .filter(([, v]) => Object.values(v).some((x) => typeof x === "number" && x !== 0))
      .sort(([a], [b]) => String(a).localeCompare(String(b)));
  return {
    totals: d.totals,
    hours: entries(d.hours),
    items: entries(d.items),
    payments: entries(d.payments),
  };
}

/** Applies events one at a time (as separate deliveries would), accumulating the differences. */
function applyOneByOne(events: OrderEvent[]) {
  const facts = new Map<string, OrderFact>();
  const day = new Map<string, DayDelta>();
  for (const e of events) {
    const r = applyToFacts(facts, [e]);
    for (const [id, f] of r.facts) facts.set(id, f);
    for (const d of r.deltas.values()) accumulate(day, d, 1);
  }
  return { facts, day: [...day.values()][0] };
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

test("the counted-order rule: created and not voided", () => {
  const id = randomUUID();
  const onlyPaid = mergeEvent(null, paid(id));
  assert.equal(isCounted(onlyPaid), false, "a paid event alone does not count an order");
  const both = mergeEvent(onlyPaid, created(id));
  assert.equal(isCounted(both), true);
  assert.equal(isCounted(mergeEvent(both, voided(id))), false);
});

test("an order's contribution: every figure of the day", () => {
  const id = randomUUID();
  const f = mergeEvent(mergeEvent(null, created(id)), paid(id));
  const c = contributionOf(f);
  assert.deepEqual(c.totals, {
    revenueVnd: 100_000,
    orders: 1,
    grossVnd: 110_000,
    paidOrders: 1,
    guests: 2,
    guestOrders: 1,
    discountedOrders: 1,
    discountVnd: 10_000,
    voidedOrders: 0,
    voidedVnd: 0,
  });
  assert.deepEqual([...c.hours], [[12, { revenueVnd: 100_000, orders: 1 }]]);
  assert.deepEqual(c.items.get(pho), {
    name: "Phở tái",
    category: "Phở",
    quantity: 2,
    revenueVnd: 100_000,
    costVnd: 40_000,
  });
  assert.deepEqual(c.items.get(tra), {
    name: "Trà đá",
    category: null,
    quantity: 2,
    revenueVnd: 10_000,
    costVnd: 0,
  });
  // The method it was finally paid with.
  assert.deepEqual([...c.payments], [["momo", { orders: 1, revenueVnd: 100_000 }]]);
});

test("a voided order leaves every figure but the voids", () => {
  const id = randomUUID();
  const c = contributionOf(mergeEvent(mergeEvent(null, created(id)), voided(id)));
  assert.equal(c.totals.orders, 0);
  assert.equal(c.totals.revenueVnd, 0);
  assert.deepEqual([c.totals.voidedOrders, c.totals.voidedVnd], [1, 100_000]);
  assert.equal(c.hours.size + c.items.size + c.payments.size, 0);
});

test("created / paid / voided in every order give the same facts and the same day", () => {
  const a = randomUUID();
  const b = randomUUID();
  const events = [
    created(a),
    paid(a),
    voided(a),
    created(b, { paymentMethod: "card", guests: undefined }),
    paid(b),
  ];
  const expected = applyOneByOne(events);
  const expectedPicture = picture(expected.day);
  // The day equals what recomputing each final order gives.
  const fromScratch = new Map<string, DayDelta>();
  for (const f of expected.facts.values()) accumulate(fromScratch, contributionOf(f), 1);
  assert.deepEqual(expectedPicture, picture([...fromScratch.values()][0]));
  for (const order of permutations(events)) {
    const got = applyOneByOne(order);
    assert.deepEqual(picture(got.day), expectedPicture, order.map((e) => e.type).join(","));
    assert.deepEqual(got.facts, expected.facts);
  }
  // One batch holding all of them gives the same.
  const batch = applyToFacts(new Map(), events);
  assert.deepEqual(picture([...batch.deltas.values()][0]), expectedPicture);
  assert.equal(expectedPicture?.totals.orders, 1);
  assert.equal(expectedPicture?.totals.voidedOrders, 1);
});

test("an event that changes nothing counted yields a zero difference", () => {
  const id = randomUUID();
  const before = new Map([[id, mergeEvent(mergeEvent(null, created(id)), voided(id))]]);
  // paid after voided: the order stays out of every figure.
  const { deltas } = applyToFacts(before, [paid(id)]);
  const d = [...deltas.values()][0];
  assert.ok(d);
  assert.ok(Object.values(d.totals).every((v) => v === 0));
});

test("local hour in the location's time zone; an event without one uses the fallback", () => {
  assert.equal(localHourOf("2026-11-20T17:30:00.000Z", "Asia/Ho_Chi_Minh"), 0);
  assert.equal(localHourOf("2026-11-20T17:30:00.000Z", "Asia/Tokyo"), 2);
  const legacy = created(randomUUID(), { timeZone: undefined, createdAt: "2026-11-20T17:30:00.000Z" });
  assert.equal(mergeEvent(null, legacy, "Asia/Tokyo").localHour, 2);
  assert.equal(mergeEvent(null, legacy).localHour, 0);
});

test("month deltas: a batch's item differences summed per location, month and item, in key order", () => {
  const loc = "00000000-0000-4000-8000-000000000001";
  const item = (name: string, quantity: number) => ({
    name,
    category: "Phở",
    quantity,
    revenueVnd: quantity * 50_000,
    costVnd: quantity * 20_000,
  });
  const day = (businessDay: string, items: [string, ReturnType<typeof item>][]) => ({
    tenantId: "t",
    locationId: loc,
    businessDay,
    totals: {} as never,
    hours: new Map(),
    items: new Map(items),
    payments: new Map(),
  });
  const months = monthItemDeltas([
    day("2026-02-03", [
      ["b", item("Phở bò", 2)],
      ["a", item("Trà đá", 1)],
    ]),
    day("2026-01-31", [["b", item("Phở bò tái", 1)]]),
    day("2026-02-28", [
      ["b", item("Phở bò", -1)],
      ["z", item("Nothing", 0)], // skipped, as the day rows skip it
    ]),
  ]);
  assert.deepEqual(
    months.map((m) => [m.month, m.itemId, m.name, m.quantity, m.revenueVnd]),
    [
      ["2026-01-01", "b", "Phở bò tái", 1, 50_000],
      ["2026-02-01", "a", "Trà đá", 1, 50_000],
      ["2026-02-01", "b", "Phở bò", 1, 50_000],
    ],
  );
});
