// Zero trust inside the mesh (issue 12): each attack of the "Why", tried against the real
// mesh (mTLS with Sentry, access control, tokens, scopes), is refused with a typed error or the
// provider's exact code, while the genuine flow next to it still passes.
// One mesh for the suite; each scenario file in test/e2e/zero-trust/ is one theme (run in this
// order), the mesh and helpers in test/support/zero-trust.ts.
import { describe } from "node:test";
import { useZeroTrustMesh } from "../support/zero-trust.js";
import { theDoorScenarios } from "./zero-trust/the-door.scenario.js";
import { appTokenScenarios } from "./zero-trust/app-tokens.scenario.js";
import { identityScenarios } from "./zero-trust/identity.scenario.js";
import { secretScenarios } from "./zero-trust/secrets.scenario.js";
import { topicScenarios } from "./zero-trust/topics.scenario.js";
import { tokenScenarios } from "./zero-trust/tokens.scenario.js";
import { limitScenarios } from "./zero-trust/limits.scenario.js";
import { graphqlWsScenarios } from "./zero-trust/graphql-ws.scenario.js";
import { webhookScenarios } from "./zero-trust/webhooks.scenario.js";

describe(
  "zero trust: the edge is the only door and every call proves who makes it",
  { timeout: 600_000 },
  () => {
    const h = useZeroTrustMesh();
    theDoorScenarios(h);
    appTokenScenarios(h);
    identityScenarios(h);
    secretScenarios(h);
    topicScenarios(h);
    tokenScenarios(h);
    limitScenarios(h);
    graphqlWsScenarios(h);
    webhookScenarios(h);
  },
);
