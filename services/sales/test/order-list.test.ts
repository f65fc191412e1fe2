// Order lists and export slices against a real PostgreSQL, connected as sales' own role: keyset
// pages in a stable order whatever is inserted meanwhile, cursors bound to their list, caps as
// typed errors, row-level security between tenants, and CSV slices streamed with BOM and quoting.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { PassThrough } from "node:stream";
import { parse } from "csv-parse/sync";
import { AppError } from "@lsp/runtime";
import { streamCsv } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import type { LocationSettings } from "@lsp/locations";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { SalesDB } from "../src/db.js";
import { upsertMenuItem } from "../src/menu.js";
import { createOrder, voidOrder } from "../src/orders.js";
import { ORDER_LIST_LIMITS, listOrders, type OrderListArgs } from "../src/order-list.js";
import { SALES_EXPORTS } from "../src/exports.js";

let database: TestServiceDatabase<SalesDB>;

before(async () => {
  database = await startServiceDatabase<SalesDB>("sales", path.join(import.meta.dirname, "..", "migrations"));
});
after(() => database?.stop());

const key = () => `test-${randomUUID()}`;
const NOW = new Date("2026-06-15T05:00:00Z"); // 12:00 in Hà Nội: business day 2026-06-15

async function shop(itemName = "Phở tái") {
  const owner: Identity = { tenantId: randomUUID(), role: "owner", userId: randomUUID() };
  const location: LocationSettings = {
    id: randomUUID(),
    tenantId: owner.tenantId,
    name: "Hoàn Kiếm",
    timeZone: "Asia/Ho_Chi_Minh",
    cutoverHour: 4,
  };
  const item = await upsertMenuItem(database.db, owner, {
    idempotencyKey: key(),
    category: "Phở",
    name: itemName,
    priceVnd: 55_000,
    costVnd: 20_000,
    available: true,
  });
  /** An order taken `minutesAgo` before NOW. */
  const order = (minutesAgo: number, quantity = 1, who: Identity = owner) =>
    createOrder(
      database.db,
      who,
      location,
      {
        locationId: location.id,
        idempotencyKey: key(),
        paymentMethod: "cash",
        lines: [{ itemId: item.id, quantity }],
        ...(who.role === "staff"
          ? {}
          : { occurredAt: new Date(NOW.getTime() - minutesAgo * 60_000).toISOString() }),
      },
      NOW,
    );
  const list = (args: Partial<OrderListArgs>, who: Identity = owner) =>
    listOrders(database.db, who, location, { locationId: location.id, ...args }, NOW);
  return { owner, location, order, list, item };
}

async function rejects(run: () => Promise<unknown>, code: string, field?: string) {
  await assert.rejects(run, (err: unknown) => {
    assert.ok(err instanceof AppError, String(err));
    assert.equal(err.code, code, err.message);
    if (field) assert.equal(err.details?.field, field, err.message);
    return true;
  });
}

test("pages follow each other newest first, without repeats, and orders taken meanwhile shift nothing", async () => {
  const { order, list } = await shop();
  const ids: string[] = [];
  for (let i = 0; i < 7; i++) ids.unshift((await order(60 - i)).id); // newest first
  const first = await list({ first: 3 });
  assert.equal(first.totalCount, 7);
  assert.deepEqual(
    first.edges.map((e) => e.node.id),
    ids.slice(0, 3),
  );
  assert.equal(first.pageInfo.hasNextPage, true);
  assert.equal(first.pageInfo.hasPreviousPage, false);
  await order(1); // a new order at the top: the next pages do not move
  const second = await list({ first: 3, after: first.pageInfo.endCursor });
  assert.deepEqual(
    second.edges.map((e) => e.node.id),
    ids.slice(3, 6),
  );
  assert.equal(second.pageInfo.hasPreviousPage, true);
  const third = await list({ first: 3, after: second.pageInfo.endCursor });
  assert.deepEqual(
    third.edges.map((e) => e.node.id),
    ids.slice(6),
  );
  assert.equal(third.pageInfo.hasNextPage, false);
  assert.equal(third.totalCount, 8);
  assert.equal(third.edges[0]?.node.lines[0]?.name, "Phở tái");
});

test("status, staff and day filters; another tenant's identity lists nothing", async () => {
  const { order, list, owner, location } = await shop();
  const staff: Identity = {
    tenantId: owner.tenantId,
    role: "staff",
    userId: randomUUID(),
    locationIds: [location.id],
  };
  const a = await order(30);
  await order(20, 1, staff);
  await voidOrder(database.db, owner, { orderId: a.id, idempotencyKey: key() }, NOW);
  assert.equal((await list({ status: "voided" })).totalCount, 1);
  assert.equal((await list({ status: "open" })).totalCount, 1);
  assert.equal((await list({ staffId: staff.userId ?? "" })).totalCount, 1);
  assert.equal((await list({ businessDay: "2026-06-14" })).totalCount, 0);
  assert.equal((await list({ from: "2026-06-01", to: "2026-06-15" })).totalCount, 2);
  assert.equal((await list({}, staff)).totalCount, 2);
  // Another tenant that names this location (a forged location setting): row-level security.
  const stranger: Identity = { tenantId: randomUUID(), role: "owner" };
  await rejects(
    () => listOrders(database.db, stranger, location, { locationId: location.id }, NOW),
    "FORBIDDEN",
  );
  const disguised = { ...location, tenantId: stranger.tenantId };
  const seen = await listOrders(database.db, stranger, disguised, { locationId: location.id }, NOW);
  assert.equal(seen.totalCount, 0);
  // Staff of another branch.
  const elsewhere: Identity = { ...staff, locationIds: [randomUUID()] };
  await rejects(() => list({}, elsewhere), "FORBIDDEN");
});

test("caps and bad cursors are typed errors naming the field", async () => {
  const { order, list } = await shop();
  await order(5);
  await order(4);
  const page = await list({ first: 1 });
  const cursor = page.pageInfo.endCursor ?? "";
  await rejects(() => list({ first: ORDER_LIST_LIMITS.maxPage + 1 }), "BAD_USER_INPUT", "first");
  await rejects(() => list({ first: 0 }), "BAD_USER_INPUT", "first");
  await rejects(() => list({ from: "2026-01-01", to: "2026-06-15" }), "BAD_USER_INPUT", "to");
  await rejects(() => list({ from: "2026-06-15", to: "2026-06-01" }), "BAD_USER_INPUT", "from");
  await rejects(() => list({ from: "2026-06-15" }), "BAD_USER_INPUT", "to");
  await rejects(() => list({ businessDay: "2026-02-30" }), "BAD_USER_INPUT", "businessDay");
  await rejects(() => list({ status: "lost" }), "BAD_USER_INPUT", "status");
  await rejects(() => list({ after: "not a cursor!" }), "BAD_USER_INPUT", "after");
  await rejects(() => list({ after: "bm90IGpzb24" }), "BAD_USER_INPUT", "after");
  // A cursor of this list with a made-up order id: well formed, unknown.
  const forged = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Record<string, unknown>;
  const madeUp = Buffer.from(JSON.stringify({ ...forged, i: randomUUID() })).toString("base64url");
  await rejects(() => list({ first: 1, after: madeUp }), "BAD_USER_INPUT", "after");
  const badTime = Buffer.from(JSON.stringify({ ...forged, t: "2026-13-45 99:99:99+00" })).toString(
    "base64url",
  );
  await rejects(() => list({ first: 1, after: badTime }), "BAD_USER_INPUT", "after");
  // The same cursor on another list (a status filter) is refused: it would skip or repeat rows.
  await rejects(() => list({ status: "open", after: cursor }), "BAD_USER_INPUT", "after");
  assert.equal((await list({ first: 1, after: cursor })).edges.length, 1);
});

test("an order-lines slice streams as CSV: BOM, header, Vietnamese text quoted, VND as integers", async () => {
  const { order, location, owner } = await shop('Bún chả "Hương Liên", đặc biệt\nsố 1');
  await order(10, 3);
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on("data", (c: Buffer) => chunks.push(c));
  const spec = SALES_EXPORTS["order-lines"];
  const { text, values } = spec.query({ locationId: location.id, from: "2026-06-15", to: "2026-06-15" });
  const rows = await streamCsv({
    pool: database.pool,
    tenantId: owner.tenantId,
    text,
    values,
    columns: spec.columns,
    header: true,
    out,
  });
  assert.equal(rows, 1);
  const csv = Buffer.concat(chunks);
  assert.deepEqual([...csv.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  const [header, line] = parse(csv.toString("utf8"), { bom: true }) as string[][];
  assert.ok(header?.includes("item_name"));
  const at = (name: string) => line?.[header?.indexOf(name) ?? -1];
  assert.equal(at("item_name"), 'Bún chả "Hương Liên", đặc biệt\nsố 1');
  assert.equal(at("quantity"), "3");
  assert.equal(at("unit_price_vnd"), "55000");
  assert.equal(at("line_total_vnd"), "165000");
  // Another tenant's slice of the same location is empty (row-level security).
  const other = new PassThrough();
  other.resume();
  const none = await streamCsv({
    pool: database.pool,
    tenantId: randomUUID(),
    text,
    values,
    columns: spec.columns,
    header: false,
    out: other,
  });
  assert.equal(none, 0);
});
