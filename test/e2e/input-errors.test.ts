// Client mistakes on the real mesh (issue 12): a non-UUID id, a date outside any sane range, an
// amount beyond what the field holds, an order above the business caps — each answers
// BAD_USER_INPUT with a message saying what is wrong (they used to answer INTERNAL), and changes
// nothing: a refused createOrder's idempotency key is still free afterwards, and a fence order
// placed after every refusal is the only one the dashboard counts.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeClient, eventually, type GraphQLResponse } from "../support/graphql-client.js";

const LOCATION = DEMO.phoBo.hoanKiem;
const PHO = DEMO.phoBo.phoTai; // 55,000 VND

const CREATE = /* GraphQL */ `
  mutation ($input: CreateOrderInput!) {
    createOrder(input: $input) {
      id
      totalVnd
      discountVnd
    }
  }
`;

describe("client mistakes are BAD_USER_INPUT and change nothing", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let gql: ReturnType<typeof edgeClient>;

  before(async () => {
    mesh = await startTestMesh();
    gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  });
  after(async () => {
    await mesh?.stop();
  });

  const refused = (what: string, res: GraphQLResponse<unknown>) => {
    const codes = (res.errors ?? []).map((e) => e.extensions?.code);
    assert.ok(codes.length > 0, `${what}: accepted: ${JSON.stringify(res)}`);
    assert.deepEqual([...new Set(codes)], ["BAD_USER_INPUT"], `${what}: ${JSON.stringify(res.errors)}`);
    return res.errors?.[0]?.message ?? "";
  };

  test("non-UUID ids and dates outside 2000–2099, anywhere", async () => {
    const cases: [string, string, Record<string, unknown>?][] = [
      ["order(id)", `{ order(id: "x") { id } }`],
      ["location(id) with its merged fields", `{ location(id: "x") { id todayRevenue menu { id } } }`],
      ["payments(orderId)", `{ payments(orderId: "x") { id } }`],
      ["dashboardRebuild(id)", `{ dashboardRebuild(id: "x") { id } }`],
      [
        "day(businessDay) far in the past",
        `query ($id: ID!) { location(id: $id) { day(businessDay: "0001-01-01") { netRevenue } } }`,
        { id: LOCATION },
      ],
      [
        "day(businessDay) not a date",
        `query ($id: ID!) { location(id: $id) { day(businessDay: "2026-02-30") { netRevenue } } }`,
        { id: LOCATION },
      ],
      [
        "menuEngineering out of range",
        `query ($id: ID!) { location(id: $id) { menuEngineering(from: "0001-01-01", to: "0001-06-01") { itemId } } }`,
        { id: LOCATION },
      ],
      [
        "anomalies out of range",
        `query ($id: ID!) { location(id: $id) { anomalies(from: "0001-01-01") { degraded } } }`,
        { id: LOCATION },
      ],
      [
        "forecast(itemId)",
        `query ($id: ID!) { location(id: $id) { forecast(itemId: "x") { method } } }`,
        { id: LOCATION },
      ],
      [
        "an Int beyond 32 bits in a variable",
        `query ($id: ID!, $n: Int) { location(id: $id) { topItems(limit: $n) { itemId } } }`,
        { id: LOCATION, n: 3e9 },
      ],
    ];
    for (const [what, query, variables] of cases) refused(what, await gql(query, variables));
    const message = refused(
      "day(businessDay)",
      await gql(`query ($id: ID!) { location(id: $id) { day(businessDay: "0001-01-01") { netRevenue } } }`, {
        id: LOCATION,
      }),
    );
    assert.match(message, /businessDay must be between 2000-01-01 and 2099-12-31/);
  });

  test("amounts and caps: refused orders write nothing, their keys stay free", async () => {
    const start = await eventually("today's figures", async () => {
      const res = await gql<{ location: { todayOrders: number } | null }>(
        `query ($id: ID!) { location(id: $id) { todayOrders } }`,
        { id: LOCATION },
      );
      return res.data?.location?.todayOrders;
    });
    const key = randomUUID();
    const input = (extra: Record<string, unknown>) => ({
      locationId: LOCATION,
      idempotencyKey: key,
      paymentMethod: "cash",
      lines: [{ itemId: PHO, quantity: 1 }],
      ...extra,
    });
    // discountVnd: 3e9 as a literal and as a variable; beyond 2^53; not a number; a fraction.
    const literal = await gql(
      `mutation { createOrder(input: { locationId: "${LOCATION}", idempotencyKey: "${key}", paymentMethod: cash, lines: [{ itemId: "${PHO}", quantity: 1 }], discountVnd: 3e9 }) { id } }`,
    );
    refused("discountVnd: 3e9 literal", literal);
    assert.match(
      refused("discountVnd: 3e9 variable", await gql(CREATE, { input: input({ discountVnd: 3e9 }) })),
      /discount is larger than the order/,
    );
    refused("discountVnd beyond 2^53", await gql(CREATE, { input: input({ discountVnd: 2 ** 60 }) }));
    refused("discountVnd junk", await gql(CREATE, { input: input({ discountVnd: "lots" }) }));
    refused("discountVnd fraction", await gql(CREATE, { input: input({ discountVnd: 0.5 }) }));
    refused(
      "quantity beyond Int",
      await gql(CREATE, { input: input({ lines: [{ itemId: PHO, quantity: 3e9 }] }) }),
    );
    assert.match(
      refused(
        "quantity above the cap",
        await gql(CREATE, { input: input({ lines: [{ itemId: PHO, quantity: 1_001 }] }) }),
      ),
      /at most 1000 of one item per line/,
    );
    const manyLines = Array.from({ length: 201 }, () => ({ itemId: PHO, quantity: 1 }));
    assert.match(
      refused("201 lines", await gql(CREATE, { input: input({ lines: manyLines }) })),
      /at most 200 lines per order/,
    );
    // 200 × 1,000 × 55,000 = 11 bn VND, above the 10 bn VND cap of one order.
    const huge = Array.from({ length: 200 }, () => ({ itemId: PHO, quantity: 1_000 }));
    assert.match(
      refused("an order above 10 bn VND", await gql(CREATE, { input: input({ lines: huge }) })),
      /at most 10000000000 VND/,
    );

    // The key is still free: the same key with a valid input creates a new order (the fence).
    const fence = await gql<{ createOrder: { id: string; totalVnd: number; discountVnd: number } }>(CREATE, {
      input: input({ discountVnd: 5_000 }),
    });
    assert.equal(fence.errors, undefined, JSON.stringify(fence.errors));
    assert.equal(fence.data?.createOrder.totalVnd, 50_000);
    assert.equal(fence.data?.createOrder.discountVnd, 5_000);
    // Once the fence is counted, the dashboard has exactly one more order: nothing refused got in.
    const counted = await eventually("the fence order on the dashboard", async () => {
      const res = await gql<{ location: { todayOrders: number } | null }>(
        `query ($id: ID!) { location(id: $id) { todayOrders } }`,
        { id: LOCATION },
      );
      const n = res.data?.location?.todayOrders ?? start;
      return n > start ? n : undefined;
    });
    assert.equal(counted, start + 1);
  });
});
