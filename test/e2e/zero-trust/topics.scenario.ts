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
    const publish = (app: Parameters<typeof sidecar>[0], component: string) =>
      sidecar(app, `publish/${component}/payments`, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: forged,
      });
    for (const app of ["ai", "notifications", "sales", "dashboard"] as const) {
      const res = await publish(app, "pubsub");
      assert.equal(res.status, 403, `${app} published to payments: ${res.status}`);
    }
    // The edge publishes nothing: its sidecar does not even load pubsub (it reads its topics
    // through pubsub-fanout, whose publishing scopes are empty for every app).
    const edgeOnPubsub = await publish("edge", "pubsub");
    const edgeAnswer = (await edgeOnPubsub.json()) as { errorCode?: string };
    assert.equal(edgeOnPubsub.status, 404, `edge published to payments: ${JSON.stringify(edgeAnswer)}`);
    assert.equal(edgeAnswer.errorCode, "ERR_PUBSUB_NOT_FOUND");
    for (const app of ["edge", "dashboard", "payments", "notifications"] as const) {
      const res = await publish(app, "pubsub-fanout");
      assert.equal(res.status, 403, `${app} published to payments through pubsub-fanout: ${res.status}`);
    }
    const unknownTopic = await sidecar("payments", "publish/pubsub/anything-else", {
      method: "POST",
      body: "{}",
    });
    assert.equal(unknownTopic.status, 403);
  });
}
