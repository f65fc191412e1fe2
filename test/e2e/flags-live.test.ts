// Feature flags on the real mesh (issue 16): the `flags` Dapr configuration store (PostgreSQL,
// trigger + LISTEN/NOTIFY) changed by the platform's CLI and by owners, seen live by the edge and
// payments through their sidecars' configuration subscriptions, with no restart. Each gate
// switches per tenant while the other tenant is unaffected (checked with a fence: a later change
// of the other tenant's own flag, after which its subscription must have seen exactly that).
// One mesh for the suite; each scenario file in test/e2e/flags-live/ is one theme (run in this
// order: later ones start from the flag rules the earlier ones left), the mesh, the flags CLI and
// the flag stream in test/support/flags-live.ts.
import { describe } from "node:test";
import { useFlagsLiveMesh } from "../support/flags-live.js";
import { aiGateScenarios } from "./flags-live/ai-gates.scenario.js";
import { vnpayScenarios } from "./flags-live/vnpay.scenario.js";
import { trustedDocumentScenarios } from "./flags-live/trusted-documents.scenario.js";
import { whoMaySwitchScenarios } from "./flags-live/who-may-switch.scenario.js";
import { rolloutAndKillScenarios } from "./flags-live/rollout-and-kill.scenario.js";
import { dashboardPreviewScenarios } from "./flags-live/dashboard-preview.scenario.js";

describe("feature flags, live through the Dapr configuration API", { timeout: 600_000 }, () => {
  const h = useFlagsLiveMesh();
  aiGateScenarios(h);
  vnpayScenarios(h);
  trustedDocumentScenarios(h);
  whoMaySwitchScenarios(h);
  rolloutAndKillScenarios(h);
  dashboardPreviewScenarios(h);
});
