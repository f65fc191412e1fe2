// Sales, the live dashboard and the stitched edge on the real mesh: generated history loaded
// through the public API, the SPEC §4 seed queries checked against an independent computation,
// graphql-ws subscriptions, exact upstream call counts, protection, partial results when a
// service is down, convergence after a dashboard restart, the graphql-http audit and graphql-ws
// close codes. One mesh for the suite; each scenario file in test/e2e/sales-dashboard/ is one
// theme (run in this order: later ones read the history the first loads), its helpers in
// test/support/sales-dashboard.ts.
import { describe } from "node:test";
import { useSalesDashboardMesh } from "../support/sales-dashboard.js";
import { historyScenarios } from "./sales-dashboard/history.scenario.js";
import { liveScenarios } from "./sales-dashboard/live.scenario.js";
import { edgeCallsAndCacheScenarios } from "./sales-dashboard/edge-calls-and-cache.scenario.js";
import { badInputAndFaultScenarios } from "./sales-dashboard/bad-input-and-faults.scenario.js";
import { loadAndRestartScenarios } from "./sales-dashboard/load-and-restart.scenario.js";
import { protocolScenarios } from "./sales-dashboard/protocols.scenario.js";

describe("sales, dashboard and the stitched edge", { timeout: 1_200_000 }, () => {
  const h = useSalesDashboardMesh();
  historyScenarios(h);
  liveScenarios(h);
  edgeCallsAndCacheScenarios(h);
  badInputAndFaultScenarios(h);
  loadAndRestartScenarios(h);
  protocolScenarios(h);
});
