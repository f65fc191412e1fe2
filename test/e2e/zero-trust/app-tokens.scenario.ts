// App and Dapr API tokens: an app answers only its own sidecar, and a sidecar serves its API only
// to its own app.
import { test } from "node:test";
import assert from "node:assert/strict";
import { asSidecarOf } from "../../support/mesh.js";
import { PHO_BO_TENANT, type ZeroTrustMesh } from "../../support/zero-trust.js";

export function appTokenScenarios(h: ZeroTrustMesh): void {
  test("an app answers only its own sidecar: no app token, no answer", async () => {
    const { mesh } = h;
    for (const app of ["auth", "sales", "dashboard", "payments", "notifications", "ai"] as const) {
      const res = await fetch(`http://127.0.0.1:${mesh.plan.apps[app].app}/graphql`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-lsp-tenant-id": PHO_BO_TENANT,
          "x-lsp-role": "owner",
        },
        body: JSON.stringify({ query: "{ __typename }" }),
      });
      assert.equal(res.status, 401, app);
    }
    // Its sidecar, with the token, gets through (the genuine path the mesh uses).
    const ok = await fetch(`http://127.0.0.1:${mesh.plan.apps.sales.app}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...asSidecarOf(mesh, "sales") },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    assert.equal(ok.status, 200);
  });

  test("a sidecar refuses its own API to a caller without the app's Dapr API token", async () => {
    const { mesh } = h;
    const res = await fetch(`http://127.0.0.1:${mesh.plan.apps.edge.daprHttp}/v1.0/publish/pubsub/payments`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    assert.equal(res.status, 401);
  });
}
