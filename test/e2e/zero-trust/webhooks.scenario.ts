// Junk webhooks never keep a genuine one out: forged MoMo notices are refused and the real one
// still settles its order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { eventually } from "../../support/graphql-client.js";
import { openMomoOrder, postMomoIpn } from "../../support/momo.js";
import { type ZeroTrustMesh } from "../../support/zero-trust.js";

export function webhookScenarios(h: ZeroTrustMesh): void {
  test("junk webhooks never keep a genuine one out: 20 forged MoMo notices, then the real one settles", async () => {
    const { mesh, gql } = h;
    const junk = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const payment = await openMomoOrder(gql);
        return (await postMomoIpn(mesh, payment, { badSignature: true })).status;
      }),
    );
    assert.ok(
      junk.every((s) => s >= 400 && s < 500),
      `junk answered ${junk.join(",")}`,
    );
    const payment = await openMomoOrder(gql);
    const genuine = await postMomoIpn(mesh, payment);
    assert.equal(genuine.status, 204, await genuine.text());
    await eventually("the genuine order paid", async () => {
      const res = await gql<{ order: { status: string } }>(`query ($id: ID!) { order(id: $id) { status } }`, {
        id: payment.order.id,
      });
      return res.data?.order.status === "paid" ? true : undefined;
    });
  });
}
