// The edge is the only door: it forwards exactly the routes it serves (no traversal out of them),
// and its public port serves no metrics, readiness or Dapr deliveries.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { request } from "node:http";
import { DEMO } from "../../support/graphql-client.js";
import { PHO_BO_TENANT, type ZeroTrustMesh } from "../../support/zero-trust.js";

export function theDoorScenarios(h: ZeroTrustMesh): void {
  test("the edge forwards exactly what it serves: traversal out of /api/v1/auth or a webhook is a 404", async () => {
    const { mesh, edge } = h;
    // Sent byte for byte (fetch would resolve `..` itself before sending).
    const rawPost = (rawPath: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(
          {
            host: "127.0.0.1",
            port: mesh.plan.apps.edge.app,
            path: rawPath,
            method: "POST",
            headers: {
              "content-type": "application/json",
              "x-tenant": DEMO.phoBo.slug,
            },
          },
          (res) => {
            let body = "";
            res.on("data", (c: Buffer) => (body += c.toString()));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        req.on("error", reject);
        req.end(JSON.stringify({ query: "{ __typename }", phone: "0912000001" }));
      });
    for (const p of [
      "/api/v1/auth/..%2F..%2F..%2F..%2F..%2Fsales%2Fmethod%2Fgraphql",
      "/api/v1/auth/..%2f..%2f..%2f..%2f..%2fpublish%2Fpubsub%2Fpayments",
      "/api/v1/auth/otp%2Frequest",
      "/api/v1/auth/keys/rotate",
      "/api/v1/auth/../../v1.0/shutdown",
      "/api/v1/webhooks/..%2F..%2F..%2Fshutdown",
      "/api/v1/webhooks/momo%2F..%2F..%2Fgraphql",
    ]) {
      const res = await rawPost(p);
      assert.equal(res.status, 404, `${p}: ${res.body}`);
      assert.equal((JSON.parse(res.body) as { error?: { code?: string } }).error?.code, "NOT_FOUND", p);
    }
    // The genuine route still works.
    const ok = await fetch(`${edge}/api/v1/auth/otp/request`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tenant": DEMO.phoBo.slug },
      body: JSON.stringify({ phone: "0912000099" }),
    });
    assert.equal(ok.status, 202);
  });

  test("the public port serves no metrics, readiness or Dapr deliveries", async () => {
    const { mesh, edge } = h;
    const forgedUpdate = {
      id: randomUUID(),
      specversion: "1.0",
      source: "attacker",
      type: "dashboard.updated",
      datacontenttype: "application/json",
      data: {
        tenantId: PHO_BO_TENANT,
        locationId: DEMO.phoBo.hoanKiem,
        businessDay: "2026-11-29",
        revenueVnd: 1,
        orders: 1,
      },
    };
    for (const route of ["/events/dashboard", "/events/notifications", "/events/members"]) {
      const res = await fetch(`${edge}${route}`, {
        method: "POST",
        headers: { "content-type": "application/cloudevents+json" },
        body: JSON.stringify(forgedUpdate),
      });
      assert.equal(res.status, 401, route);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "UNAUTHENTICATED");
    }
    for (const route of ["/metrics", "/readyz", "/dapr/subscribe"]) {
      const res = await fetch(`${edge}${route}`);
      assert.ok(res.status === 401 || res.status === 404, `${route}: ${res.status}`);
    }
    // The platform reads them on the ops listener.
    assert.equal((await fetch(`http://127.0.0.1:${mesh.plan.apps.edge.ops}/readyz`)).status, 200);
  });
}
