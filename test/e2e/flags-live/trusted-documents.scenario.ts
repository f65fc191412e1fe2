// edge.trusted_documents per tenant: ad-hoc documents refused for one tenant while the other's run.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO, edgeClient, eventually } from "../../support/graphql-client.js";
import { type Flag, type FlagsLiveMesh } from "../../support/flags-live.js";

export function trustedDocumentScenarios(h: FlagsLiveMesh): void {
  test("trusted-documents mode per tenant: on for Phở Bò, its ad-hoc documents are refused while Cà Phê's run", async () => {
    const { mesh, flags } = h;
    const phoBo = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const caPhe = edgeClient(mesh.edgeUrl, DEMO.caPhe.slug);
    const QUERY = `{ featureFlags { key } }`;
    await flags("set", "edge.trusted_documents", "on", "--tenant", DEMO.phoBo.slug);
    await eventually("Phở Bò's ad-hoc document refused", async () => {
      const r = await phoBo(QUERY);
      return r.errors?.[0]?.extensions?.code === "PERSISTED_QUERY_ONLY" ? r : undefined;
    });
    const other = await caPhe<{ featureFlags: Flag[] }>(QUERY);
    assert.ok(other.data?.featureFlags.length, JSON.stringify(other.errors));
    await flags("set", "edge.trusted_documents", "off", "--tenant", DEMO.phoBo.slug);
    await eventually("Phő Bò's documents run again", async () => {
      const r = await phoBo<{ featureFlags: Flag[] }>(QUERY);
      return r.data?.featureFlags.length ? r : undefined;
    });
  });
}
