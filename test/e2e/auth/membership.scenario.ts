// Who belongs where: staff scope, invites, join codes, and a new owner's onboarding.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { CREATE_ORDER, DEMO, edgeClient, login } from "../../support/graphql-client.js";
import { freshPhone, codeOf, ME, type Me, type AuthMesh } from "../../support/auth.js";

export function membershipScenarios(h: AuthMesh): void {
  test("staff see and act only on their listed locations", async () => {
    const { mesh } = h;
    const staff = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug, { role: "staff" });
    const me = await staff<Me>(ME);
    assert.deepEqual(
      me.data?.me.locations.map((l) => l.id),
      [DEMO.phoBo.hoanKiem],
    );
    const other = await staff<{ location: unknown }>(`query ($id: ID!) { location(id: $id) { id name } }`, {
      id: DEMO.phoBo.cauGiay,
    });
    assert.equal(other.data?.location ?? null, null);
    const order = await staff(CREATE_ORDER, {
      input: {
        locationId: DEMO.phoBo.cauGiay,
        idempotencyKey: randomUUID(),
        paymentMethod: "cash",
        lines: [{ itemId: DEMO.phoBo.phoTai, quantity: 1 }],
      },
    });
    assert.ok(["FORBIDDEN", "NOT_FOUND"].includes(codeOf(order) ?? ""), JSON.stringify(order));
    const members = await staff(`{ members { role } }`);
    assert.equal(codeOf(members), "FORBIDDEN");
  });

  test("invites: a phone invite becomes a membership at first login; without one, NO_MEMBERSHIP", async () => {
    const { mesh, gqlAs, sendCode, verify } = h;
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const invited = freshPhone();
    const res = await owner<{ invite: { id: string; phone: string; role: string } }>(
      `mutation ($input: InviteInput!) { invite(input: $input) { id phone role } }`,
      { input: { phone: `0${invited.slice(3)}`, role: "STAFF", locationIds: [DEMO.phoBo.hoanKiem] } },
    );
    assert.equal(res.data?.invite.phone, invited, JSON.stringify(res));
    const bad = await owner(`mutation ($input: InviteInput!) { invite(input: $input) { id } }`, {
      input: { phone: "+14155552671", role: "STAFF", locationIds: [DEMO.phoBo.hoanKiem] },
    });
    assert.equal(codeOf(bad), "BAD_USER_INPUT");
    const foreignLocation = await owner(`mutation ($input: InviteInput!) { invite(input: $input) { id } }`, {
      input: { phone: freshPhone(), role: "STAFF", locationIds: [DEMO.caPhe.quan1] },
    });
    assert.equal(codeOf(foreignLocation), "BAD_USER_INPUT");

    const tokens = await login(mesh.edgeUrl, DEMO.phoBo.slug, invited);
    assert.equal(tokens.role, "staff");
    const me = await gqlAs<Me>(tokens.accessToken, DEMO.phoBo.slug, ME);
    assert.deepEqual(
      me.data?.me.locations.map((l) => l.id),
      [DEMO.phoBo.hoanKiem],
    );

    const stranger = freshPhone();
    const code = await sendCode(stranger, DEMO.phoBo.slug, "192.0.2.10");
    const refused = await verify({ phone: stranger, code }, DEMO.phoBo.slug);
    assert.equal(refused.status, 403);
    assert.equal(refused.body.error?.code, "NO_MEMBERSHIP");
    // The invited member is listed for the owner.
    const members = await owner<{ members: { user: { phone: string }; role: string }[] }>(
      `{ members { user { phone } role } }`,
    );
    assert.ok(members.data?.members.some((m) => m.user.phone === invited && m.role === "STAFF"));
  });

  test("join codes: staff join with the code at first login; a revoked code stops working", async () => {
    const { mesh, sendCode, verify } = h;
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const created = await owner<{ createJoinCode: { code: string } }>(
      `mutation { createJoinCode(input: { role: STAFF, locationIds: ["${DEMO.phoBo.hoanKiem}"] }) { code } }`,
    );
    const joinCode = created.data?.createJoinCode.code ?? "";
    assert.match(joinCode, /^[A-Z0-9]{8}$/, JSON.stringify(created));
    const staffWithout = await owner(`mutation { createJoinCode(input: { role: STAFF }) { code } }`);
    assert.equal(codeOf(staffWithout), "BAD_USER_INPUT");

    const joiner = freshPhone();
    const tokens = await login(mesh.edgeUrl, DEMO.phoBo.slug, joiner, { joinCode: joinCode.toLowerCase() });
    assert.equal(tokens.role, "staff");

    const revoked = await owner<{ revokeJoinCode: { revokedAt: string } }>(
      `mutation ($code: String!) { revokeJoinCode(code: $code) { revokedAt } }`,
      { code: joinCode },
    );
    assert.ok(revoked.data?.revokeJoinCode.revokedAt);
    const late = freshPhone();
    const code = await sendCode(late, DEMO.phoBo.slug, "192.0.2.11");
    const refused = await verify({ phone: late, code, joinCode }, DEMO.phoBo.slug);
    assert.equal(refused.status, 404);
    // The code of one restaurant means nothing at another.
    const joinCodes = await edgeClient(
      mesh.edgeUrl,
      DEMO.caPhe.slug,
    )<{ joinCodes: { code: string }[] }>(`{ joinCodes { code } }`);
    assert.deepEqual(joinCodes.data?.joinCodes, []);
  });

  test("onboarding: a new owner creates the restaurant and its first location at first login", async () => {
    const { gqlAs, sendCode, verify } = h;
    const phone = freshPhone();
    const code = await sendCode(phone, undefined, "192.0.2.12");
    const slug = `com-tam-${Date.now() % 100000}`;
    const created = await verify({
      phone,
      code,
      newTenant: { slug, name: "Cơm Tấm Test", locationName: "Quận 3" },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.role, "owner");
    const me = await gqlAs<Me & { tenant: { slug: string } }>(
      created.body.accessToken,
      slug,
      `{ tenant { slug } ${ME.slice(1, -1)} }`,
    );
    assert.equal(me.data?.tenant.slug, slug, JSON.stringify(me));
    assert.equal(me.data?.me.locations.length, 1);
  });
}
