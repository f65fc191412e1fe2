// The stitched edge calls each service once per operation, and its response cache is per caller,
// skipped on no-cache and dropped when a location's figures change.
import { test } from "node:test";
import assert from "node:assert/strict";
import { metricSum } from "../../support/metrics.js";
import { randomUUID } from "node:crypto";
import {
  CREATE_ORDER,
  DEMO,
  edgeAuthHeaders,
  eventually,
  type LoginAs,
} from "../../support/graphql-client.js";
import { type SalesDashboardMesh } from "../../support/sales-dashboard.js";

export function edgeCallsAndCacheScenarios(h: SalesDashboardMesh): void {
  test("no N+1: each service is called exactly once per operation, whatever the number of locations", async () => {
    const { mesh, gql } = h;
    const metrics = `http://127.0.0.1:${mesh.plan.apps.edge.ops}/metrics`;
    const calls = async () =>
      Object.fromEntries(
        await Promise.all(
          ["auth", "sales", "dashboard"].map(async (s) => [
            s,
            await metricSum(metrics, "edge_upstream_requests_total", { subschema: s }),
          ]),
        ),
      ) as Record<string, number>;
    const cases: [string, Record<string, number>][] = [
      // auth lists the locations; sales and dashboard each get one batched call for both.
      [
        "query { locations { id name menu { name } todayRevenue topItems { name } } }",
        { auth: 1, sales: 1, dashboard: 1 },
      ],
      // Two locations in one request: one batched call to dashboard. `location(id)` itself is
      // the edge's (its location cache, services/edge/src/location-root.ts): no call to auth.
      [
        `query { a: location(id: "${DEMO.phoBo.hoanKiem}") { name todayRevenue } b: location(id: "${DEMO.phoBo.cauGiay}") { name todayOrders } }`,
        { auth: 0, sales: 0, dashboard: 1 },
      ],
      [
        `query { location(id: "${DEMO.phoBo.hoanKiem}") { menuCategories { name items { name } } } }`,
        { auth: 0, sales: 1, dashboard: 0 },
      ],
    ];
    for (const [query, want] of cases) {
      const before = await calls();
      const res = await gql(query);
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const after = await calls();
      const delta = Object.fromEntries(Object.keys(want).map((k) => [k, (after[k] ?? 0) - (before[k] ?? 0)]));
      assert.deepEqual(delta, want, query);
    }
  });

  test("response cache: per caller, skipped on no-cache, dropped when the location's figures change", async () => {
    const { mesh, gql } = h;
    const metrics = `http://127.0.0.1:${mesh.plan.apps.edge.ops}/metrics`;
    const dashboardCalls = () =>
      metricSum(metrics, "edge_upstream_requests_total", { subschema: "dashboard" });
    const loc = DEMO.phoBo.hoanKiem;
    const query = JSON.stringify({
      query: `query { location(id: "${loc}") { id todayOrders todayRevenue } }`,
    });
    const ask = async (as: LoginAs = {}, extra: Record<string, string> = {}) => {
      const res = await fetch(mesh.edgeUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug, as)),
          ...extra,
        },
        body: query,
      });
      return ((await res.json()) as { data: { location: { todayOrders: number } } }).data.location
        .todayOrders;
    };
    // A repeat by the same caller costs no upstream call. Events still being applied for this
    // location (earlier tests) may drop the entry in between: then the pair is asked again.
    let servedFromCache = false;
    for (let attempt = 0; attempt < 10 && !servedFromCache; attempt++) {
      const before = await dashboardCalls();
      await ask();
      await ask();
      servedFromCache = (await dashboardCalls()) - before === 1;
    }
    assert.ok(servedFromCache, "the same caller's repeat is served from the cache");
    let before = await dashboardCalls();
    await ask({}, { "cache-control": "no-cache" });
    assert.ok((await dashboardCalls()) - before >= 1, "no-cache executes");
    before = await dashboardCalls();
    await ask({ role: "manager" });
    assert.ok(
      (await dashboardCalls()) - before >= 1,
      "another caller does not get the owner's cached answer",
    );
    // A new order: dashboard.updated drops the cached answer, the next ask sees the new count.
    // Answers live 60 s here (support/sales-dashboard.ts), so seeing it within 30 s can only be
    // the event's drop; 30 s, not less, leaves a busy machine's outbox and pub/sub their time
    // (CI once missed 10 s while other work shared the cores).
    const first = await ask();
    const created = await gql(CREATE_ORDER, {
      input: {
        locationId: loc,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
      },
    });
    assert.equal(created.errors, undefined, JSON.stringify(created.errors));
    await eventually(
      "the cached answer follows the new order",
      async () => ((await ask()) > first ? true : undefined),
      30_000,
    );
  });
}
