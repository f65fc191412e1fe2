// The traces suite's OTLP receiver, mesh and helpers (test/e2e/traces.test.ts runs its scenario
// files in test/e2e/traces/ against one mesh whose apps and sidecars export their spans here).
// LSP_TRACE_DUMP=<file> writes the received spans as JSON lines (for docs/observability.md).
import { after, before } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { appendFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import * as grpc from "@grpc/grpc-js";
import protobuf from "protobufjs";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { startTestMesh } from "./mesh.js";
import { DEMO, edgeClient, eventually } from "./graphql-client.js";

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
export interface ReceivedSpan {
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

export interface OtlpReceiver {
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
export function newTraceparent(): { traceId: string; parent: string; header: string } {
  const traceId = randomBytes(16).toString("hex");
  const parent = randomBytes(8).toString("hex");
  return { traceId, parent, header: `00-${traceId}-${parent}-01` };
}

/** OTLP SpanKind SERVER. */
export const SERVER = 2;
export const label = (s: ReceivedSpan) =>
  `${s.source === "daprd" ? `daprd(${s.service})` : s.service}: ${s.name}`;

/** The span's ancestors, nearest first, as far as the received spans reach. */
function ancestry(span: ReceivedSpan, byId: Map<string, ReceivedSpan>): ReceivedSpan[] {
  const chain: ReceivedSpan[] = [];
  for (let p = byId.get(span.parentSpanId); p && chain.length < 200; p = byId.get(p.parentSpanId))
    chain.push(p);
  return chain;
}

// ---- the suite's mesh ------------------------------------------------------------------------

/** What every traces scenario uses; the fields are set by the suite's `before`. */
export interface TracesMesh {
  mesh: Mesh;
  /** The receiver every app and sidecar of the mesh exports its spans to. */
  otlp: OtlpReceiver;
  /** The edge as Phở Bò's demo owner. */
  gql: ReturnType<typeof edgeClient>;
}

/** Starts the OTLP receiver and a mesh exporting to it in a `before` of the calling describe. */
export function useTracesMesh(): TracesMesh {
  const h = {} as TracesMesh;
  before(async () => {
    h.otlp = await startOtlpReceiver();
    h.mesh = await startTestMesh({ otlpHttpEndpoint: h.otlp.httpUrl, otlpGrpcEndpoint: h.otlp.grpcAddress });
    h.gql = edgeClient(h.mesh.edgeUrl, DEMO.phoBo.slug);
  });
  after(async () => {
    await h.mesh?.stop();
    await h.otlp?.close();
  });
  return h;
}

/**
 * Waits until the trace has server spans of every named app (and of each `routes` entry: app and
 * a part of the span name) and no span whose parent is missing (exporters send in batches), the
 * test's own root excepted; returns its spans.
 */
export async function traceWith(
  otlp: OtlpReceiver,
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

/** Asserts that `child` descends from `ancestor` through parent links only; returns its ancestry. */
export function assertDescends(
  spans: ReceivedSpan[],
  child: ReceivedSpan,
  ancestor: ReceivedSpan,
): ReceivedSpan[] {
  const byId = new Map(spans.map((s) => [s.spanId, s]));
  const chain = ancestry(child, byId);
  assert.ok(
    chain.includes(ancestor),
    `${label(child)} does not descend from ${label(ancestor)}; its ancestry: ${chain.map(label).join(" ← ") || "(none)"}`,
  );
  return chain;
}
