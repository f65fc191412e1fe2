// Request limits at the edge: other content types are never executed, bodies past the limit are
// refused before they are read, and the stitching's merge fields are not public.
import { test } from "node:test";
import assert from "node:assert/strict";
import { DEMO } from "../../support/graphql-client.js";
import { type ZeroTrustMesh } from "../../support/zero-trust.js";

export function limitScenarios(h: ZeroTrustMesh): void {
  test("limits: other content types are never executed (415, 413 past the body limit); merge fields are not public", async () => {
    const { mesh, gql } = h;
    const big = "{ __typename }".padEnd(3 * 1024 * 1024, " ");
    // Another content type is never executed: refused once read, and read no further than the
    // body limit (a large one is 413 before its end arrives).
    for (const type of ["application/graphql", "application/x-www-form-urlencoded", "text/plain"]) {
      for (const [body, status] of [
        ["{ __typename }", 415],
        [big, 413],
      ] as const) {
        const res = await fetch(mesh.edgeUrl, { method: "POST", headers: { "content-type": type }, body });
        assert.equal(res.status, status, `${type}, ${body.length} bytes`);
      }
    }
    const oversized = await fetch(mesh.edgeUrl, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: big }),
    });
    assert.equal(oversized.status, 413);
    for (const field of [
      "_sdl",
      `_salesLocations(ids: ["${DEMO.phoBo.hoanKiem}"]) { id }`,
      `_dashboardLocations(ids: ["${DEMO.phoBo.hoanKiem}"]) { id }`,
      "_notificationsLive",
    ]) {
      const res = await gql(`{ ${field} }`);
      assert.equal(
        res.errors?.[0]?.extensions?.code,
        "GRAPHQL_VALIDATION_FAILED",
        `${field}: ${JSON.stringify(res)}`,
      );
    }
    // The stitched fields those merges serve still resolve.
    const stitched = await gql<{ location: { todayOrders: number; menu: unknown[] } }>(
      `{ location(id: "${DEMO.phoBo.hoanKiem}") { todayOrders menu { name } } }`,
    );
    assert.equal(stitched.errors, undefined, JSON.stringify(stitched.errors));
    assert.ok(stitched.data?.location.menu.length);
  });
}
