// Every app (OTLP/HTTP from its SDK) and every daprd sidecar (OTLP/gRPC) exported spans during the
// suite (run last: the earlier scenarios' traffic reaches every app).
import { test } from "node:test";
import assert from "node:assert/strict";
import type { TracesMesh } from "../../support/traces.js";

export function everyExporterScenarios(h: TracesMesh): void {
  test("every app and every sidecar exported spans", () => {
    const { otlp } = h;
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
}
