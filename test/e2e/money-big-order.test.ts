// Money beyond 32 bits on the real mesh (issue 12): a legal 100-line order of 5.49 bn VND — above
// GraphQL Int's 2,147,483,647 — commits and reads back exactly, through the edge, in `order`, the
// dashboard's day report and the location's lifetime AI insights (the Vnd scalar end to end:
// sales' and dashboard's BIGINT columns, the events, the Python actor's series).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeClient, eventually } from "../support/graphql-client.js";

const LOCATION = DEMO.phoBo.hoanKiem;
const PHO = DEMO.phoBo.phoTai; // 55,000 VND
const LINES = 100;
const QUANTITY = 999;
const TOTAL = LINES * QUANTITY * 55_000; // 5,494,500,000 VND

interface Figures {
  todayOrders: number;
  today: { businessDay: string; netRevenue: number; grossSales: number; topItems: TopItem[] };
  insights: { ordersSeen: number; revenueVnd: number } | null;
}
interface TopItem {
  itemId: string;
  quantity: number;
  revenue: number;
}

const FIGURES = /* GraphQL */ `
  query ($id: ID!) {
    location(id: $id) {
      todayOrders
      today {
        businessDay
        netRevenue
        grossSales
        topItems(limit: 50) {
          itemId
          quantity
          revenue
        }
      }
      insights {
        ordersSeen
        revenueVnd
      }
    }
  }
`;

const ORDER = /* GraphQL */ `
  query ($id: ID!) {
    order(id: $id) {
      id
      status
      subtotalVnd
      discountVnd
      totalVnd
      businessDay
      lines {
        itemId
        quantity
        unitPriceVnd
      }
    }
  }
`;

describe("money: a 5.49 bn VND order through the edge", { timeout: 600_000 }, () => {
  let mesh: Mesh;
  let gql: ReturnType<typeof edgeClient>;

  before(async () => {
    mesh = await startTestMesh();
    gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  });
  after(async () => {
    await mesh?.stop();
  });

  const figures = async (): Promise<Figures> => {
    const res = await gql<{ location: Figures | null }>(FIGURES, { id: LOCATION });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    assert.ok(res.data?.location);
    return res.data.location;
  };
  const pho = (f: Figures) => f.today.topItems.find((i) => i.itemId === PHO) ?? { quantity: 0, revenue: 0 };

  test("order, day report and lifetime insights carry the exact amount", async () => {
    // The AI actor answers once the mesh is warm; the figures before are read whole.
    const start = await eventually("figures with AI insights", async () => {
      const f = await figures().catch(() => undefined);
      return f?.insights ? f : undefined;
    });
    const created = await gql<{ createOrder: { id: string; totalVnd: number; subtotalVnd: number } }>(
      /* GraphQL */ `
        mutation ($input: CreateOrderInput!) {
          createOrder(input: $input) {
            id
            totalVnd
            subtotalVnd
          }
        }
      `,
      {
        input: {
          locationId: LOCATION,
          idempotencyKey: randomUUID(),
          paymentMethod: "card",
          lines: Array.from({ length: LINES }, () => ({ itemId: PHO, quantity: QUANTITY })),
        },
      },
    );
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    const order = created.data?.createOrder;
    assert.ok(order);
    assert.equal(order.totalVnd, TOTAL);
    assert.equal(order.subtotalVnd, TOTAL);

    // Read back, any number of times (it used to answer INTERNAL for good).
    const read = await gql<{
      order: {
        status: string;
        totalVnd: number;
        subtotalVnd: number;
        discountVnd: number;
        lines: { itemId: string; quantity: number; unitPriceVnd: number }[];
      } | null;
    }>(ORDER, { id: order.id });
    assert.equal(read.errors, undefined, JSON.stringify(read.errors));
    assert.equal(read.data?.order?.totalVnd, TOTAL);
    assert.equal(read.data?.order?.subtotalVnd, TOTAL);
    assert.equal(read.data?.order?.discountVnd, 0);
    assert.equal(read.data?.order?.lines.length, LINES);
    assert.ok(read.data?.order?.lines.every((l) => l.quantity === QUANTITY && l.unitPriceVnd === 55_000));

    // The dashboard's day report, once the order's event is in.
    const after = await eventually(
      "the order in the day report and the AI series",
      async () => {
        const f = await figures();
        return f.todayOrders === start.todayOrders + 1 &&
          (f.insights?.ordersSeen ?? 0) >= (start.insights?.ordersSeen ?? 0) + 1
          ? f
          : undefined;
      },
      60_000,
    );
    assert.equal(after.today.netRevenue - start.today.netRevenue, TOTAL);
    assert.equal(after.today.grossSales - start.today.grossSales, TOTAL);
    assert.equal(pho(after).revenue - pho(start).revenue, TOTAL);
    assert.equal(pho(after).quantity - pho(start).quantity, LINES * QUANTITY);
    assert.equal((after.insights?.revenueVnd ?? 0) - (start.insights?.revenueVnd ?? 0), TOTAL);

    // The same day asked by date answers the same figures.
    const day = await gql<{ location: { day: { netRevenue: number } | null } | null }>(
      `query ($id: ID!, $d: String!) { location(id: $id) { day(businessDay: $d) { netRevenue } } }`,
      { id: LOCATION, d: after.today.businessDay },
    );
    assert.equal(day.errors, undefined, JSON.stringify(day.errors));
    assert.equal(day.data?.location?.day?.netRevenue, after.today.netRevenue);
  });
});
