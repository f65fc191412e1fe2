// Topics: an app publishes only what components/access.yaml gives it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { PHO_BO_TENANT, type ZeroTrustMesh } from "../../support/zero-trust.js";

export function topicScenarios(h: ZeroTrustMesh): void {
  test("topics: an app publishes and subscribes only what access.yaml gives it", async () => {
    const { sidecar } = h;
    const forged = JSON.stringify({
      specversion: "1.0",
      id: randomUUID(),
      source: "attacker",
      type: "payment.succeeded",
      datacontenttype: "application/json",
      data: { tenantId: PHO_BO_TENANT, orderId: randomUUID(), amountVnd: 1 },
    });
    for (const app of ["edge", "ai", "notifications", "sales", "dashboard"] as const) {
      const res = await sidecar(app, "publish/pubsub/payments", {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: forged,
      });
      assert.equal(res.status, 403, `${app} published to payments: ${res.status}`);
    }
    const unknownTopic = await sidecar("payments", "publish/pubsub/anything-else", {
      method: "POST",
      body: "{}",
    });
    assert.equal(unknownTopic.status, 403);
  });
}
