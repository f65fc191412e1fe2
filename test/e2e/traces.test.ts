// The trace proof (issue 7): the mesh exports the spans of every app (OTLP/HTTP: JSON from the
// TypeScript SDK, protobuf from Python) and of every daprd sidecar (OTLP/gRPC) to a small OTLP
// receiver in this test, and one request's trace must cross every hop with parent → child links:
//   createOrder at the edge → sales (service invocation) → outbox → pub/sub → dashboard
//   MoMo webhook at the edge → payments → pub/sub → sales, and notifications → pub/sub → edge
// The test sends its own W3C `traceparent`, so it knows the trace id to look for.
// LSP_TRACE_DUMP=<file> writes the received spans as JSON lines (for docs/observability.md).
// One mesh for the suite; each scenario file in test/e2e/traces/ is one theme (run in this order:
// the last checks what the others exported), the receiver and helpers in test/support/traces.ts.
import { describe } from "node:test";
import { useTracesMesh } from "../support/traces.js";
import { createOrderTraceScenarios } from "./traces/create-order.scenario.js";
import { momoWebhookTraceScenarios } from "./traces/momo-webhook.scenario.js";
import { webhookMetricsScenarios } from "./traces/webhook-metrics.scenario.js";
import { everyExporterScenarios } from "./traces/every-exporter.scenario.js";

describe("traces across the mesh (OTLP from every app and sidecar)", { timeout: 420_000 }, () => {
  const h = useTracesMesh();
  createOrderTraceScenarios(h);
  momoWebhookTraceScenarios(h);
  webhookMetricsScenarios(h);
  everyExporterScenarios(h);
});
