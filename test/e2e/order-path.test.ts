// One real path through every kind of wire: GraphQL at the edge → sales (service invocation)
// → outbox → Redis Streams pub/sub → dashboard and ai → stitched query at the edge, which also
// calls the ai service's per-location actor over the Dapr gRPC API.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { CREATE_ORDER, DEMO, LOCATION_TODAY, edgeClient, eventually } from "../support/graphql-client.js";
import { sendFence } from "../support/fence.js";

const TRA_DA_AT_HOAN_KIEM = { locationId: DEMO.phoBo.hoanKiem, itemId: DEMO.phoBo.traDa };

interface Today {
  location: {
    todayRevenue: number;
    todayOrders: number;
    insights: { ordersSeen: number; revenueVnd: number } | null;
  } | null;
}

describe("order path through the real mesh", { timeout: 300_000 }, () => {
  let mesh: Mesh;
  let gql: ReturnType<typeof edgeClient>;

  before(async () => {
    mesh = await startTestMesh();
    gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  });
  after(async () => {
    await mesh?.stop();
  });

  const today = async () => {
    const res = await gql<Today>(LOCATION_TODAY, { id: DEMO.phoBo.hoanKiem });
    assert.ok(res.data?.location, JSON.stringify(res.errors));
    return res.data.location;
  };

  test("an order created at the edge reaches the dashboard and the location's AI actor", async () => {
    const before = await today();
    const input = {
      locationId: DEMO.phoBo.hoanKiem,
      idempotencyKey: randomUUID(),
      paymentMethod: "cash",
      lines: [
        { itemId: DEMO.phoBo.phoTai, quantity: 2 },
        { itemId: DEMO.phoBo.traDa, quantity: 3 },
      ],
    };
    const created = await gql<{ createOrder: { id: string; totalVnd: number; status: string } }>(
      CREATE_ORDER,
      { input },
    );
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    assert.equal(created.data?.createOrder.totalVnd, 2 * 55_000 + 3 * 5_000);
    assert.equal(created.data?.createOrder.status, "open");

    const after = await eventually("dashboard revenue", async () => {
      const t = await today();
      return t.todayOrders === before.todayOrders + 1 ? t : undefined;
    });
    assert.equal(after.todayRevenue, before.todayRevenue + 125_000);

    const insights = await eventually("ai actor state", async () => {
      const t = await today();
      return t.insights && t.insights.ordersSeen >= 1 && t.insights.revenueVnd >= 125_000
        ? t.insights
        : undefined;
    });
    assert.ok(insights.ordersSeen >= 1);

    // Replaying the same idempotency key returns the same order and changes no figure.
    const again = await gql<{ createOrder: { id: string } }>(CREATE_ORDER, { input });
    assert.equal(again.data?.createOrder.id, created.data?.createOrder.id);
    const { fence, figures: settled } = await sendFence(
      gql,
      TRA_DA_AT_HOAN_KIEM,
      today,
      (t) => t.todayOrders > after.todayOrders,
    );
    assert.equal(settled.todayOrders, after.todayOrders + 1, "the fence alone was counted");
    assert.equal(settled.todayRevenue, after.todayRevenue + fence.totalVnd);
  });

  test("bad input gets a typed error and writes nothing", async () => {
    const before = await today();
    const bad = [
      {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 0 }],
      },
      {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: randomUUID(), quantity: 1 }],
      },
      {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: "short",
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
      },
      { locationId: DEMO.phoBo.hoanKiem, idempotencyKey: randomUUID(), paymentMethod: "cash", lines: [] },
    ];
    for (const input of bad) {
      const res = await gql(CREATE_ORDER, { input });
      assert.equal(res.errors?.[0]?.extensions?.code, "BAD_USER_INPUT", JSON.stringify(res));
    }
    const wrongEnum = await gql(CREATE_ORDER, { input: { ...bad[0], paymentMethod: "bitcoin" } });
    assert.ok(wrongEnum.errors?.length, "an unknown payment method is refused by the schema");
    const { fence, figures: after } = await sendFence(
      gql,
      TRA_DA_AT_HOAN_KIEM,
      today,
      (t) => t.todayOrders > before.todayOrders,
    );
    assert.deepEqual(
      { r: after.todayRevenue, o: after.todayOrders },
      { r: before.todayRevenue + fence.totalVnd, o: before.todayOrders + 1 },
      "only the fence was counted",
    );
  });

  test("tenancy: another tenant's location is invisible, and an unknown or missing tenant is refused", async () => {
    const other = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    const res = await other<Today>(LOCATION_TODAY, { id: DEMO.phoBo.hoanKiem });
    assert.equal(res.data?.location ?? null, null);

    const order = await other(CREATE_ORDER, {
      input: {
        locationId: DEMO.phoBo.hoanKiem,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
      },
    });
    assert.ok(
      ["NOT_FOUND", "FORBIDDEN"].includes(order.errors?.[0]?.extensions?.code ?? ""),
      JSON.stringify(order),
    );

    const unknown = await edgeClient(mesh.edgeUrl, "no-such-tenant")(LOCATION_TODAY, {
      id: DEMO.phoBo.hoanKiem,
    });
    assert.equal(unknown.errors?.[0]?.extensions?.code, "NOT_FOUND");
    const missing = await edgeClient(mesh.edgeUrl)(LOCATION_TODAY, { id: DEMO.phoBo.hoanKiem });
    assert.equal(missing.errors?.[0]?.extensions?.code, "UNAUTHENTICATED");
  });

  test("every app and sidecar reports ready, with metrics", async () => {
    for (const [app, ports] of Object.entries(mesh.plan.apps)) {
      const ready = await fetch(`http://127.0.0.1:${ports.ops}/readyz`);
      assert.equal(ready.status, 200, `${app} /readyz`);
      const metrics = await (await fetch(`http://127.0.0.1:${ports.ops}/metrics`)).text();
      assert.match(metrics, /http_(server_)?request/, `${app} exposes HTTP metrics`);
      const sidecar = await fetch(`http://127.0.0.1:${ports.daprHttp}/v1.0/healthz`);
      assert.equal(sidecar.status, 204, `${app} sidecar`);
    }
  });
});
