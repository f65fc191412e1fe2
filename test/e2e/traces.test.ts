// The trace proof (issue 7): the mesh exports the spans of every app (OTLP/HTTP: JSON from the
// TypeScript SDK, protobuf from Python) and of every daprd sidecar (OTLP/gRPC) to a small OTLP
// receiver in this test, and one request's trace must cross every hop with parent → child links:
//   createOrder at the edge → sales (service invocation) → outbox → pub/sub → dashboard
//   MoMo webhook at the edge → payments → pub/sub → sales, and notifications → pub/sub → edge
// The test sends its own W3C `traceparent`, so it knows the trace id to look for.
// LSP_TRACE_DUMP=<file> writes the received spans as JSON lines (for docs/observability.md).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes, randomUUID } from "node:crypto";
import { appendFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "../support/mesh.js";
import { CREATE_ORDER, DEMO, edgeAuthHeaders, edgeClient, eventually } from "../support/graphql-client.js";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { scrapeMetrics, sumOf, type Sample } from "../support/metrics.js";
import { openMomoOrder, postMomoIpn } from "../support/momo.js";

// ---- a small OTLP receiver -------------------------------------------------------------------

// The subset of opentelemetry-proto (collector/trace/v1, trace/v1, common/v1, resource/v1) this
// test reads; field numbers as in the published protos (protobuf skips the fields not listed).
const OTLP_PROTO = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; bytes parent_span_id = 4; string name = 5; int32 kind = 6;
  repeated KeyValue attributes = 9; repeated Link links = 13;
}
message Link { bytes trace_id = 1; bytes span_id = 2; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue { oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; } }
`;
const ExportRequest = protobuf.parse(OTLP_PROTO).root.lookupType("otlp.ExportTraceServiceRequest");

/** One received span, whichever wire it came over. */
interface ReceivedSpan {
  service: string;
  /** "daprd" for the sidecars' spans, else the app's SDK. */
  source: "daprd" | "app";
  scope: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  attributes: Record<string, string>;
  links: { traceId: string; spanId: string }[];
}

type AnyValueJson = {
  stringValue?: string;
  intValue?: string | number;
  boolValue?: boolean;
  doubleValue?: number;
};
type KeyValueJson = { key: string; value?: AnyValueJson };
interface ExportJson {
  resourceSpans?: {
    resource?: { attributes?: KeyValueJson[] };
    scopeSpans?: {
      scope?: { name?: string };
      spans?: {
        traceId: string;
        spanId: string;
        parentSpanId?: string;
        name: string;
        kind?: number;
        attributes?: KeyValueJson[];
        links?: { traceId: string; spanId: string }[];
      }[];
    }[];
  }[];
}

const attrs = (kvs: KeyValueJson[] = []): Record<string, string> =>
  Object.fromEntries(
    kvs.map((kv) => [
      kv.key,
      String(
        kv.value?.stringValue ?? kv.value?.intValue ?? kv.value?.boolValue ?? kv.value?.doubleValue ?? "",
      ),
    ]),
  );

/** protobuf → the OTLP/JSON shape (ids as hex), so that both wires share one reader. */
function decodeProtobuf(body: Uint8Array): ExportJson {
  const obj = ExportRequest.toObject(ExportRequest.decode(body), {
    bytes: String,
    longs: String,
  }) as ExportJson;
  const hex = (b64?: string) => (b64 ? Buffer.from(b64, "base64").toString("hex") : "");
  for (const rs of obj.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const sp of ss.spans ?? []) {
        sp.traceId = hex(sp.traceId);
        sp.spanId = hex(sp.spanId);
        sp.parentSpanId = hex(sp.parentSpanId);
        sp.links = (sp.links ?? []).map((l) => ({ traceId: hex(l.traceId), spanId: hex(l.spanId) }));
      }
  return obj;
}

function flatten(req: ExportJson, wire: "grpc" | "http"): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of req.resourceSpans ?? []) {
    const resource = attrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          service: resource["service.name"] ?? "?",
          // daprd is the only exporter over gRPC here (the launcher gives the apps the HTTP endpoint).
          source: wire === "grpc" ? "daprd" : "app",
          scope: ss.scope?.name ?? "",
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? "",
          name: s.name,
          kind: s.kind ?? 0,
          attributes: attrs(s.attributes),
          links: s.links ?? [],
        });
  }
  return out;
}

interface OtlpReceiver {
  httpUrl: string;
  grpcAddress: string;
  spans: ReceivedSpan[];
  close: () => Promise<void>;
}

async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const dump = process.env.LSP_TRACE_DUMP;
  const add = (batch: ReceivedSpan[]) => {
    spans.push(...batch);
    if (dump) for (const s of batch) appendFileSync(dump, `${JSON.stringify(s)}\n`);
  };

  // OTLP/HTTP: /v1/traces, JSON (TypeScript SDK) or protobuf (Python SDK).
  const http: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const json = (req.headers["content-type"] ?? "").includes("json");
      add(flatten(json ? (JSON.parse(body.toString("utf8")) as ExportJson) : decodeProtobuf(body), "http"));
      res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" });
      res.end(json ? "{}" : Buffer.alloc(0));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));

  // OTLP/gRPC: TraceService/Export (daprd).
  const server = new grpc.Server();
  const identity = (b: Buffer) => b;
  server.addService(
    {
      Export: {
        path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        requestStream: false,
        responseStream: false,
        requestSerialize: identity,
        requestDeserialize: identity,
        responseSerialize: identity,
        responseDeserialize: identity,
      },
    },
    {
      Export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        add(flatten(decodeProtobuf(call.request), "grpc"));
        callback(null, Buffer.alloc(0)); // an empty ExportTraceServiceResponse
      },
    },
  );
  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  return {
    httpUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}`,
    grpcAddress: `127.0.0.1:${grpcPort}`,
    spans,
    close: async () => {
      server.forceShutdown();
      await new Promise((r) => http.close(r));
    },
  };
}

// ---- trace helpers ---------------------------------------------------------------------------

/** A fresh W3C trace context, sampled. */
function newTraceparent(): { traceId: string; parent: string; header: string } {
  const traceId = randomBytes(16).toString("hex");
  const parent = randomBytes(8).toString("hex");
  return { traceId, parent, header: `00-${traceId}-${parent}-01` };
}

const SERVER = 2;
const label = (s: ReceivedSpan) => `${s.source === "daprd" ? `daprd(${s.service})` : s.service}: ${s.name}`;

/** The span's ancestors, nearest first, as far as the received spans reach. */
function ancestry(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let p = byId.get(span.parentSpanId); p && chain.length < 200; p = byId.get(p.parentSpanId))
    chain.push(p);
  return chain;
}

// ---- the tests -------------------------------------------------------------------------------

describe("traces across the mesh (OTLP from every app and sidecar)", { timeout: 420_000 }, () => {
  let mesh: Mesh;
  let otlp: OtlpReceiver;
  let gql: ReturnType<typeof edgeClient>;

  before(async () => {
    otlp = await startOtlpReceiver();
    mesh = await startTestMesh({ otlpHttpEndpoint: otlp.httpUrl, otlpGrpcEndpoint: otlp.grpcAddress });
    gql = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
  });
  after(async () => {
    await mesh?.stop();
    await otlp?.close();
  });

  /**
   * Waits until the trace has server spans of every named app (and of each `routes` entry: app and
   * a part of the span name) and no span whose parent is missing (exporters send in batches), the
   * test's own root excepted; returns its spans.
   */
  async function traceWith(
    traceId: string,
    rootParent: string,
    apps: string[],
    routes: [string, string][] = [],
  ): Promise<ReceivedSpan[]> {
    return eventually(
      `a complete trace with server spans of ${apps.join(", ")}`,
      async () => {
        const spans = otlp.spans.filter((s) => s.traceId === traceId);
        const ids = new Set(spans.map((s) => s.spanId));
        const complete = spans.every(
          (s) => !s.parentSpanId || s.parentSpanId === rootParent || ids.has(s.parentSpanId),
        );
        const ok =
          apps.every((a) => spans.some((s) => s.service === a && s.source === "app" && s.kind === SERVER)) &&
          routes.every(([a, route]) =>
            spans.some(
              (s) => s.service === a && s.source === "app" && s.kind === SERVER && s.name.includes(route),
            ),
          );
        return ok && complete ? spans : undefined;
      },
      60_000,
    );
  }

  /** Asserts that `child` descends from `ancestor` through parent links only. */
  function assertDescends(spans: ReceivedSpan[], child: ReceivedSpan, ancestor: ReceivedSpan) {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const chain = ancestry(child, byId);
    assert.ok(
      chain.includes(ancestor),
      `${label(child)} does not descend from ${label(ancestor)}; its ancestry: ${chain.map(label).join(" ← ") || "(none)"}`,
    );
    return chain;
  }

  test("createOrder: one trace edge → sales → pub/sub → dashboard, parent → child all the way", async () => {
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

    const spans = await traceWith(traceId, parent, ["edge", "sales", "dashboard"]);
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

  test("MoMo webhook: one trace edge → payments → pub/sub → sales and notifications → edge subscription", async () => {
    // An open order and its started payment, then the provider's signed IPN with our trace context.
    const payment = await openMomoOrder(gql);
    const { traceId, parent, header } = newTraceparent();
    const res = await postMomoIpn(mesh, payment, { traceparent: header });
    assert.equal(res.status, 204, await res.text());

    // The edge's delivery of the feed entry comes last, and late when the edge's sidecar holds
    // deliveries while a loaded machine makes the edge miss a health probe: wait for it by name.
    const spans = await traceWith(
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

  test("metrics: a webhook's payment pushed to a graphql-ws subscriber moves the business, edge and webhook-to-screen metrics", async () => {
    const metricsOf = (app: "edge" | "sales") =>
      scrapeMetrics(`http://127.0.0.1:${mesh.plan.apps[app].ops}/metrics`);
    const delta = (before: Sample[], after: Sample[], name: string, labels: Record<string, string> = {}) =>
      sumOf(after, name, labels) - sumOf(before, name, labels);
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
      // graphql-ws does not acknowledge a subscription: a cash order's update shows it is live.
      await eventually("the subscription receives updates", async () => {
        const r = await gql(CREATE_ORDER, {
          input: {
            locationId: DEMO.phoBo.hoanKiem,
            idempotencyKey: randomUUID(),
            paymentMethod: "cash",
            lines: [{ itemId: DEMO.phoBo.traDa, quantity: 1 }],
          },
        });
        assert.ok(!r.errors, JSON.stringify(r.errors));
        await new Promise((resolve) => setTimeout(resolve, 1000));
        return pushed.length > 0 ? true : undefined;
      });
      const salesBefore = await metricsOf("sales");
      const payment = await openMomoOrder(gql);
      const res = await postMomoIpn(mesh, payment);
      assert.equal(res.status, 204, await res.text());

      // The payment's update reaches the screen, and the edge timed it from the payment.
      const edgeAfter = await eventually("edge_webhook_to_screen_seconds observed", async () => {
        const m = await metricsOf("edge");
        return delta(edgeBefore, m, "edge_webhook_to_screen_seconds_count") >= 1 ? m : undefined;
      });
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
    // A subscription is counted when its stream ends (graphql-ws operations go through envelop too).
    await eventually("the ended subscription is counted", async () => {
      const m = await metricsOf("edge");
      const n = delta(edgeBefore, m, "edge_graphql_operations_total", {
        operationName: "LiveTiles",
        operationType: "subscription",
      });
      return n === 1 ? true : undefined;
    });
  });

  test("every app and every sidecar exported spans", () => {
    const apps = ["auth", "sales", "dashboard", "payments", "notifications", "ai", "edge"];
    for (const app of apps) {
      assert.ok(
        otlp.spans.some((s) => s.service === app && s.source === "app"),
        `no span from the ${app} app`,
      );
      assert.ok(
        otlp.spans.some((s) => s.service === app && s.source === "daprd"),
        `no span from ${app}'s sidecar`,
      );
    }
  });
});
