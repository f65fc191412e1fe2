// The preload in a real `node --import` child, in each of its modes: an app with an Express route
// that logs and calls out with fetch, a request from this test with its own `traceparent`, and a
// small OTLP/HTTP receiver. Proves what the apps rely on: the server span named by its route
// under the caller's trace, service.name and OTEL_RESOURCE_ATTRIBUTES on the resource, the trace
// id on log lines and in the outgoing `traceparent`, no span for probes, the spans flushed on
// shutdown; without an endpoint the same ids and nothing recorded; switched off, nothing at all.
// Each scenario runs under both preloads: telemetry.ts with an app that imports express (the
// compiled dist/: ESM hook), telemetry-bundled.ts with one that require()s it, as a bundle does
// (scripts/build-bundles.ts: the require hooks alone).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
/** The preload under test and how its app loads express. */
const FORMS = [
  {
    name: "compiled",
    preload: path.join(here, "telemetry.ts"),
    loadExpress: '(await import("express")).default',
  },
  {
    name: "bundled",
    preload: path.join(here, "telemetry-bundled.ts"),
    loadExpress: '(await import("node:module")).createRequire(import.meta.url)("express")',
  },
] as const;
type Form = (typeof FORMS)[number];
const logger = path.join(here, "logger.ts");

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}
interface Export {
  resourceSpans: {
    resource: { attributes: { key: string; value: { stringValue?: string } }[] };
    scopeSpans: { spans: ExportedSpan[] }[];
  }[];
}

// The test's server: the OTLP receiver (/v1/traces, OTLP/JSON) and where the app calls out to
// (/downstream: the traceparent it was sent).
const exports: Export[] = [];
const downstream: (string | undefined)[] = [];
let server: Server;
let base: string;
before(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.url === "/v1/traces")
        exports.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Export);
      if (req.url === "/downstream") downstream.push(req.headers.traceparent as string | undefined);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

// The app: ESM like the compiled apps; stops on SIGTERM through the preload's shutdown hook, as
// startService does. Loaded from the working directory so that a require() finds express.
const APP = (form: Form, downstreamUrl: string) => `
const hasShutdownHook = typeof globalThis[Symbol.for("lsp.telemetry.shutdown")] === "function";
const { default: express } = { default: ${form.loadExpress} };
const { createLogger } = await import(${JSON.stringify(logger)});
const log = createLogger("telemetry-test");
const app = express();
app.get("/items/:id", async (req, res) => {
  log.info({ id: req.params.id }, "handled");
  await fetch(${JSON.stringify(downstreamUrl)});
  res.json({ id: req.params.id });
});
app.get("/healthz", (_req, res) => res.send("ok"));
const server = app.listen(0, "127.0.0.1", () =>
  process.stdout.write(JSON.stringify({ port: server.address().port, hasShutdownHook }) + "\\n"),
);
process.once("SIGTERM", async () => {
  server.close();
  const flush = globalThis[Symbol.for("lsp.telemetry.shutdown")];
  if (typeof flush === "function") await flush();
  process.exit(0);
});
`;

interface Run {
  logs: Record<string, unknown>[];
  hasShutdownHook: boolean;
}

/** Starts the app under the preload with `env`, sends `traceparent` to a route and a probe, stops it. */
async function runApp(form: Form, env: Record<string, string>, traceparent: string): Promise<Run> {
  const child = spawn(
    process.execPath,
    [
      "--import",
      "tsx",
      "--import",
      form.preload,
      "--input-type=module",
      "-e",
      APP(form, `${base}/downstream`),
    ],
    {
      env: {
        PATH: process.env.PATH,
        OTEL_SERVICE_NAME: "telemetry-test",
        OTEL_RESOURCE_ATTRIBUTES: "service.namespace=lsp,deployment.environment.name=unit",
        ...env,
      },
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const lines = createInterface({ input: child.stdout });
  const logs: Record<string, unknown>[] = [];
  const ready = new Promise<{ port: number; hasShutdownHook: boolean }>((resolve, reject) => {
    lines.on("line", (line) => {
      const obj = JSON.parse(line) as Record<string, unknown>;
      if (typeof obj.port === "number") resolve(obj as { port: number; hasShutdownHook: boolean });
      else logs.push(obj);
    });
    void exited.then((code) => reject(new Error(`the app exited (${code}) before listening`)));
  });
  const { port, hasShutdownHook } = await ready;
  const url = `http://127.0.0.1:${port}`;
  assert.equal((await fetch(`${url}/items/42`, { headers: { traceparent } })).status, 200);
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  return { logs, hasShutdownHook };
}

function newTrace() {
  const traceId = randomBytes(16).toString("hex");
  const parent = randomBytes(8).toString("hex");
  return { traceId, parent, header: `00-${traceId}-${parent}-01` };
}

const SERVER = 2;

for (const form of FORMS) {
  test(`${form.name}: with an endpoint: the route's server span under the caller's trace, flushed on shutdown`, async () => {
    const { traceId, parent, header } = newTrace();
    // A schedule delay far beyond the test: the spans can only come from the shutdown flush.
    const run = await runApp(
      form,
      { OTEL_EXPORTER_OTLP_ENDPOINT: base, OTEL_BSP_SCHEDULE_DELAY: "600000" },
      header,
    );
    assert.ok(run.hasShutdownHook);

    const received = exports.flatMap((e) =>
      e.resourceSpans.flatMap((rs) => {
        const resource = Object.fromEntries(rs.resource.attributes.map((a) => [a.key, a.value.stringValue]));
        return rs.scopeSpans.flatMap((ss) => ss.spans.map((span) => ({ span, resource })));
      }),
    );
    const mine = received.filter((r) => r.span.traceId === traceId);
    const serverSpan = mine.find((r) => r.span.kind === SERVER && r.span.parentSpanId === parent);
    assert.ok(serverSpan, `no server span under the caller: ${mine.map((r) => r.span.name).join(", ")}`);
    assert.equal(serverSpan.span.name, "GET /items/:id");
    assert.equal(serverSpan.resource["service.name"], "telemetry-test");
    assert.equal(serverSpan.resource["service.namespace"], "lsp");
    assert.equal(serverSpan.resource["deployment.environment.name"], "unit");
    // The outgoing call (undici) is a span of the same trace, and carries it downstream.
    assert.ok(mine.some((r) => r.span.name === "GET" && r.span.kind === 3));
    assert.match(downstream.at(-1) ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));
    // The probe made no span.
    assert.ok(!received.some((r) => r.span.name.includes("healthz")));
    // The handler's log line carries the trace id.
    assert.equal(run.logs.find((l) => l.msg === "handled")?.trace_id, traceId);
  });

  test(`${form.name}: without an endpoint: nothing exported, the trace id still in logs and sent on`, async () => {
    const { traceId, header } = newTrace();
    const exportsBefore = exports.length;
    const downstreamBefore = downstream.length;
    const run = await runApp(form, {}, header);
    assert.equal(downstream.length, downstreamBefore + 1);
    assert.ok(run.hasShutdownHook);
    assert.equal(run.logs.find((l) => l.msg === "handled")?.trace_id, traceId);
    // Sent on as not sampled: nothing downstream records it either (the sampler said no here).
    assert.match(downstream.at(-1) ?? "", new RegExp(`^00-${traceId}-[0-9a-f]{16}-00$`));
    assert.equal(exports.length, exportsBefore);
  });

  test(`${form.name}: OTEL_SDK_DISABLED=true: no SDK, no context, no shutdown hook`, async () => {
    const { header } = newTrace();
    const downstreamBefore = downstream.length;
    const run = await runApp(form, { OTEL_SDK_DISABLED: "true", OTEL_EXPORTER_OTLP_ENDPOINT: base }, header);
    assert.equal(downstream.length, downstreamBefore + 1);
    assert.equal(run.hasShutdownHook, false);
    const handled = run.logs.find((l) => l.msg === "handled");
    assert.ok(handled);
    assert.equal(handled.trace_id, undefined);
    assert.equal(downstream.at(-1), undefined);
  });
}
