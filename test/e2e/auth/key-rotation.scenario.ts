// Signing-key rotation: new tokens use the new key, tokens of the old key keep working.
import { test } from "node:test";
import assert from "node:assert/strict";
import jwt from "jsonwebtoken";
import { asApp } from "../../support/mesh.js";
import { authPost, eventually, login, type Tokens } from "../../support/graphql-client.js";
import { freshPhone, ME, type Me, type AuthMesh } from "../../support/auth.js";

export function keyRotationScenarios(h: AuthMesh): void {
  test("key rotation: new tokens use the new key, tokens of the old key keep working", async () => {
    const { mesh, gqlAs } = h;
    const slug = `bun-bo-${Date.now() % 100000}`;
    const before = await login(mesh.edgeUrl, undefined, freshPhone(), {
      newTenant: { slug, name: "Bún Bò Test", locationName: "Quận 10" },
    });
    const oldKid = jwt.decode(before.accessToken, { complete: true })?.header.kid;
    const rotated = await fetch(
      `http://127.0.0.1:${mesh.plan.apps.auth.daprHttp}/v1.0/invoke/auth/method/v1/keys/rotate`,
      // An operator's call: through auth's own sidecar with auth's token (no app may call it).
      { method: "POST", headers: asApp(mesh, "auth") },
    );
    assert.equal(rotated.status, 200);
    const { activeKid, previousKid } = (await rotated.json()) as { activeKid: string; previousKid: string };
    assert.equal(previousKid, oldKid);
    assert.notEqual(activeKid, oldKid);
    // Auth replicas cache their active key for up to 2 s: refresh until a token carries a kid
    // other than the old one. Each refresh rotates the refresh token (reusing a spent one revokes
    // the session), so every try uses the newest.
    let refreshToken = before.refreshToken;
    const fresh = await eventually("a refresh issues a token of the new key", async () => {
      const r = await authPost<Tokens>(mesh.edgeUrl, "refresh", { refreshToken }, { "x-tenant": slug });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      refreshToken = r.body.refreshToken;
      return jwt.decode(r.body.accessToken, { complete: true })?.header.kid === oldKid ? undefined : r.body;
    });
    assert.equal(jwt.decode(fresh.accessToken, { complete: true })?.header.kid, activeKid);
    // The edge learns the new kid on first sight; the old token is still good.
    assert.equal((await gqlAs<Me>(fresh.accessToken, slug, ME)).data?.me.role, "OWNER");
    assert.equal((await gqlAs<Me>(before.accessToken, slug, ME)).data?.me.role, "OWNER");
  });
}
