// Secrets only where they are used: each app's sidecar reads the keys its app needs and no other.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PHO_BO_TENANT, type ZeroTrustMesh } from "../../support/zero-trust.js";

export function secretScenarios(h: ZeroTrustMesh): void {
  test("secrets only where they are used", async () => {
    const { sidecar } = h;
    // The edge reads its export-link key and nothing else; ai, notifications and payments read no
    // key of the shared store.
    for (const key of ["auth-signing-keys", "auth-otp-pepper"])
      assert.notEqual((await sidecar("edge", `secrets/secretstore/${key}`)).status, 200, `edge read ${key}`);
    assert.equal((await sidecar("edge", "secrets/secretstore/edge-export-signing-key")).status, 200);
    const edgeBulk = await sidecar("edge", "secrets/secretstore/bulk");
    assert.ok(
      edgeBulk.status === 403 ||
        (edgeBulk.ok && Object.keys(await edgeBulk.json()).every((k) => k === "edge-export-signing-key")),
      "edge bulk",
    );
    for (const app of ["ai", "notifications", "payments"] as const) {
      for (const key of ["auth-signing-keys", "auth-otp-pepper"]) {
        const res = await sidecar(app, `secrets/secretstore/${key}`);
        assert.equal(res.status, 403, `${app} read ${key}`);
      }
      const bulk = await sidecar(app, "secrets/secretstore/bulk");
      assert.ok(
        bulk.status === 403 || (bulk.ok && Object.keys(await bulk.json()).length === 0),
        `${app} bulk`,
      );
    }
    // Merchant credentials are payments' alone.
    const merchantKey = `payments-momo-${PHO_BO_TENANT}`;
    for (const app of ["ai", "edge", "auth", "notifications"] as const) {
      const res = await sidecar(app, `secrets/merchant-credentials/${merchantKey}`);
      assert.notEqual(res.status, 200, `${app} read merchant credentials`);
    }
    assert.equal((await sidecar("payments", `secrets/merchant-credentials/${merchantKey}`)).status, 200);
    assert.equal((await sidecar("auth", "secrets/secretstore/auth-otp-pepper")).status, 200);
  });
}
