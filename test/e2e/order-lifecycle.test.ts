// The order lifecycle on the real mesh: an order created, paid and voided at the edge moves every
// figure of the dashboard's day report by exactly its amounts (through the outbox, Redis Streams
// pub/sub and the dashboard's read model); replayed idempotency keys and refused transitions move
// nothing. (dashboardUpdates over graphql-ws is covered in sales-dashboard.test.ts.)
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { DEMO, edgeClient, eventually } from "../support/graphql-client.js";
import { sendFence } from "../support/fence.js";

const LOCATION = DEMO.phoBo.hoanKiem;
const PHO = DEMO.phoBo.phoTai; // 55,000 VND
const TRA_DA = DEMO.phoBo.traDa; // 5,000 VND
/** "Nothing else happens" checks send one unpaid cash order of trà đá here as their fence. */
const FENCE_AT = { locationId: LOCATION, itemId: TRA_DA };

interface Day {
  todayRevenue: number;
  todayOrders: number;
  today: {
    businessDay: string;
    netRevenue: number;
    orders: number;
    paidOrders: number;
    averageTicket: number;
    discounts: number;
    discountedOrders: number;
    voidedOrders: number;
    voids: number;
    hourly: { hour: number; revenue: number; orders: number }[];
    topItems: { itemId: string; quantity: number; revenue: number }[];
    paymentMix: { method: string; orders: number; revenue: number }[];
  };
}

const DAY = /* GraphQL */ `
  query ($id: ID!) {
    location(id: $id) {
      todayRevenue
      todayOrders
      today {
        businessDay
        netRevenue
        orders
        paidOrders
        averageTicket
        discounts
        discountedOrders
        voidedOrders
        voids
        hourly {
          hour
          revenue
          orders
        }
        topItems(limit: 50) {
          itemId
          quantity
          revenue
        }
        paymentMix {
          method
          orders
          revenue
        }
      }
    }
  }
`;

const ORDER_FIELDS = "id status totalVnd discountVnd paymentMethod businessDay createdAt";
const CREATE = `mutation ($input: CreateOrderInput!) { createOrder(input: $input) { ${ORDER_FIELDS} } }`;
const PAY = `mutation ($input: PayOrderInput!) { payOrder(input: $input) { ${ORDER_FIELDS} } }`;
const VOID = `mutation ($input: VoidOrderInput!) { voidOrder(input: $input) { ${ORDER_FIELDS} } }`;

interface Order {
  id: string;
  status: string;
  totalVnd: number;
  discountVnd: number;
  paymentMethod: string;
  businessDay: string;
  createdAt: string;
}

/** The local hour (Asia/Ho_Chi_Minh, the demo locations' zone) of an instant. */
const localHour = (iso: string) =>
  Number(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Ho_Chi_Minh",
      hour: "2-digit",
      hourCycle: "h23",
    }).format(new Date(iso)),
  );

const ZERO = { orders: 0, revenue: 0, quantity: 0 };
const mix = (d: Day, method: string) => d.today.paymentMix.find((m) => m.method === method) ?? ZERO;
const item = (d: Day, itemId: string) => d.today.topItems.find((i) => i.itemId === itemId) ?? ZERO;
const bucket = (d: Day, hour: number) => d.today.hourly.find((h) => h.hour === hour) ?? ZERO;

/** What moved between two snapshots, in every figure an order touches. */
function delta(a: Day, b: Day, hour: number) {
  return {
    revenue: b.todayRevenue - a.todayRevenue,
    orders: b.todayOrders - a.todayOrders,
    netRevenue: b.today.netRevenue - a.today.netRevenue,
    paidOrders: b.today.paidOrders - a.today.paidOrders,
    discounts: b.today.discounts - a.today.discounts,
    discountedOrders: b.today.discountedOrders - a.today.discountedOrders,
    voidedOrders: b.today.voidedOrders - a.today.voidedOrders,
    voids: b.today.voids - a.today.voids,
    cash: [mix(b, "cash").orders - mix(a, "cash").orders, mix(b, "cash").revenue - mix(a, "cash").revenue],
    card: [mix(b, "card").orders - mix(a, "card").orders, mix(b, "card").revenue - mix(a, "card").revenue],
    pho: [item(b, PHO).quantity - item(a, PHO).quantity, item(b, PHO).revenue - item(a, PHO).revenue],
    traDa: [
      item(b, TRA_DA).quantity - item(a, TRA_DA).quantity,
      item(b, TRA_DA).revenue - item(a, TRA_DA).revenue,
    ],
    hour: [
      bucket(b, hour).orders - bucket(a, hour).orders,
      bucket(b, hour).revenue - bucket(a, hour).revenue,
    ],
  };
}

describe("order lifecycle → dashboard figures on the real mesh", { timeout: 300_000 }, () => {
  let mesh: Mesh;
  let gql: ReturnType<typeof edgeClient>;

  before(async () => {
    mesh = await startTestMesh();
    gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  });
  after(async () => {
    await mesh?.stop();
  });

  const day = async (): Promise<Day> => {
    const res = await gql<{ location: Day | null }>(DAY, { id: LOCATION });
    assert.ok(res.data?.location, JSON.stringify(res.errors));
    return res.data.location;
  };
  const mutate = async (query: string, input: Record<string, unknown>, field: string): Promise<Order> => {
    const res = await gql<Record<string, Order>>(query, { input });
    const order = res.data?.[field];
    assert.ok(order, JSON.stringify(res.errors));
    return order;
  };

  test("create → pay by card → void move every figure exactly; replayed keys move nothing", async () => {
    const start = await day();
    const createInput = {
      locationId: LOCATION,
      idempotencyKey: randomUUID(),
      paymentMethod: "cash",
      discountVnd: 15_000,
      lines: [
        { itemId: PHO, quantity: 2 },
        { itemId: TRA_DA, quantity: 3 },
      ],
    };
    const order = await mutate(CREATE, createInput, "createOrder");
    assert.deepEqual(
      [order.status, order.totalVnd, order.discountVnd],
      ["open", 2 * 55_000 + 3 * 5_000 - 15_000, 15_000],
    );
    const hour = localHour(order.createdAt);
    assert.equal(start.today.businessDay, order.businessDay);

    const created = await eventually("order.created applied", async () => {
      const d = await day();
      return d.todayOrders === start.todayOrders + 1 ? d : undefined;
    });
    assert.deepEqual(delta(start, created, hour), {
      revenue: 110_000,
      orders: 1,
      netRevenue: 110_000,
      paidOrders: 0,
      discounts: 15_000,
      discountedOrders: 1,
      voidedOrders: 0,
      voids: 0,
      cash: [1, 110_000],
      card: [0, 0],
      pho: [2, 110_000],
      traDa: [3, 15_000],
      hour: [1, 110_000],
    });
    assert.equal(created.today.averageTicket, Math.round(created.today.netRevenue / created.today.orders));
    assert.equal(created.today.hourly.length, 24);

    // Paid by card: the order moves from cash to card in the mix; revenue and count stay.
    const payInput = { orderId: order.id, idempotencyKey: randomUUID(), paymentMethod: "card" };
    const paid = await mutate(PAY, payInput, "payOrder");
    assert.deepEqual([paid.status, paid.paymentMethod], ["paid", "card"]);
    const afterPay = await eventually("order.paid applied", async () => {
      const d = await day();
      return d.today.paidOrders === created.today.paidOrders + 1 ? d : undefined;
    });
    assert.deepEqual(delta(created, afterPay, hour), {
      revenue: 0,
      orders: 0,
      netRevenue: 0,
      paidOrders: 1,
      discounts: 0,
      discountedOrders: 0,
      voidedOrders: 0,
      voids: 0,
      cash: [-1, -110_000],
      card: [1, 110_000],
      pho: [0, 0],
      traDa: [0, 0],
      hour: [0, 0],
    });

    // Replays return the first results; a second payment with a new key is refused.
    assert.equal((await mutate(CREATE, createInput, "createOrder")).id, order.id);
    assert.deepEqual(await mutate(PAY, payInput, "payOrder"), paid);
    const payAgain = await gql(PAY, { input: { ...payInput, idempotencyKey: randomUUID() } });
    assert.equal(payAgain.errors?.[0]?.extensions?.code, "CONFLICT", JSON.stringify(payAgain));

    const voidInput = { orderId: order.id, idempotencyKey: randomUUID(), reason: "khách đổi ý" };
    const voided = await mutate(VOID, voidInput, "voidOrder");
    assert.equal(voided.status, "voided");
    const afterVoid = await eventually("order.voided applied", async () => {
      const d = await day();
      return d.today.voidedOrders === afterPay.today.voidedOrders + 1 ? d : undefined;
    });
    assert.deepEqual(delta(afterPay, afterVoid, hour), {
      revenue: -110_000,
      orders: -1,
      netRevenue: -110_000,
      paidOrders: -1,
      discounts: -15_000,
      discountedOrders: -1,
      voidedOrders: 1,
      voids: 110_000,
      cash: [0, 0],
      card: [-1, -110_000],
      pho: [-2, -110_000],
      traDa: [-3, -15_000],
      hour: [-1, -110_000],
    });
    assert.deepEqual(await mutate(VOID, voidInput, "voidOrder"), voided);
    const voidAgain = await gql(VOID, { input: { ...voidInput, idempotencyKey: randomUUID() } });
    assert.equal(voidAgain.errors?.[0]?.extensions?.code, "CONFLICT", JSON.stringify(voidAgain));
    const payVoided = await gql(PAY, { input: { orderId: order.id, idempotencyKey: randomUUID() } });
    assert.equal(payVoided.errors?.[0]?.extensions?.code, "CONFLICT", JSON.stringify(payVoided));

    // Nothing replayed or refused arrives late: after a fence order, only the fence moved a figure.
    const { fence, figures: fenced } = await sendFence(
      gql,
      FENCE_AT,
      day,
      (d) => d.todayOrders > afterVoid.todayOrders,
    );
    const fenceMoves = [1, fence.totalVnd];
    assert.deepEqual(delta(afterVoid, fenced, hour), {
      ...delta(afterVoid, afterVoid, hour),
      revenue: fence.totalVnd,
      orders: 1,
      netRevenue: fence.totalVnd,
      cash: fenceMoves,
      traDa: fenceMoves,
      hour: localHour(fence.createdAt) === hour ? fenceMoves : [0, 0],
    });
  });

  test("bad lifecycle input gets a typed error and writes nothing", async () => {
    const before = await day();
    const cases: [string, Record<string, unknown>, string][] = [
      [PAY, { orderId: "not-an-id", idempotencyKey: randomUUID() }, "BAD_USER_INPUT"],
      [PAY, { orderId: randomUUID(), idempotencyKey: randomUUID() }, "NOT_FOUND"],
      [VOID, { orderId: randomUUID(), idempotencyKey: "short" }, "BAD_USER_INPUT"],
      [
        CREATE,
        {
          locationId: LOCATION,
          idempotencyKey: randomUUID(),
          paymentMethod: "cash",
          discountVnd: 1_000_000,
          lines: [{ itemId: TRA_DA, quantity: 1 }],
        },
        "BAD_USER_INPUT",
      ],
    ];
    for (const [query, input, code] of cases) {
      const res = await gql(query, { input });
      assert.equal(res.errors?.[0]?.extensions?.code, code, JSON.stringify(res));
    }
    // Another tenant cannot pay or void this tenant's orders.
    const order = await mutate(
      CREATE,
      {
        locationId: LOCATION,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: PHO, quantity: 1 }],
      },
      "createOrder",
    );
    const settledBefore = await eventually("order.created applied", async () => {
      const d = await day();
      return d.todayOrders === before.todayOrders + 1 ? d : undefined;
    });
    const other = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    const stranger = await other(VOID, { input: { orderId: order.id, idempotencyKey: randomUUID() } });
    assert.equal(stranger.errors?.[0]?.extensions?.code, "NOT_FOUND", JSON.stringify(stranger));
    const { fence, figures: after } = await sendFence(
      gql,
      FENCE_AT,
      day,
      (d) => d.todayOrders > settledBefore.todayOrders,
    );
    assert.deepEqual(
      [after.todayOrders, after.todayRevenue, after.today.voidedOrders, after.today.paidOrders],
      [
        settledBefore.todayOrders + 1,
        settledBefore.todayRevenue + fence.totalVnd,
        settledBefore.today.voidedOrders,
        settledBefore.today.paidOrders,
      ],
    );
  });
});
