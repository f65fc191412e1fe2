// ai.recommendations (platform) and ai.forecast (owner-controllable) switch live for one tenant,
// the other tenant unaffected (fenced by its own later change). Leaves Phở Bò's ai.forecast off and
// Cà Phê's dashboard.preview on for the scenarios after it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, edgeClient } from "../../support/graphql-client.js";
import { scrapeMetrics, sumOf } from "../../support/metrics.js";
import { enabled, flagStream, type FlagsLiveMesh } from "../../support/flags-live.js";

export function aiGateScenarios(h: FlagsLiveMesh): void {
  test("ai.recommendations and ai.forecast switch live for one tenant: empty list and no actor call; the other tenant unaffected (fenced)", async () => {
    const { mesh, flags } = h;
    const phoBo = await flagStream(mesh, DEMO.phoBo.slug);
    const caPhe = await flagStream(mesh, DEMO.caPhe.slug);
    try {
      await phoBo.until("pho bo's first set", (s) => enabled(s, "ai.recommendations") === true);
      await caPhe.until("ca phe's first set", (s) => enabled(s, "ai.recommendations") === true);
      const caPheBefore = caPhe.sets.length;

      const { stdout } = await flags("set", "ai.recommendations", "off", "--tenant", DEMO.phoBo.slug);
      assert.match(stdout, /ai\.recommendations \(tenant .*\): \(none\) → off/);
      await phoBo.until(
        "pho bo sees ai.recommendations off",
        (s) => enabled(s, "ai.recommendations") === false,
      );

      const calls = async () =>
        sumOf(
          await scrapeMetrics(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/metrics`),
          "edge_ai_call_duration_seconds_count",
          {
            method: "Recommendations",
          },
        );
      const RECS = `query ($id: ID!) { location(id: $id) { recommendations { kind } forecast(days: 7) { method note } } }`;
      const before = await calls();
      const off = await edgeClient(mesh.edgeUrl, DEMO.phoBo.slug)<{
        location: { recommendations: unknown[]; forecast: { method: string } };
      }>(RECS, { id: DEMO.phoBo.hoanKiem });
      assert.deepEqual(off.data?.location.recommendations, [], JSON.stringify(off.errors));
      assert.equal(await calls(), before, "no actor call while the flag is off");
      const on = await edgeClient(mesh.edgeUrl, DEMO.caPhe.slug)<{
        location: { recommendations: unknown[] };
      }>(RECS, { id: DEMO.caPhe.quan1 });
      assert.ok(on.data?.location.recommendations, JSON.stringify(on.errors));
      assert.equal(await calls(), before + 1, "the other tenant's recommendations still ask the actor");

      // ai.forecast is owner-controllable: Phở Bò's owner switches it off for the restaurant.
      const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
      const switched = await owner<{ setFeatureFlag: { current: string; changed: boolean } }>(
        `mutation { setFeatureFlag(key: "ai.forecast", enabled: false) { current changed } }`,
      );
      assert.deepEqual(
        switched.data?.setFeatureFlag,
        { current: "off", changed: true },
        JSON.stringify(switched.errors),
      );
      await phoBo.until("pho bo sees ai.forecast off", (s) => enabled(s, "ai.forecast") === false);
      const forecast = await owner<{ location: { forecast: { method: string } } }>(RECS, {
        id: DEMO.phoBo.hoanKiem,
      });
      assert.equal(forecast.data?.location.forecast.method, "disabled");

      // Fence: Cà Phê's own change. Once its subscription shows it, every earlier change has been
      // through the same store, notification and edge: it must have caused nothing here.
      await flags("set", "dashboard.preview", "on", "--tenant", DEMO.caPhe.slug);
      await caPhe.until("ca phe sees its own change", (s) => enabled(s, "dashboard.preview") === true);
      assert.equal(caPhe.sets.length, caPheBefore + 1, "Phở Bò's switches pushed nothing to Cà Phê");
      assert.equal(enabled(caPhe.sets.at(-1), "ai.recommendations"), true);
      assert.equal(enabled(caPhe.sets.at(-1), "ai.forecast"), true);

      // Back on, live again.
      await flags("set", "ai.recommendations", "inherit", "--tenant", DEMO.phoBo.slug);
      await phoBo.until(
        "pho bo sees ai.recommendations back",
        (s) => enabled(s, "ai.recommendations") === true,
      );
    } finally {
      await phoBo.dispose();
      await caPhe.dispose();
    }
  });
}
