// The preloads' common part (telemetry.ts, telemetry-bundled.ts). Switched off
// (OTEL_SDK_DISABLED=true), it loads nothing but its settings: the SDK is a dynamic import, made
// only when tracing is on.
import { telemetryConfig } from "./telemetry-config.js";
import type { ModuleHooks } from "./telemetry-sdk.js";

export async function preloadTelemetry(hooks: ModuleHooks): Promise<void> {
  const config = telemetryConfig(process.env);
  if (config.mode === "off") return;
  const { startTracing } = await import("./telemetry-sdk.js");
  const shutdown = await startTracing(config, hooks);
  // startService flushes spans on shutdown through this registry entry, so that it does not
  // import (and, under another module URL, start) the SDK a second time.
  (globalThis as Record<symbol, unknown>)[Symbol.for("lsp.telemetry.shutdown")] = shutdown;
}
