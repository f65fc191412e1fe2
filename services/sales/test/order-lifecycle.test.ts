// The order lifecycle (open → paid / voided) against a real PostgreSQL, connected as sales' own
// role: each change writes its row and its outbox event together, or nothing at all.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { sql } from "kysely";
import { AppError } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import type { LocationSettings } from "@lsp/locations";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { SalesDB } from "../src/db.js";
import { upsertMenuItem } from "../src/menu.js";
import { applyPaymentSucceeded, createOrder, getOrder, payOrder, voidOrder } from "../src/orders.js";

let database: TestServiceDatabase<SalesDB>;

before(async () => {
  database = await startServiceDatabase<SalesDB>("sales", path.join(import.meta.dirname, "..", "migrations"));
});
after(() => database?.stop());

const key = () => `test-${randomUUID()}`;

/** A tenant with one location and one 55,000 VND item. */
async function shop() {
  const owner: Identity = { tenantId: randomUUID(), role: "owner", userId: randomUUID() };
  const location: LocationSettings = {
    id: randomUUID(),
    tenantId: owner.tenantId,
    name: "Hoàn Kiếm",
    timeZone: "Asia/Ho_Chi_Minh",
    cutoverHour: 4,
  };
  const pho = await upsertMenuItem(database.db, owner, {
    idempotencyKey: key(),
    category: "Phở",
    name: "Phở tái",
    priceVnd: 55_000,
    costVnd: 20_000,
    available: true,
  });
  const open = (quantity = 2, discountVnd?: number) =>
    createOrder(database.db, owner, location, {
      locationId: location.id,
      idempotencyKey: key(),
      paymentMethod: "cash",
      lines: [{ itemId: pho.id, quantity }],
      ...(discountVnd ? { discountVnd } : {}),
    });
  return { owner, location, open };
}

/** The events queued in the outbox for one order, oldest first. */
async function eventsOf(orderId: string) {
  const rows = await database.db
    .selectFrom("outbox")
    .select(["type", "topic", "payload"])
    .where(sql<string>`payload->>'orderId'`, "=", orderId)
    .orderBy("created_at")
    .execute();
  return rows.map((r) => ({ type: r.type, topic: r.topic, payload: r.payload as Record<string, unknown> }));
}

async function rejects(run: () => Promise<unknown>, code: string) {
  await assert.rejects(run, (err: unknown) => err instanceof AppError && err.code === code);
}

test("paying an open order marks it paid and queues order.paid in the same transaction", async () => {
  const { owner, open } = await shop();
  const order = await open(2, 10_000);
  assert.equal(order.totalVnd, 100_000);
  const paid = await payOrder(database.db, owner, {
    orderId: order.id,
    idempotencyKey: key(),
    paymentMethod: "card",
  });
  assert.equal(paid.status, "paid");
  assert.equal(paid.paymentMethod, "card");
  assert.ok(paid.paidAt);
  const events = await eventsOf(order.id);
  assert.deepEqual(
    events.map((e) => [e.type, e.topic]),
    [
      ["order.created", "orders"],
      ["order.paid", "orders"],
    ],
  );
  assert.equal(events[1]?.payload.totalVnd, 100_000);
  assert.equal(events[1]?.payload.paymentMethod, "card");
  assert.equal(events[1]?.payload.businessDay, order.businessDay);
});

test("a replayed idempotency key returns the first result and writes nothing more", async () => {
  const { owner, open } = await shop();
  const order = await open();
  const input = { orderId: order.id, idempotencyKey: key() };
  const first = await payOrder(database.db, owner, input);
  const again = await payOrder(database.db, owner, input);
  assert.deepEqual(again, first);
  const voidInput = { orderId: order.id, idempotencyKey: key(), reason: "wrong table" };
  const voided = await voidOrder(database.db, owner, voidInput);
  assert.deepEqual(await voidOrder(database.db, owner, voidInput), voided);
  assert.deepEqual(
    (await eventsOf(order.id)).map((e) => e.type),
    ["order.created", "order.paid", "order.voided"],
  );
  // The same key for another change is refused.
  await rejects(
    () => payOrder(database.db, owner, { orderId: order.id, idempotencyKey: voidInput.idempotencyKey }),
    "CONFLICT",
  );
});

test("paying twice, voiding twice or paying a voided order is a CONFLICT that leaves order and outbox as they were", async () => {
  const { owner, open } = await shop();
  const order = await open();
  await payOrder(database.db, owner, { orderId: order.id, idempotencyKey: key() });
  await rejects(() => payOrder(database.db, owner, { orderId: order.id, idempotencyKey: key() }), "CONFLICT");
  const voided = await voidOrder(database.db, owner, {
    orderId: order.id,
    idempotencyKey: key(),
    reason: "x",
  });
  assert.equal(voided.status, "voided");
  assert.equal(voided.voidReason, "x");
  await rejects(
    () => voidOrder(database.db, owner, { orderId: order.id, idempotencyKey: key() }),
    "CONFLICT",
  );
  await rejects(() => payOrder(database.db, owner, { orderId: order.id, idempotencyKey: key() }), "CONFLICT");
  assert.deepEqual(
    (await eventsOf(order.id)).map((e) => e.type),
    ["order.created", "order.paid", "order.voided"],
  );
  // A failed change does not burn its key: the claim rolled back with it.
  const retryKey = key();
  await rejects(
    () => payOrder(database.db, owner, { orderId: order.id, idempotencyKey: retryKey }),
    "CONFLICT",
  );
  const fresh = await open();
  const paid = await payOrder(database.db, owner, { orderId: fresh.id, idempotencyKey: retryKey });
  assert.equal(paid.status, "paid");
});

test("an open order can be voided; the event carries its total", async () => {
  const { owner, open } = await shop();
  const order = await open(3);
  await voidOrder(database.db, owner, { orderId: order.id, idempotencyKey: key() });
  const events = await eventsOf(order.id);
  assert.deepEqual(
    events.map((e) => e.type),
    ["order.created", "order.voided"],
  );
  assert.equal(events[1]?.payload.totalVnd, 165_000);
});

test("staff cannot void; another tenant and unknown orders are NOT_FOUND; nothing is written", async () => {
  const { owner, open } = await shop();
  const order = await open();
  const staff: Identity = { ...owner, role: "staff" };
  await rejects(
    () => voidOrder(database.db, staff, { orderId: order.id, idempotencyKey: key() }),
    "FORBIDDEN",
  );
  const stranger: Identity = { tenantId: randomUUID(), role: "owner" };
  await rejects(
    () => payOrder(database.db, stranger, { orderId: order.id, idempotencyKey: key() }),
    "NOT_FOUND",
  );
  await rejects(
    () => payOrder(database.db, owner, { orderId: randomUUID(), idempotencyKey: key() }),
    "NOT_FOUND",
  );
  const elsewhere: Identity = { ...owner, role: "manager", locationIds: [randomUUID()] };
  await rejects(
    () => voidOrder(database.db, elsewhere, { orderId: order.id, idempotencyKey: key() }),
    "NOT_FOUND",
  );
  assert.deepEqual(
    (await eventsOf(order.id)).map((e) => e.type),
    ["order.created"],
  );
});

test("payment.succeeded marks an open order paid once, whatever the redeliveries", async () => {
  const { owner, location, open } = await shop();
  const order = await open();
  const payment = {
    paymentId: randomUUID(),
    orderId: order.id,
    tenantId: owner.tenantId,
    locationId: location.id,
    provider: "momo" as const,
    providerTransactionId: "momo-txn-1",
    amountVnd: order.totalVnd,
    occurredAt: new Date().toISOString(),
  };
  const eventId = randomUUID();
  assert.equal(await applyPaymentSucceeded(database.db, eventId, payment), "paid");
  assert.equal(await applyPaymentSucceeded(database.db, eventId, payment), "duplicate");
  // Another event for the same (now paid) order changes nothing either.
  assert.equal(await applyPaymentSucceeded(database.db, randomUUID(), payment), "not-open");
  const events = await eventsOf(order.id);
  assert.deepEqual(
    events.map((e) => e.type),
    ["order.created", "order.paid"],
  );
  assert.equal(events[1]?.payload.paymentMethod, "momo");
  assert.equal(events[1]?.payload.paymentId, payment.paymentId);
  assert.equal(
    await applyPaymentSucceeded(database.db, randomUUID(), { ...payment, orderId: randomUUID() }),
    "unknown-order",
  );
});

test("a 100-line order of 5.49 bn VND is stored and read back exactly; its events carry the exact amounts", async () => {
  const { owner, location } = await shop();
  const banquet = await upsertMenuItem(database.db, owner, {
    idempotencyKey: key(),
    category: "Tiệc",
    name: "Mâm cỗ",
    priceVnd: 54_945_000,
    costVnd: 30_000_000,
    available: true,
  });
  const order = await createOrder(database.db, owner, location, {
    locationId: location.id,
    idempotencyKey: key(),
    paymentMethod: "card",
    lines: Array.from({ length: 100 }, () => ({ itemId: banquet.id, quantity: 1 })),
    discountVnd: 4_500_000_000,
  });
  assert.equal(order.subtotalVnd, 5_494_500_000);
  assert.equal(order.totalVnd, 994_500_000);
  const again = await getOrder(database.db, owner, order.id);
  // What createOrder answers (built from the inserted rows) is what a read of the order gives.
  assert.deepEqual(again, order);
  assert.equal(again?.subtotalVnd, 5_494_500_000);
  assert.equal(again?.discountVnd, 4_500_000_000);
  assert.equal(again?.lines.length, 100);
  const [created] = await eventsOf(order.id);
  assert.equal(created?.payload.subtotalVnd, 5_494_500_000);
  assert.equal(created?.payload.discountVnd, 4_500_000_000);
});

test("caps: an order above 10 bn VND, a discount above the subtotal, a price above the cap write nothing", async () => {
  const { owner, location } = await shop();
  const pricey = await upsertMenuItem(database.db, owner, {
    idempotencyKey: key(),
    category: "Tiệc",
    name: "Mâm cỗ lớn",
    priceVnd: 100_000_000,
    costVnd: 0,
    available: true,
  });
  // Row-level security: counted inside the tenant's transaction.
  const orderCount = () =>
    withTenant(database.db, owner.tenantId, (trx) =>
      trx
        .selectFrom("orders")
        .select(sql<number>`count(*)::int`.as("n"))
        .executeTakeFirstOrThrow(),
    );
  const attempt = (lines: number, quantity: number, discountVnd?: number) =>
    createOrder(database.db, owner, location, {
      locationId: location.id,
      idempotencyKey: key(),
      paymentMethod: "cash",
      lines: Array.from({ length: lines }, () => ({ itemId: pricey.id, quantity })),
      ...(discountVnd === undefined ? {} : { discountVnd }),
    });
  // 101 × 1,000 × 100,000,000 = 10.1 × 10^12 > 10^10
  await rejects(() => attempt(101, 1_000), "BAD_USER_INPUT");
  await rejects(() => attempt(101, 1), "BAD_USER_INPUT"); // 10.1 bn
  await rejects(() => attempt(1, 1, 100_000_001), "BAD_USER_INPUT");
  // A price stored before the cap existed (written directly) cannot be sold.
  await withTenant(database.db, owner.tenantId, (trx) =>
    trx.updateTable("menu_items").set({ price_vnd: 100_000_001 }).where("id", "=", pricey.id).execute(),
  );
  await rejects(() => attempt(1, 1), "BAD_USER_INPUT");
  assert.deepEqual(await orderCount(), { n: 0 });
  // Exactly at the cap: 100 lines × 1 × 100,000,000 = 10 bn is accepted.
  await withTenant(database.db, owner.tenantId, (trx) =>
    trx.updateTable("menu_items").set({ price_vnd: 100_000_000 }).where("id", "=", pricey.id).execute(),
  );
  assert.equal((await attempt(100, 1)).totalVnd, 10_000_000_000);
});

test("payment.succeeded that disagrees with the order (amount, location, tenant) never marks it paid and is not retried", async () => {
  const { owner, location, open } = await shop();
  const order = await open();
  const genuine = {
    paymentId: randomUUID(),
    orderId: order.id,
    tenantId: owner.tenantId,
    locationId: location.id,
    provider: "momo" as const,
    providerTransactionId: "momo-txn-forged",
    amountVnd: order.totalVnd,
    occurredAt: new Date().toISOString(),
  };
  const forged = randomUUID();
  assert.equal(
    await applyPaymentSucceeded(database.db, forged, { ...genuine, amountVnd: 1 }),
    "amount-mismatch",
  );
  // Claimed: a redelivery of the same forged event is a duplicate, not a second look.
  assert.equal(await applyPaymentSucceeded(database.db, forged, { ...genuine, amountVnd: 1 }), "duplicate");
  assert.equal(
    await applyPaymentSucceeded(database.db, randomUUID(), { ...genuine, amountVnd: order.totalVnd + 1 }),
    "amount-mismatch",
  );
  assert.equal(
    await applyPaymentSucceeded(database.db, randomUUID(), { ...genuine, locationId: randomUUID() }),
    "location-mismatch",
  );
  // Another tenant's claim on this order: row-level security hides it.
  assert.equal(
    await applyPaymentSucceeded(database.db, randomUUID(), { ...genuine, tenantId: randomUUID() }),
    "unknown-order",
  );
  const still = await getOrder(database.db, owner, order.id);
  assert.equal(still?.status, "open");
  assert.equal(still?.paidAt, null);
  assert.deepEqual(
    (await eventsOf(order.id)).map((e) => e.type),
    ["order.created"],
  );
  // The genuine payment still settles it.
  assert.equal(await applyPaymentSucceeded(database.db, randomUUID(), genuine), "paid");
  assert.equal((await getOrder(database.db, owner, order.id))?.status, "paid");
});
