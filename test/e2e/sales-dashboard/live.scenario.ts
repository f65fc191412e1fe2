// graphql-ws: dashboardUpdates follows create → pay → void; other tenants and locations hear nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Gql } from "../../../scripts/datagen/load.js";
import { CREATE_ORDER, DEMO, edgeClient, eventually } from "../../support/graphql-client.js";
import {
  BUN_CHA,
  PAY,
  VOID,
  collect,
  liveSubscriptions,
  type SalesDashboardMesh,
} from "../../support/sales-dashboard.js";

export function liveScenarios(h: SalesDashboardMesh): void {
  test("graphql-ws: dashboardUpdates follows create → pay → void; other tenants and locations hear nothing", async () => {
    const { mesh, wsClient } = h;
    const loc = BUN_CHA.location;
    const listening = () => liveSubscriptions(mesh, "dashboard.updated");
    const listeningBefore = await listening();
    const owner = await wsClient(BUN_CHA.slug);
    const mine = collect<{ dashboardUpdates: { todayRevenue: number; todayOrders: number } }>(
      owner,
      `subscription { dashboardUpdates(locationId: "${loc}") { todayRevenue todayOrders } }`,
    );
    const stranger = await wsClient(DEMO.caPhe.slug);
    const theirs = collect(
      stranger,
      `subscription { dashboardUpdates(locationId: "${loc}") { todayRevenue todayOrders } }`,
    );
    const ownLocation = collect(
      stranger,
      `subscription { dashboardUpdates(locationId: "${DEMO.caPhe.quan1}") { todayRevenue todayOrders } }`,
    );
    // Subscribing checks the location with auth first: wait until both allowed subscriptions
    // listen at the edge and the other tenant's is refused (graphql-ws acknowledges neither).
    await eventually("both allowed subscriptions listen; the other tenant's is refused", async () =>
      (await listening()) >= listeningBefore + 2 && theirs.state.error ? true : undefined,
    );
    assert.equal(await listening(), listeningBefore + 2, "the refused subscription does not listen");

    const bun = edgeClient(mesh.edgeUrl, BUN_CHA.slug) as Gql;
    const base = await bun<{ location: { todayRevenue: number; todayOrders: number } }>(
      `query { location(id: "${loc}") { todayRevenue todayOrders } }`,
    );
    const r0 = base.data!.location;
    const created = await bun<{ createOrder: { id: string; totalVnd: number } }>(CREATE_ORDER, {
      input: {
        locationId: loc,
        idempotencyKey: randomUUID(),
        paymentMethod: "momo",
        lines: [{ itemId: BUN_CHA.bunCha, quantity: 2 }],
      },
    });
    const order = created.data!.createOrder;
    assert.equal(order.totalVnd, 120_000);
    await eventually("update after create", async () => (mine.events.length >= 1 ? true : undefined));
    await bun(PAY, { input: { orderId: order.id, idempotencyKey: randomUUID() } });
    await eventually("update after pay", async () => (mine.events.length >= 2 ? true : undefined));
    await bun(VOID, { input: { orderId: order.id, idempotencyKey: randomUUID(), reason: "khách đổi ý" } });
    await eventually("update after void", async () => (mine.events.length >= 3 ? true : undefined));
    // The fence: an order at the stranger's own location, through the same topic and delivery as
    // the updates above. Once its update has reached that location's subscriber, anything the
    // Bún Chả orders caused has been delivered too: it alone may have arrived there.
    const fence = await edgeClient(mesh.edgeUrl, DEMO.caPhe.slug)<{ createOrder: { id: string } }>(
      CREATE_ORDER,
      {
        input: {
          locationId: DEMO.caPhe.quan1,
          idempotencyKey: randomUUID(),
          paymentMethod: "cash",
          lines: [{ itemId: DEMO.caPhe.caPheSuaDa, quantity: 1 }],
        },
      },
    );
    assert.ok(fence.data?.createOrder, JSON.stringify(fence.errors));
    await eventually("the fence's update reaches its location's subscriber", async () =>
      ownLocation.events.length >= 1 ? true : undefined,
    );
    assert.deepEqual(
      mine.events.map((e) => e.dashboardUpdates),
      [
        { todayRevenue: r0.todayRevenue + 120_000, todayOrders: r0.todayOrders + 1 },
        { todayRevenue: r0.todayRevenue + 120_000, todayOrders: r0.todayOrders + 1 },
        { todayRevenue: r0.todayRevenue, todayOrders: r0.todayOrders },
      ],
    );
    assert.equal(theirs.events.length, 0, "another tenant's subscriber receives nothing");
    assert.ok(theirs.state.error, "another tenant's location is refused");
    assert.equal(
      ownLocation.events.length,
      1,
      "a subscriber of another location receives its own location's fence only",
    );
  });
}
