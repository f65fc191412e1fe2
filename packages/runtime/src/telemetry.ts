// Loaded with `node --import @lsp/runtime/telemetry` so that the OpenTelemetry SDK and the ESM
// loader hook are in place before express, pg or undici are imported.
import { register } from "node:module";
import { createAddHookMessageChannel } from "import-in-the-middle";
import { NodeSDK, tracing } from "@opentelemetry/sdk-node";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { ExpressInstrumentation } from "@opentelemetry/instrumentation-express";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { UndiciInstrumentation } from "@opentelemetry/instrumentation-undici";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

// The ESM hook wraps only the modules an instrumentation hooks (http, express, pg, undici), not
// every module the app imports: wrapping them all cost each app about 35 MB of RSS.
const { registerOptions, waitForAllMessagesAcknowledged } = createAddHookMessageChannel();
register("@opentelemetry/instrumentation/hook.mjs", import.meta.url, registerOptions);

const serviceName = process.env.OTEL_SERVICE_NAME ?? "unknown";
// Without an endpoint nothing is recorded: spans are non-recording (the sampler says no), which
// still gives trace ids in logs and W3C context through Dapr, but no span objects, attributes or
// events per request that nobody would export (measured on the edge's hot path). With an
// endpoint, the standard OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG choose the sampling
// (default: parent-based, always on).
const endpoint = process.env.OTEL_EXPORTER_OTLP_ENDPOINT;

const ignoredPaths = new Set(["/healthz", "/readyz", "/metrics"]);

const sdk = new NodeSDK({
  resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
  ...(endpoint
    ? { traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, "")}/v1/traces` }) }
    : { sampler: new tracing.AlwaysOffSampler() }),
  instrumentations: [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => ignoredPaths.has((req.url ?? "").split("?")[0] ?? ""),
    }),
    new ExpressInstrumentation(),
    new PgInstrumentation(),
    new UndiciInstrumentation(),
  ],
});
sdk.start();
// The instrumentations named their modules to the hook; the app's imports must wait for that.
await waitForAllMessagesAcknowledged();

// startService flushes spans on shutdown through this registry entry, so that it does not import
// (and, under another module URL, start) the SDK a second time.
(globalThis as Record<symbol, unknown>)[Symbol.for("lsp.telemetry.shutdown")] = () =>
  sdk.shutdown().catch(() => undefined);
