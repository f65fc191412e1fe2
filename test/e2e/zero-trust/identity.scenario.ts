// Identity cannot be forged inside the mesh: a caller is who a verified token or its mTLS identity
// says, and access control decides which app may invoke which method.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { DEMO } from "../../support/graphql-client.js";
import { PHO_BO_TENANT, type ZeroTrustMesh } from "../../support/zero-trust.js";

export function identityScenarios(h: ZeroTrustMesh): void {
  test("identity cannot be forged inside: hand-set identity headers through a sidecar get nobody", async () => {
    const { sidecar } = h;
    // The edge may call auth's GraphQL, but a caller is only who a verified token says.
    const asEdge = await sidecar("edge", "invoke/auth/method/graphql", {
      method: "POST",
      headers: { "x-lsp-tenant-id": PHO_BO_TENANT, "x-lsp-user-id": randomUUID(), "x-lsp-role": "owner" },
      body: JSON.stringify({ query: "{ members { role } }" }),
    });
    const answer = (await asEdge.json()) as { errors?: { extensions?: { code?: string } }[] };
    assert.equal(answer.errors?.[0]?.extensions?.code, "UNAUTHENTICATED", JSON.stringify(answer));
    // ai may not invoke sales at all (access control, by its mTLS identity).
    const asAi = await sidecar("ai", "invoke/sales/method/graphql", {
      method: "POST",
      headers: { "x-lsp-tenant-id": PHO_BO_TENANT, "x-lsp-role": "system" },
      body: JSON.stringify({ query: `{ location(id: "${DEMO.phoBo.hoanKiem}") { id } }` }),
    });
    assert.equal(asAi.status, 403, await asAi.text());
    // Nor may the edge call auth's key rotation, or the dev sink that no longer exists on auth.
    for (const method of ["v1/keys/rotate", "dev/sms-sink"]) {
      const res = await sidecar("edge", `invoke/auth/method/${method}`, { method: "POST", body: "{}" });
      assert.equal(res.status, 403, method);
    }
    // A system call is honoured only from the app ids the callee names: payments may ask sales.
    const asPayments = await sidecar("payments", "invoke/sales/method/graphql", {
      method: "POST",
      headers: { "x-lsp-tenant-id": PHO_BO_TENANT },
      body: JSON.stringify({ query: `{ order(id: "${randomUUID()}") { id } }` }),
    });
    const paymentsAnswer = (await asPayments.json()) as { data?: { order: unknown }; errors?: unknown[] };
    assert.equal(paymentsAnswer.errors, undefined, JSON.stringify(paymentsAnswer));
    assert.equal(paymentsAnswer.data?.order, null);
  });
}
