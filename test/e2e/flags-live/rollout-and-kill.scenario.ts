// A percentage rollout is stable per tenant and matches the shared hash; the kill switch overrides
// every rule, an explicit tenant on included.
import { test } from "node:test";
import { rolloutBucket } from "@lsp/contracts";
import { DEMO, edgeClient, eventually } from "../../support/graphql-client.js";
import {
  FLAGS_FIELDS,
  TENANT,
  enabled,
  flagStream,
  type Flag,
  type FlagsLiveMesh,
} from "../../support/flags-live.js";

export function rolloutAndKillScenarios(h: FlagsLiveMesh): void {
  test("a percentage rollout is stable per tenant and matches the hash; the kill switch overrides every rule", async () => {
    const { mesh, flags } = h;
    await flags("rollout", "ai.forecast", "50");
    // Phở Bò has its own rule (off, from ai-gates.scenario.ts); clear it so that the rollout decides.
    await edgeClient(
      mesh.edgeUrl,
      DEMO.phoBo.slug,
    )(`mutation { setFeatureFlag(key: "ai.forecast", enabled: null) { current } }`);
    for (const [slug, id] of [
      [DEMO.phoBo.slug, TENANT.phoBo],
      [DEMO.caPhe.slug, TENANT.caPhe],
    ] as const) {
      const expected = rolloutBucket("ai.forecast", id) < 50;
      await eventually(`${slug} at 50 %`, async () => {
        const r = await edgeClient(
          mesh.edgeUrl,
          slug,
        )<{ featureFlags: Flag[] }>(`{ featureFlags { ${FLAGS_FIELDS} } }`);
        return enabled(r.data?.featureFlags, "ai.forecast") === expected ? true : undefined;
      });
    }
    await flags("set", "ai.forecast", "on", "--tenant", DEMO.caPhe.slug);
    await flags("kill", "ai.forecast", "on");
    const stream = await flagStream(mesh, DEMO.caPhe.slug);
    try {
      await stream.until(
        "killed for a tenant with an explicit on",
        (s) => enabled(s, "ai.forecast") === false,
      );
      await flags("kill", "ai.forecast", "off");
      await stream.until("back on after the kill switch", (s) => enabled(s, "ai.forecast") === true);
    } finally {
      await stream.dispose();
    }
  });
}
