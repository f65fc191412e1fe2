// createOrder at the edge → sales (service invocation) → outbox → pub/sub → dashboard: one trace,
// parent → child links across every hop and sidecar.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { CREATE_ORDER, DEMO, edgeAuthHeaders } from "../../support/graphql-client.js";
import {
  SERVER,
  assertDescends,
  label,
  newTraceparent,
  traceWith,
  type TracesMesh,
} from "../../support/traces.js";

export function createOrderTraceScenarios(h: TracesMesh): void {
  test("createOrder: one trace edge → sales → pub/sub → dashboard, parent → child all the way", async () => {
    const { mesh, otlp } = h;
    const { traceId, parent, header } = newTraceparent();
    const res = await fetch(mesh.edgeUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        traceparent: header,
        ...(await edgeAuthHeaders(mesh.edgeUrl, DEMO.phoBo.slug)),
      },
      body: JSON.stringify({
        query: CREATE_ORDER,
        variables: {
          input: {
            locationId: DEMO.phoBo.hoanKiem,
            idempotencyKey: randomUUID(),
            paymentMethod: "cash",
            lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
          },
        },
      }),
    });
    const body = (await res.json()) as { data?: { createOrder?: { id: string } }; errors?: unknown };
    assert.ok(body.data?.createOrder?.id, JSON.stringify(body.errors));

    const spans = await traceWith(otlp, traceId, parent, ["edge", "sales", "dashboard"]);
    const edgeServer = spans.find((s) => s.service === "edge" && s.source === "app" && s.kind === SERVER);
    const salesServer = spans.find((s) => s.service === "sales" && s.source === "app" && s.kind === SERVER);
    const dashboardServer = spans.find(
      (s) =>
        s.service === "dashboard" &&
        s.source === "app" &&
        s.kind === SERVER &&
        s.name.includes("/events/orders"),
    );
    assert.ok(edgeServer && salesServer && dashboardServer, spans.map(label).join("\n"));

    // edge → (edge's daprd → sales's daprd) → sales
    const salesChain = assertDescends(spans, salesServer, edgeServer);
    assert.ok(
      salesChain.some((s) => s.source === "daprd"),
      `no sidecar span between edge and sales: ${salesChain.map(label).join(" ← ")}`,
    );
    // sales → outbox relay → sales's daprd publish → dashboard's daprd delivery → dashboard
    const dashboardChain = assertDescends(spans, dashboardServer, salesServer);
    assert.ok(
      dashboardChain.some((s) => s.source === "daprd" && s.service === "dashboard"),
      `no delivering sidecar span: ${dashboardChain.map(label).join(" ← ")}`,
    );
    assert.ok(
      dashboardChain.some((s) => s.source === "daprd" && s.service === "sales"),
      `no publishing sidecar span: ${dashboardChain.map(label).join(" ← ")}`,
    );
  });
}
