// Loaded with `node --import @lsp/runtime/telemetry` so that tracing and the ESM loader hook are in
// place before express, pg or undici are imported. Switched off (OTEL_SDK_DISABLED=true), it loads
// nothing but its settings: the SDK is a dynamic import, made only when tracing is on.
import { telemetryConfig } from "./telemetry-config.js";

const config = telemetryConfig(process.env);
if (config.mode !== "off") {
  const { startTracing } = await import("./telemetry-sdk.js");
  const shutdown = await startTracing(config);
  // startService flushes spans on shutdown through this registry entry, so that it does not
  // import (and, under another module URL, start) the SDK a second time.
  (globalThis as Record<symbol, unknown>)[Symbol.for("lsp.telemetry.shutdown")] = shutdown;
}
