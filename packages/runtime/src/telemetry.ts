// Loaded with `node --import @lsp/runtime/telemetry` so that tracing and the ESM loader hook are in
// place before express, pg or undici are imported (the compiled dist/ and tsx: ESM imports).
import { preloadTelemetry } from "./telemetry-preload.js";

await preloadTelemetry("esm");
