// Bad input gets a typed error and writes nothing; a service down leaves the other fields
// answering and the last good schema in place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import type { Gql } from "../../../scripts/datagen/load.js";
import { sendFence } from "../../support/fence.js";
import { metricSum } from "../../support/metrics.js";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient, eventually } from "../../support/graphql-client.js";
import { BUN_CHA, PAY, VOID, type SalesDashboardMesh } from "../../support/sales-dashboard.js";

export function badInputAndFaultScenarios(h: SalesDashboardMesh): void {
  test("bad input gets a typed error, writes nothing, and the edge stays up", async () => {
    const { mesh } = h;
    const bun = edgeClient(mesh.edgeUrl, BUN_CHA.slug) as Gql;
    const loc = BUN_CHA.location;
    const before = (
      await bun<{ location: { todayOrders: number } }>(`query { location(id: "${loc}") { todayOrders } }`)
    ).data!;
    const input = (over: Record<string, unknown>) => ({
      locationId: loc,
      idempotencyKey: randomUUID(),
      paymentMethod: "cash",
      lines: [{ itemId: BUN_CHA.bunCha, quantity: 1 }],
      ...over,
    });
    const codes = async (q: string, v?: Record<string, unknown>) =>
      (await bun(q, v)).errors?.map((e) => e.extensions?.code);
    assert.deepEqual(
      await codes(CREATE_ORDER, { input: input({ lines: [{ itemId: randomUUID(), quantity: 1 }] }) }),
      ["BAD_USER_INPUT"],
    );
    assert.deepEqual(
      await codes(CREATE_ORDER, { input: input({ lines: [{ itemId: BUN_CHA.bunCha, quantity: -2 }] }) }),
      ["BAD_USER_INPUT"],
    );
    assert.deepEqual(await codes(CREATE_ORDER, { input: input({ discountVnd: 999_999 }) }), [
      "BAD_USER_INPUT",
    ]);
    assert.deepEqual(await codes(CREATE_ORDER, { input: input({ locationId: "not-an-id" }) }), [
      "BAD_USER_INPUT",
    ]);
    assert.deepEqual(await codes(`query { order(id: "x") { id } }`), ["BAD_USER_INPUT"]);
    // Voiding twice: the second, with a new key, is a CONFLICT; replaying the first key is not.
    const made = await bun<{ createOrder: { id: string } }>(CREATE_ORDER, { input: input({}) });
    const voidKey = randomUUID();
    const once = await bun<{ voidOrder: { status: string } }>(VOID, {
      input: { orderId: made.data!.createOrder.id, idempotencyKey: voidKey },
    });
    assert.equal(once.data?.voidOrder.status, "voided");
    const replay = await bun<{ voidOrder: { status: string } }>(VOID, {
      input: { orderId: made.data!.createOrder.id, idempotencyKey: voidKey },
    });
    assert.equal(replay.data?.voidOrder.status, "voided");
    assert.deepEqual(
      await codes(VOID, { input: { orderId: made.data!.createOrder.id, idempotencyKey: randomUUID() } }),
      ["CONFLICT"],
    );
    assert.deepEqual(
      await codes(PAY, { input: { orderId: made.data!.createOrder.id, idempotencyKey: randomUUID() } }),
      ["CONFLICT"],
    );

    // Query bombs.
    const nested = "query { locations { menuCategories { items { name } } } }";
    assert.equal((await bun(nested)).errors, undefined, "a normal nested query passes");
    const deep = `query { __schema { types { fields { type { ${"ofType { ".repeat(15)}name${" }".repeat(15)} } } } } }`;
    assert.deepEqual(await codes(deep), ["QUERY_TOO_DEEP"]);
    const aliases = Array.from({ length: 50 }, (_, i) => `a${i}: tenant { id }`).join(" ");
    assert.deepEqual(await codes(`query { ${aliases} }`), ["TOO_MANY_ALIASES"]);
    const tokens = `query { ${Array.from({ length: 3000 }, () => "__typename").join(" ")} }`;
    assert.deepEqual(await codes(tokens), ["QUERY_TOO_LARGE"]);
    const big = await fetch(mesh.edgeUrl, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await edgeAuthHeaders(mesh.edgeUrl, BUN_CHA.slug)) },
      body: JSON.stringify({ query: `query { __typename } # ${"x".repeat(400_000)}` }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, "PAYLOAD_TOO_LARGE");

    const orders = async () =>
      (await bun<{ location: { todayOrders: number } }>(`query { location(id: "${loc}") { todayOrders } }`))
        .data!.location.todayOrders;
    const { figures: after } = await sendFence(
      bun,
      { locationId: loc, itemId: BUN_CHA.bunCha },
      orders,
      (n) => n > before.location.todayOrders,
    );
    assert.equal(
      after,
      before.location.todayOrders + 1,
      "nothing half-written: only the fence order was counted",
    );
    assert.equal((await fetch(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/readyz`)).status, 200);
  });

  test("a service down: other fields answer, its fields carry UNAVAILABLE at their path; the last good schema stays", async () => {
    const { mesh, gql } = h;
    const failedReloads = () =>
      metricSum(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/metrics`, "edge_schema_sdl_fetches_total", {
        subschema: "dashboard",
        outcome: "failed",
      });
    const failedBefore = await failedReloads();
    await mesh.killApp("dashboard");
    try {
      const res = await eventually("dashboard failure seen", async () => {
        const r = await gql<{ location: { name: string; todayRevenue: number | null } | null }>(
          `query { location(id: "${DEMO.phoBo.hoanKiem}") { name todayRevenue } }`,
        );
        return r.errors?.length ? r : undefined;
      });
      assert.equal(res.data?.location?.name.includes("Hoàn Kiếm"), true, JSON.stringify(res));
      assert.equal(res.data?.location?.todayRevenue, null);
      assert.deepEqual(res.errors?.[0]?.path, ["location", "todayRevenue"]);
      assert.equal(res.errors?.[0]?.extensions?.code, "UNAVAILABLE");
      // Reloads fail while dashboard is down (polled every second, one SDL request each): after
      // two of them the edge still serves, with dashboard's fields still in its schema.
      await eventually("two schema reloads failed to reach dashboard", async () =>
        (await failedReloads()) >= failedBefore + 2 ? true : undefined,
      );
      assert.equal((await fetch(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/readyz`)).status, 200);
      const still = await gql(`query { location(id: "${DEMO.phoBo.hoanKiem}") { todayRevenue } }`);
      assert.deepEqual(
        still.errors?.map((e) => e.extensions?.code),
        ["UNAVAILABLE"],
        "dashboard's fields stay in the schema",
      );
      const menu = await gql<{ location: { menu: unknown[] } }>(
        `query { location(id: "${DEMO.phoBo.hoanKiem}") { menu { name } } }`,
      );
      assert.equal(menu.errors, undefined);
      assert.ok(menu.data?.location.menu.length);
    } finally {
      await mesh.restartApp("dashboard");
    }
  });
}
