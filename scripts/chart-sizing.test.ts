import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { loadAppManifest } from "./app-manifest.js";
import {
  chartAppMemory,
  chartSidecarMemory,
  derivedAppMemory,
  derivedMemoryOfApps,
  memoryTable,
  readMeshMemory,
  readmeWithTable,
  README_FILE,
  VALUES_FILE,
  valuesWithDerivedMemory,
} from "./chart-sizing.js";

const figures = readMeshMemory();

test("the committed figures cover every app of the manifest and its sidecar", () => {
  for (const app of loadAppManifest().apps) {
    assert.ok(figures.processes[app.name], `no figures for ${app.name}`);
    assert.ok(figures.processes[`${app.name}.daprd`], `no figures for ${app.name}'s sidecar`);
  }
  assert.equal(figures.load.errors, 0, "the loaded phase of the measurement had errors");
});

test("the chart's memory requests, limits and heaps are the ones derived from the measured figures", () => {
  const chart = chartAppMemory(readFileSync(VALUES_FILE, "utf8"));
  for (const [name, want] of derivedMemoryOfApps(figures))
    assert.deepEqual(chart.get(name), want, `${name}: run \`npx tsx scripts/chart-sizing.ts --write\``);
});

test("the README's memory table is generated from the same figures", () => {
  const readme = readFileSync(README_FILE, "utf8");
  assert.equal(
    readmeWithTable(
      readme,
      memoryTable(
        figures,
        derivedMemoryOfApps(figures),
        chartSidecarMemory(readFileSync(VALUES_FILE, "utf8")),
      ),
    ),
    readme,
    "run `npx tsx scripts/chart-sizing.ts --write`",
  );
});

test("the rule: a quarter over the loaded peak, twice that as the limit, V8's heap 128 MB under it", () => {
  assert.deepEqual(derivedAppMemory({ runtime: "node" }, { loadedRssMb: 147 }), {
    requestMi: 192,
    limitMi: 384,
    heapMb: 256,
  });
  // Rounded up to 16 Mi; a Python app has no V8 heap.
  assert.deepEqual(derivedAppMemory({ runtime: "python" }, { loadedRssMb: 275 }), {
    requestMi: 352,
    limitMi: 704,
  });
  assert.deepEqual(derivedAppMemory({ runtime: "node" }, { loadedRssMb: 128 }), {
    requestMi: 160,
    limitMi: 320,
    heapMb: 192,
  });
});

test("rewriting values.yaml changes the figures and keeps its comments", async () => {
  const text = [
    "# the apps",
    "apps:",
    "  sales:",
    "    # sized from the mesh",
    "    resources:",
    "      requests: { cpu: 100m, memory: 224Mi }",
    "      limits: { cpu: '1', memory: 384Mi }",
    "    heapMb: 256",
    "    actorTypes: [LocationInsights]",
    "",
  ].join("\n");
  const out = await valuesWithDerivedMemory(
    text,
    new Map([["sales", { requestMi: 160, limitMi: 320, heapMb: 192 }]]),
  );
  assert.deepEqual(chartAppMemory(out).get("sales"), { requestMi: 160, limitMi: 320, heapMb: 192 });
  assert.match(out, /# the apps/);
  assert.match(out, /# sized from the mesh/);
  assert.match(out, /requests: \{ cpu: 100m, memory: 160Mi \}/);
  assert.match(out, /actorTypes: \[LocationInsights\]/, "formatted as prettier formats the repository");
});

test("a README without the table's markers is refused, not silently left as it was", () => {
  assert.throws(() => readmeWithTable("# LSP\n", "| table |"), /lacks the markers/);
});
