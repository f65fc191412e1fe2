// The preload of a bundled app (scripts/build-bundles.ts bundles this file into each app's
// dist/bundle/telemetry.mjs; `node --import ./dist/bundle/telemetry.mjs dist/bundle/src/main.mjs`).
// The bundle loads the instrumented packages (express, pg) with require(), so the require hooks
// patch them: no ESM loader hook and no loader thread.
import { preloadTelemetry } from "./telemetry-preload.js";

await preloadTelemetry("require");
