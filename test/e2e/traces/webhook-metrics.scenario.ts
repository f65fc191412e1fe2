// A webhook's payment pushed to a graphql-ws subscriber moves the business metrics (sales), the
// edge's per-operation metrics and its webhook-to-screen histogram.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { DEMO, edgeAuthHeaders, eventually } from "../../support/graphql-client.js";
import { scrapeMetrics, sumOf, type Sample } from "../../support/metrics.js";
import { openMomoOrder, postMomoIpn } from "../../support/momo.js";
import type { TracesMesh } from "../../support/traces.js";

export function webhookMetricsScenarios(h: TracesMesh): void {
  test("metrics: a webhook's payment pushed to a graphql-ws subscriber moves the business, edge and webhook-to-screen metrics", async () => {
    const { mesh, gql } = h;
    const metricsOf = (app: "edge" | "sales") =>
      scrapeMetrics(`http://127.0.0.1:${mesh.plan.apps[app].ops}/metrics`);
    const delta = (before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
    const listening = (m: Sample[]) => sumOf(m, "edge_live_subscriptions", { event: "dashboard.updated" });
    const edgeBefore = await metricsOf("edge");

    // The owner's screen: dashboardUpdates over graphql-ws, a named operation.
    const ws = createClient({
      url: mesh.edgeUrl.replace(/^http/, "ws"),
      webSocketImpl: WebSocket,
      connectionParams: await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug),
      retryAttempts: 0,
    });
    const pushed: { todayRevenue: number; todayOrders: number }[] = [];
    const failures: unknown[] = [];
    const unsubscribe = ws.subscribe<{ dashboardUpdates: { todayRevenue: number; todayOrders: number } }>(
      {
        query: `subscription LiveTiles($id: ID!) { dashboardUpdates(locationId: $id) { todayRevenue todayOrders } }`,
        variables: { id: DEMO.phoBo.hoanKiem },
      },
      {
        next: (v) => void (v.data ? pushed.push(v.data.dashboardUpdates) : failures.push(v.errors)),
        error: (e) => void failures.push(e),
        complete: () => undefined,
      },
    );
    try {
      // graphql-ws acknowledges no subscription: wait until the edge counts it as listening.
      await eventually("the subscription listens at the edge", async () =>
        listening(await metricsOf("edge")) >= listening(edgeBefore) + 1 ? true : undefined,
      );
      const salesBefore = await metricsOf("sales");
      const payment = await openMomoOrder(gql);
      const res = await postMomoIpn(mesh, payment);
      assert.equal(res.status, 204, await res.text());

      // The payment's update reaches the screen, and the edge timed it from the payment.
      const edgeAfter = await eventually("edge_webhook_to_screen_seconds observed", async () => {
        const m = await metricsOf("edge");
        return delta(edgeBefore, m, "edge_webhook_to_screen_seconds_count") >= 1 ? m : undefined;
      });
      await eventually("the payment's update reaches the screen", async () =>
        pushed.length >= 1 ? true : undefined,
      );
      assert.deepEqual(failures, []);
      // At least: an earlier test's payment may still be on its way to this subscriber.
      const observed = delta(edgeBefore, edgeAfter, "edge_webhook_to_screen_seconds_count");
      assert.ok(observed >= 1);
      const seconds = delta(edgeBefore, edgeAfter, "edge_webhook_to_screen_seconds_sum") / observed;
      assert.ok(seconds > 0 && seconds < 60, `webhook to screen took ${seconds} s`);
      process.stderr.write(`[traces.test] webhook to screen (mean): ${(seconds * 1000).toFixed(0)} ms\n`);
      assert.equal(
        delta(edgeBefore, edgeAfter, "edge_graphql_operations_total", {
          operationName: "StartPayment",
          operationType: "mutation",
        }),
        1,
      );
      assert.equal(
        delta(edgeBefore, edgeAfter, "edge_graphql_operation_duration_seconds_count", {
          operationName: "StartPayment",
        }),
        1,
      );

      // sales counted the order once when created and once when paid, with its exact total.
      const salesAfter = await metricsOf("sales");
      const sales = (name: string, labels: Record<string, string>) =>
        delta(salesBefore, salesAfter, name, labels);
      assert.equal(sales("sales_orders_total", { status: "created", payment_method: "momo" }), 1);
      assert.equal(sales("sales_orders_total", { status: "paid", payment_method: "momo" }), 1);
      assert.equal(sales("sales_revenue_vnd_total", { status: "created" }), payment.order.totalVnd);
      assert.equal(sales("sales_revenue_vnd_total", { status: "paid" }), payment.order.totalVnd);
      assert.equal(sales("sales_orders_total", { status: "voided" }), 0);
    } finally {
      unsubscribe();
      await ws.dispose();
    }
    // A subscription is counted when its stream ends (graphql-ws operations go through envelop
    // too), and it no longer listens.
    await eventually("the ended subscription is counted and no longer listens", async () => {
      const m = await metricsOf("edge");
      const n = delta(edgeBefore, m, "edge_graphql_operations_total", {
        operationName: "LiveTiles",
        operationType: "subscription",
      });
      return n === 1 && listening(m) === listening(edgeBefore) ? true : undefined;
    });
  });
}
