// User tokens: one without exp, even signed with auth's own key, never verifies; a genuine one does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import jwt from "jsonwebtoken";
import { DEMO, LOCATION_TODAY } from "../../support/graphql-client.js";
import { PHO_BO_TENANT, type ZeroTrustMesh } from "../../support/zero-trust.js";

export function tokenScenarios(h: ZeroTrustMesh): void {
  test("tokens: without exp, or signed by anyone but auth, they never verify", async () => {
    const { mesh, gql } = h;
    const keys = JSON.parse(readFileSync(path.join(mesh.runDir, "auth-dev-keys.json"), "utf8")) as {
      keys: { kid: string; privateKeyPem: string }[];
    };
    const key = keys.keys[0]!;
    const claims = { tid: PHO_BO_TENANT, role: "owner" };
    const noExp = jwt.sign(claims, key.privateKeyPem, {
      algorithm: "ES256",
      keyid: key.kid,
      issuer: "lsp-auth",
      audience: "lsp",
      subject: randomUUID(),
    });
    const res = await fetch(mesh.edgeUrl, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-tenant": DEMO.phoBo.slug,
        authorization: `Bearer ${noExp}`,
      },
      body: JSON.stringify({ query: LOCATION_TODAY, variables: { id: DEMO.phoBo.hoanKiem } }),
    });
    const body = (await res.json()) as { errors?: { extensions?: { code?: string } }[] };
    assert.equal(body.errors?.[0]?.extensions?.code, "TOKEN_INVALID", JSON.stringify(body));
    // A genuine token works.
    const genuine = await gql(LOCATION_TODAY, { id: DEMO.phoBo.hoanKiem });
    assert.equal(genuine.errors, undefined, JSON.stringify(genuine.errors));
  });
}
