// The dashboard's read model on the real mesh (issue 13): the figure pushed over graphql-ws and
// the one a query returns are equal at every update; after a burst of orders, after duplicate
// deliveries of every event, and after events arriving out of order (paid or voided before
// created), the read model equals what sales (or the events) say. Fences are the dashboard's
// event counters, never fixed sleeps.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { CREATE_ORDER, eventually } from "../support/graphql-client.js";
import {
  counter,
  dashboardDay,
  gqlFor,
  liveUpdates,
  publishAsSales,
  salesOrderEvents,
  untilDashboardEqualsSales,
  type Gql,
} from "../support/readmodel.js";

const BUN_CHA = {
  slug: "bun-cha-huong-lien",
  location: "5a0e2f4c-9b1d-4e6a-8c3f-1d2e3f4a5b21",
  bunCha: "c1a0b2c3-d4e5-4f60-8a7b-000000000301",
  traDa: "c1a0b2c3-d4e5-4f60-8a7b-000000000302",
};
const PAY = `mutation ($input: PayOrderInput!) { payOrder(input: $input) { id status } }`;
const VOID = `mutation ($input: VoidOrderInput!) { voidOrder(input: $input) { id status } }`;

describe(
  "dashboard read model: pushed = queried, bursts, duplicates, out-of-order",
  { timeout: 900_000 },
  () => {
    let mesh: Mesh;
    let gql: Gql;
    let tenantId: string;
    const loc = BUN_CHA.location;

    before(async () => {
      process.env.EDGE_RATE_LIMIT_MAX = "100000";
      mesh = await startTestMesh();
      gql = gqlFor(mesh, BUN_CHA.slug);
      tenantId = (await gql<{ tenant: { id: string } }>("query { tenant { id } }")).data!.tenant.id;
    });
    after(async () => {
      await mesh?.stop();
    });

    const createOrder = async (i: number, paid: boolean) => {
      const res = await gql<{ createOrder: { id: string; totalVnd: number; businessDay: string } }>(
        CREATE_ORDER,
        {
          input: {
            locationId: loc,
            idempotencyKey: randomUUID(),
            paymentMethod: (["cash", "momo", "card"] as const)[i % 3],
            lines: [
              { itemId: BUN_CHA.bunCha, quantity: 1 + (i % 3) },
              { itemId: BUN_CHA.traDa, quantity: 1 },
            ],
            paid,
          },
        },
      );
      assert.ok(res.data?.createOrder, JSON.stringify(res.errors));
      return res.data.createOrder;
    };

    test("every figure pushed over dashboardUpdates equals the day report queried right after it", async () => {
      const live = await liveUpdates(mesh, BUN_CHA.slug, loc);
      try {
        // The subscription is live once it hears an order (the first orders may precede it).
        let warmups = 0;
        await eventually(
          "subscription live",
          async () => {
            if (live.updates.length > 0) return true;
            await createOrder(warmups++, false);
            return eventually(
              "an update",
              async () => (live.updates.length > 0 ? true : undefined),
              5_000,
            ).catch(() => undefined);
          },
          60_000,
        );
        const settled = await untilDashboardEqualsSales(mesh, gql, tenantId, loc, 60_000);
        const today = settled[settled.length - 1]!;
        // Fence: the warm-up orders' pushes have all arrived (the last one shows the settled day).
        await eventually("warm-up pushes arrived", async () => {
          const last = live.updates[live.updates.length - 1];
          return last?.todayOrders === today.orders && last.todayRevenue === today.revenueVnd
            ? true
            : undefined;
        });
        const seenBefore = live.updates.length;
        // One change at a time: create, pay, void, each followed by its push and a query.
        const steps: (() => Promise<unknown>)[] = [];
        for (let i = 0; i < 4; i++) {
          let orderId = "";
          steps.push(async () => (orderId = (await createOrder(i, false)).id));
          if (i % 2 === 0) steps.push(() => gql(PAY, { input: { orderId, idempotencyKey: randomUUID() } }));
          if (i === 2)
            steps.push(() => gql(VOID, { input: { orderId, idempotencyKey: randomUUID(), reason: "test" } }));
        }
        let expected = seenBefore;
        for (const step of steps) {
          await step();
          expected++;
          const pushed = await eventually("the step's update", async () => live.updates[expected - 1]);
          const queried = await dashboardDay(gql, loc, pushed.businessDay);
          assert.deepEqual(
            { revenue: queried?.netRevenue, orders: queried?.orders },
            { revenue: pushed.todayRevenue, orders: pushed.todayOrders },
            `update ${expected}`,
          );
        }
        assert.equal(live.state.error, undefined);
      } finally {
        await live.dispose();
      }
    });

    test("a burst of 400 orders from 16 clients: the read model equals sales, and the last push equals the query", async () => {
      const live = await liveUpdates(mesh, BUN_CHA.slug, loc);
      try {
        let next = 0;
        const client = async () => {
          while (next < 400) {
            const i = next++;
            await createOrder(i, i % 4 !== 0);
          }
        };
        await Promise.all(Array.from({ length: 16 }, client));
        const truth = await untilDashboardEqualsSales(mesh, gql, tenantId, loc, 180_000);
        const today = truth[truth.length - 1]!;
        const final = await eventually("the final figure pushed", async () =>
          live.updates.find((u) => u.todayOrders === today.orders && u.todayRevenue === today.revenueVnd),
        );
        assert.equal(final.businessDay, today.businessDay);
        const applied = await counter(mesh, "dashboard", "dashboard_order_events_total", {
          outcome: "applied",
        });
        const batches = await counter(mesh, "dashboard", "dashboard_order_batches_total");
        assert.ok(batches > 0 && applied >= 400);
      } finally {
        await live.dispose();
      }
    });

    test("every event delivered again (same ids, reversed) changes nothing", async () => {
      const events = await salesOrderEvents(mesh, loc);
      assert.ok(events.length >= 400);
      const duplicatesBefore = await counter(mesh, "dashboard", "dashboard_order_events_total", {
        outcome: "duplicate",
      });
      const appliedBefore = await counter(mesh, "dashboard", "dashboard_order_events_total", {
        outcome: "applied",
      });
      await publishAsSales(
        mesh,
        [...events].reverse().map((e) => ({ id: e.id, type: e.type, data: e.payload })),
      );
      // Fence: the dashboard has seen every one of them (as a duplicate).
      await eventually(
        "every redelivery seen",
        async () =>
          (await counter(mesh, "dashboard", "dashboard_order_events_total", { outcome: "duplicate" })) >=
          duplicatesBefore + events.length
            ? true
            : undefined,
        120_000,
      );
      assert.equal(
        await counter(mesh, "dashboard", "dashboard_order_events_total", { outcome: "applied" }),
        appliedBefore,
        "no redelivered event was applied again",
      );
      await untilDashboardEqualsSales(mesh, gql, tenantId, loc, 5_000);
    });

    test("paid or voided before created, in every order: the day converges to what the events say", async () => {
      const day = "2026-01-15"; // a past day sales has no orders on: its figures are the events'
      const base = { tenantId, locationId: loc, businessDay: day };
      const created = (orderId: string, totalVnd: number) => ({
        type: "order.created" as const,
        data: {
          ...base,
          orderId,
          createdAt: "2026-01-15T05:00:00.000Z",
          paymentMethod: "cash",
          totalVnd,
          lines: [{ itemId: BUN_CHA.bunCha, name: "Bún chả", quantity: 1, unitPriceVnd: totalVnd }],
          timeZone: "Asia/Ho_Chi_Minh",
          cutoverHour: 4,
        },
      });
      const paid = (orderId: string, totalVnd: number) => ({
        type: "order.paid" as const,
        data: { ...base, orderId, paidAt: "2026-01-15T05:10:00.000Z", paymentMethod: "momo", totalVnd },
      });
      const voided = (orderId: string, totalVnd: number) => ({
        type: "order.voided" as const,
        data: { ...base, orderId, voidedAt: "2026-01-15T05:20:00.000Z", totalVnd },
      });
      // Each order's events in a different arrival order; amounts differ so every order matters.
      const orders = [
        { total: 10_000, events: ["paid", "created"], counted: true, paid: true },
        { total: 20_000, events: ["voided", "created"], counted: false, paid: false },
        { total: 40_000, events: ["paid", "voided", "created"], counted: false, paid: true },
        { total: 80_000, events: ["created", "voided", "paid"], counted: false, paid: true },
        { total: 160_000, events: ["voided", "paid", "created"], counted: false, paid: true },
        { total: 320_000, events: ["created", "paid"], counted: true, paid: true },
        { total: 640_000, events: ["created"], counted: true, paid: false },
      ];
      const make = { created, paid, voided } as const;
      const stream = orders.map((o) => {
        const id = randomUUID();
        return o.events.map((t) => make[t as keyof typeof make](id, o.total));
      });
      const appliedBefore = await counter(mesh, "dashboard", "dashboard_order_events_total", {
        outcome: "applied",
      });
      // Round-robin over the orders, one position at a time, each position waited for: the order
      // of arrival is the listed one for every order.
      const total = stream.flat().length;
      let sent = 0;
      for (let pos = 0; pos < 3; pos++) {
        const wave = stream.flatMap((events) => events.slice(pos, pos + 1));
        await publishAsSales(mesh, wave);
        sent += wave.length;
        await eventually(
          `wave ${pos} applied`,
          async () =>
            (await counter(mesh, "dashboard", "dashboard_order_events_total", { outcome: "applied" })) >=
            appliedBefore + sent
              ? true
              : undefined,
          60_000,
        );
      }
      assert.equal(sent, total);
      const counted = orders.filter((o) => o.counted);
      const voidedOrders = orders.filter((o) => !o.counted);
      assert.deepEqual(await dashboardDay(gql, loc, day), {
        netRevenue: counted.reduce((s, o) => s + o.total, 0),
        orders: counted.length,
        paidOrders: counted.filter((o) => o.paid).length,
        voidedOrders: voidedOrders.length,
        voids: voidedOrders.reduce((s, o) => s + o.total, 0),
      });
    });
  },
);
