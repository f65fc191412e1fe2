// Order lists through the edge on the real mesh (issue 17, item 1): a location's orders as a
// Relay connection, paged by opaque cursors in a stable order; filters by status and staff; scope
// (staff: their branches; managers: every branch; another tenant: nothing) and bad input (a page
// over the cap, a range over the cap, a made-up or foreign cursor) as typed errors.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeClient, type GraphQLResponse } from "../support/graphql-client.js";

const HOAN_KIEM = DEMO.phoBo.hoanKiem;
const CAU_GIAY = "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b02";

const LIST = /* GraphQL */ `
  query (
    $locationId: ID!
    $businessDay: String
    $from: String
    $to: String
    $status: OrderStatus
    $staffId: String
    $changedSince: String
    $first: Int
    $after: String
  ) {
    orders(
      locationId: $locationId
      businessDay: $businessDay
      from: $from
      to: $to
      status: $status
      staffId: $staffId
      changedSince: $changedSince
      first: $first
      after: $after
    ) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        endCursor
      }
      edges {
        cursor
        node {
          id
          status
          totalVnd
          staffId
          businessDay
          createdAt
          lines {
            name
            quantity
          }
        }
      }
    }
  }
`;

interface Page {
  orders: {
    totalCount: number;
    pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; endCursor: string | null };
    edges: {
      cursor: string;
      node: {
        id: string;
        status: string;
        totalVnd: number;
        staffId: string | null;
        businessDay: string;
        createdAt: string;
        lines: { name: string; quantity: number }[];
      };
    }[];
  };
}

type Gql = ReturnType<typeof edgeClient>;

function codeOf(res: GraphQLResponse<unknown>): string | undefined {
  return res.errors?.[0]?.extensions?.code;
}

async function createOrder(gql: Gql, locationId: string, quantity = 1) {
  const res = await gql<{
    createOrder: { id: string; businessDay: string; staffId: string | null; createdAt: string };
  }>(
    `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { id businessDay staffId createdAt } }`,
    {
      input: {
        locationId,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity }],
      },
    },
  );
  assert.ok(res.data?.createOrder, JSON.stringify(res.errors));
  return res.data.createOrder;
}

describe("orders(locationId, …) through the edge", { timeout: 300_000 }, () => {
  let mesh: Mesh;
  let owner: Gql;
  let manager: Gql;
  let staff: Gql;
  let stranger: Gql;
  const ownerOrders: string[] = [];
  let staffOrder: { id: string; staffId: string | null; businessDay: string };

  before(async () => {
    mesh = await startTestMesh();
    owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    manager = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "manager" });
    staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" });
    stranger = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    for (let i = 1; i <= 5; i++) ownerOrders.push((await createOrder(owner, HOAN_KIEM, i)).id);
    staffOrder = await createOrder(staff, HOAN_KIEM);
    await createOrder(owner, CAU_GIAY);
  });
  after(() => mesh?.stop());

  test("pages of 2 follow each other newest first: every order once, lines included, totalCount whole", async () => {
    const seen: Page["orders"]["edges"] = [];
    let after: string | null = null;
    let pages = 0;
    for (;;) {
      const res: GraphQLResponse<Page> = await owner<Page>(LIST, { locationId: HOAN_KIEM, first: 2, after });
      assert.ok(res.data, JSON.stringify(res.errors));
      assert.equal(res.data.orders.totalCount, 6);
      assert.equal(res.data.orders.pageInfo.hasPreviousPage, after !== null);
      seen.push(...res.data.orders.edges);
      pages++;
      if (!res.data.orders.pageInfo.hasNextPage) break;
      after = res.data.orders.pageInfo.endCursor;
    }
    assert.equal(pages, 3);
    const ids = seen.map((e) => e.node.id);
    assert.deepEqual(new Set(ids), new Set([...ownerOrders, staffOrder.id]));
    assert.equal(new Set(ids).size, ids.length, "no order twice");
    const times = seen.map((e) => Date.parse(e.node.createdAt));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      "newest first",
    );
    const third = seen.find((e) => e.node.id === ownerOrders[2]);
    assert.deepEqual(third?.node.lines, [{ name: "Phở bò tái", quantity: 3 }]);
    assert.equal(third?.node.totalVnd, 3 * 55_000);
  });

  test("filters: status after pay and void, staff, a day, a range", async () => {
    const [toPay = "", toVoid = ""] = ownerOrders;
    const pay = await owner(`mutation ($i: PayOrderInput!) { payOrder(input: $i) { id } }`, {
      i: { orderId: toPay, idempotencyKey: randomUUID() },
    });
    assert.ok(!pay.errors, JSON.stringify(pay.errors));
    const voided = await manager(`mutation ($i: VoidOrderInput!) { voidOrder(input: $i) { id } }`, {
      i: { orderId: toVoid, idempotencyKey: randomUUID(), reason: "khách đổi ý" },
    });
    assert.ok(!voided.errors, JSON.stringify(voided.errors));
    const ids = async (vars: Record<string, unknown>) => {
      const res = await owner<Page>(LIST, { locationId: HOAN_KIEM, first: 100, ...vars });
      assert.ok(res.data, JSON.stringify(res.errors));
      return res.data.orders.edges.map((e) => e.node.id).sort();
    };
    assert.deepEqual(await ids({ status: "paid" }), [toPay]);
    assert.deepEqual(await ids({ status: "voided" }), [toVoid]);
    assert.equal((await ids({ status: "open" })).length, 4);
    assert.deepEqual(await ids({ staffId: staffOrder.staffId }), [staffOrder.id]);
    assert.equal((await ids({ businessDay: staffOrder.businessDay })).length, 6);
    assert.equal((await ids({ businessDay: "2001-01-01" })).length, 0);
    const day = Date.parse(staffOrder.businessDay);
    const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    assert.equal((await ids({ from: iso(day - 30 * 86_400_000), to: staffOrder.businessDay })).length, 6);
  });

  test("scope: staff see their branch only, managers every branch, another tenant nothing", async () => {
    const staffList = await staff<Page>(LIST, { locationId: HOAN_KIEM });
    assert.equal(staffList.data?.orders.totalCount, 6, JSON.stringify(staffList.errors));
    const staffElsewhere = await staff<Page>(LIST, { locationId: CAU_GIAY });
    assert.equal(codeOf(staffElsewhere), "FORBIDDEN");
    assert.equal(staffElsewhere.data ?? null, null);
    const managerThere = await manager<Page>(LIST, { locationId: CAU_GIAY });
    assert.equal(managerThere.data?.orders.totalCount, 1, JSON.stringify(managerThere.errors));
    const foreign = await stranger<Page>(LIST, { locationId: HOAN_KIEM });
    assert.equal(codeOf(foreign), "NOT_FOUND");
    assert.equal(foreign.data ?? null, null);
    const anonymous = await edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { phone: "+84999999999" })<Page>(LIST, {
      locationId: HOAN_KIEM,
    });
    assert.equal(codeOf(anonymous), "UNAUTHENTICATED");
  });

  test("bad input: typed errors naming the field, never a page", async () => {
    const first = await owner<Page>(LIST, { locationId: HOAN_KIEM, first: 2 });
    const cursor = first.data?.orders.pageInfo.endCursor;
    assert.ok(cursor);
    const cases: [string, Record<string, unknown>, string][] = [
      ["page over the cap", { first: 101 }, "first"],
      ["range over the cap", { from: "2026-01-01", to: "2026-12-31" }, "to"],
      ["from after to", { from: "2026-02-02", to: "2026-02-01" }, "from"],
      ["not a date", { businessDay: "hôm nay" }, "businessDay"],
      ["junk cursor", { after: "%%%" }, "after"],
      [
        "a made-up order in a well-formed cursor",
        {
          after: Buffer.from(
            JSON.stringify({
              ...(JSON.parse(Buffer.from(cursor, "base64url").toString()) as object),
              i: randomUUID(),
            }),
          ).toString("base64url"),
        },
        "after",
      ],
      ["a cursor of another list", { status: "open", after: cursor }, "after"],
      ["changedSince not a time", { changedSince: "hôm qua" }, "changedSince"],
      [
        "a cursor of the list without changedSince",
        { changedSince: "2026-01-01T00:00:00Z", after: cursor },
        "after",
      ],
      ["not a location id", { locationId: "hoan-kiem" }, "locationId"],
    ];
    for (const [what, vars, field] of cases) {
      const res = await owner<Page>(LIST, { locationId: HOAN_KIEM, ...vars });
      assert.equal(codeOf(res), "BAD_USER_INPUT", `${what}: ${JSON.stringify(res.errors)}`);
      assert.equal(
        (res.errors?.[0]?.extensions as { field?: string } | undefined)?.field,
        field,
        `${what}: ${JSON.stringify(res.errors)}`,
      );
      assert.equal(res.data ?? null, null, what);
    }
  });

  // Last: it adds orders the counts above do not expect.
  test("a reconnecting floor catches up: changedSince lists what was created, paid or voided since", async () => {
    // The `at` of the last update a client saw: here the creation of an order (the same instant
    // orderUpdates carries for it); then an older order is paid and a new one taken.
    const seen = await createOrder(owner, HOAN_KIEM);
    const [, , older = ""] = ownerOrders;
    const pay = await owner(`mutation ($i: PayOrderInput!) { payOrder(input: $i) { id } }`, {
      i: { orderId: older, idempotencyKey: randomUUID() },
    });
    assert.ok(!pay.errors, JSON.stringify(pay.errors));
    const taken = await createOrder(owner, HOAN_KIEM);
    const res = await owner<Page>(LIST, { locationId: HOAN_KIEM, changedSince: seen.createdAt, first: 100 });
    assert.ok(res.data, JSON.stringify(res.errors));
    assert.deepEqual(
      res.data.orders.edges.map((e) => e.node.id).sort(),
      [seen.id, older, taken.id].sort(), // inclusive: the one seen comes again
    );
    assert.equal(res.data.orders.totalCount, 3);
    const paid = res.data.orders.edges.find((e) => e.node.id === older);
    assert.equal(paid?.node.status, "paid");
    // The same instant written with another offset is the same filter.
    const local = new Date(Date.parse(seen.createdAt) + 7 * 3_600_000).toISOString().replace("Z", "+07:00");
    const again = await owner<Page>(LIST, { locationId: HOAN_KIEM, changedSince: local, first: 100 });
    assert.equal(again.data?.orders.totalCount, 3, JSON.stringify(again.errors));
  });
});
