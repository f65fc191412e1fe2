// A MoMo webhook at the edge → payments → pub/sub → sales, and notifications → pub/sub → the
// edge's subscription: one trace, parent → child, with the publishing sidecar on each branch.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openMomoOrder, postMomoIpn } from "../../support/momo.js";
import {
  SERVER,
  assertDescends,
  label,
  newTraceparent,
  traceWith,
  type TracesMesh,
} from "../../support/traces.js";

export function momoWebhookTraceScenarios(h: TracesMesh): void {
  test("MoMo webhook: one trace edge → payments → pub/sub → sales and notifications → edge subscription", async () => {
    const { mesh, otlp, gql } = h;
    // An open order and its started payment, then the provider's signed IPN with our trace context.
    const payment = await openMomoOrder(gql);
    const { traceId, parent, header } = newTraceparent();
    const res = await postMomoIpn(mesh, payment, { traceparent: header });
    assert.equal(res.status, 204, await res.text());

    // The edge's delivery of the feed entry comes last, and late when the edge's sidecar holds
    // deliveries while a loaded machine makes the edge miss a health probe: wait for it by name.
    const spans = await traceWith(
      otlp,
      traceId,
      parent,
      ["edge", "payments", "sales", "notifications"],
      [
        ["sales", "/events/"],
        ["notifications", "/events/payments"],
        ["edge", "/events/notifications"],
      ],
    );
    const server = (app: string, route?: string) =>
      spans.find(
        (s) =>
          s.service === app && s.source === "app" && s.kind === SERVER && (!route || s.name.includes(route)),
      );
    const edgeServer = server("edge");
    const paymentsServer = server("payments");
    const salesConsumer = server("sales", "/events/");
    const notificationsConsumer = server("notifications", "/events/payments");
    // The feed entry reaches the edge, which pushes it to the owner's notificationReceived.
    const edgeLive = server("edge", "/events/notifications");
    assert.ok(
      edgeServer && paymentsServer && salesConsumer && notificationsConsumer && edgeLive,
      spans.map(label).join("\n"),
    );
    assertDescends(spans, paymentsServer, edgeServer);
    const toSales = assertDescends(spans, salesConsumer, paymentsServer);
    const toNotifications = assertDescends(spans, notificationsConsumer, paymentsServer);
    assertDescends(spans, edgeLive, notificationsConsumer);
    for (const chain of [toSales, toNotifications])
      assert.ok(
        chain.some((s) => s.source === "daprd" && s.service === "payments"),
        `no publishing sidecar span: ${chain.map(label).join(" ← ")}`,
      );
  });
}
