// The tracing SDK, loaded by the preload (telemetry.ts) only when telemetry is on: the tracer
// provider, the W3C propagators, the instrumentations the apps need and, only with an OTLP
// endpoint, the exporter. Not `@opentelemetry/sdk-node`: its NodeSDK loads every exporter (OTLP
// gRPC/protobuf/JSON, Zipkin, Prometheus) and the metrics and logs SDKs whether configured or not,
// and by default also starts OTLP metric and log pipelines nobody here collects (the collector
// takes traces only; metrics are Prometheus, logs are JSON lines).
import { DiagConsoleLogger, diag } from "@opentelemetry/api";
import {
  CompositePropagator,
  W3CBaggagePropagator,
  W3CTraceContextPropagator,
  diagLogLevelFromString,
} from "@opentelemetry/core";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import {
  detectResources,
  envDetector,
  hostDetector,
  processDetector,
  resourceFromAttributes,
} from "@opentelemetry/resources";
import { AlwaysOffSampler, BatchSpanProcessor, NodeTracerProvider } from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { TelemetryConfig } from "./telemetry-config.js";

/** Health probes and scrapes: no span for them. */
const ignoredPaths = new Set(["/healthz", "/readyz", "/metrics"]);

/**
 * How the instrumented modules (express, pg) reach the app: `esm` for the compiled dist/ (ESM
 * imports: the ESM loader hook is registered as well as the require hooks), `require` for a bundled
 * app (scripts/build-bundles.ts loads them with require(): the require hooks alone, no loader
 * thread).
 */
export type ModuleHooks = "esm" | "require";

/** Starts tracing; the returned function flushes the spans not yet exported and stops. */
export async function startTracing(
  config: Exclude<TelemetryConfig, { mode: "off" }>,
  hooks: ModuleHooks = "esm",
): Promise<() => Promise<void>> {
  const logLevel = process.env.OTEL_LOG_LEVEL;
  if (logLevel) diag.setLogger(new DiagConsoleLogger(), { logLevel: diagLogLevelFromString(logLevel) });

  const exporting = config.mode === "export";
  // Express and pg, imported from the compiled apps' ESM, are hooked through Node's ESM loader
  // hook, which runs a loader thread (about 10 MB, and every import waits on it). Only spans need
  // them (see below), so only an exporting app of the compiled form registers it; a bundled app
  // requires them (the require hooks patch them), node:http (required by Express) and undici
  // (diagnostics channels) are hooked without it. The hook wraps only the modules an
  // instrumentation names, not every module the app imports (wrapping all cost 35 MB per app).
  const hook = exporting && hooks === "esm" ? await registerEsmHook() : undefined;

  // service.name, then what the standard detectors add: OTEL_RESOURCE_ATTRIBUTES (the chart's
  // namespace, version, environment), the process and the host.
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: config.serviceName }).merge(
    detectResources({ detectors: [envDetector, processDetector, hostDetector] }),
  );

  let spanProcessors: BatchSpanProcessor[] = [];
  if (config.mode === "export") {
    // Loaded only here: without an endpoint no span is recorded, so nothing is exported.
    const { OTLPTraceExporter } = await import("@opentelemetry/exporter-trace-otlp-http");
    // Batches as OTEL_BSP_* say (defaults: every 5 s, 512 spans a batch, 2048 queued).
    spanProcessors = [new BatchSpanProcessor(new OTLPTraceExporter({ url: config.tracesUrl }))];
  }
  const provider = new NodeTracerProvider({
    resource,
    spanProcessors,
    // With an exporter, the sampler of OTEL_TRACES_SAMPLER(_ARG) (NodeTracerProvider reads them;
    // default parent-based, always on); without one, none is recorded.
    ...(config.mode === "propagate" ? { sampler: new AlwaysOffSampler() } : {}),
  });
  // The global tracer provider, AsyncLocalStorage context, and the W3C `traceparent`/`tracestate`
  // and `baggage` headers in and out.
  provider.register({
    propagator: new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  });

  // What must be hooked: node:http (every app's server: the incoming `traceparent` becomes the
  // request's context, so log lines carry its trace id) and undici (fetch, the sidecar client: the
  // context goes out to the next app through Dapr). Express and pg only add spans of their own
  // (Express layers, SQL statements), so they are hooked only when spans are exported: without an
  // exporter their wrappers are per-request and per-query work that nobody reads.
  const [express, pg] = exporting
    ? await Promise.all([
        import("@opentelemetry/instrumentation-express"),
        import("@opentelemetry/instrumentation-pg"),
      ])
    : [undefined, undefined];
  registerInstrumentations({
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => ignoredPaths.has((req.url ?? "").split("?")[0] ?? ""),
      }),
      new UndiciInstrumentation(),
      ...(express ? [new express.ExpressInstrumentation()] : []),
      ...(pg ? [new pg.PgInstrumentation()] : []),
    ],
  });
  // The instrumentations named their modules to the hook; the app's imports must wait for that.
  await hook?.waitForAllMessagesAcknowledged();

  return () => provider.shutdown().catch(() => undefined);
}

/** Registers the ESM loader hook of the OpenTelemetry instrumentations (see startTracing). */
async function registerEsmHook() {
  const [{ register }, { createAddHookMessageChannel }] = await Promise.all([
    import("node:module"),
    import("import-in-the-middle"),
  ]);
  const hook = createAddHookMessageChannel();
  register("@opentelemetry/instrumentation/hook.mjs", import.meta.url, hook.registerOptions);
  return hook;
}
