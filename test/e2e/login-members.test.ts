// Membership through the edge on the real mesh (issue 12, "Login and membership"): removeMember
// ends the member's sessions and announces it (member.changed in auth's outbox); a manager grants
// only the branches they hold; staff remove nobody; invites are sanitised and limited per tenant.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import jwt from "jsonwebtoken";
import pg from "pg";
import type { Mesh } from "../../scripts/mesh/mesh.js";
import { DATABASE } from "../../scripts/mesh/infra.js";
import { startTestMesh } from "../support/mesh.js";
import {
  DEMO,
  authPost,
  edgeClient,
  gqlWithToken,
  login,
  smsSinkUrl,
  type GraphQLResponse,
  type Tokens,
} from "../support/graphql-client.js";

const INVITE_LIMIT = 6;

let phoneSeq = 0;
/** A fresh, valid Vietnamese mobile number (MobiFone 093x), different on every call. */
const freshPhone = () =>
  `+8493${String(Date.now() % 10_000).padStart(4, "0")}${String(phoneSeq++).padStart(3, "0")}`;

const INVITE = `mutation ($input: InviteInput!) { invite(input: $input) { id phone role locationIds } }`;
const REMOVE = `mutation ($userId: ID!) { removeMember(userId: $userId) { userId revokedSessions } }`;
const MEMBERS = `{ members { user { id phone } role locationIds } }`;
type Members = {
  members: { user: { id: string; phone: string }; role: string; locationIds: string[] | null }[];
};

describe("membership: removal, branch-scoped managers, invite limits", { timeout: 300_000 }, () => {
  let mesh: Mesh;
  /** The server's superuser (test infrastructure only) sees what auth really stored. */
  let admin: pg.Pool;

  before(async () => {
    process.env.AUTH_INVITE_TENANT_LIMIT = String(INVITE_LIMIT);
    mesh = await startTestMesh();
    admin = new pg.Pool({
      connectionString: `postgres://postgres@127.0.0.1:${mesh.plan.postgres}/${DATABASE}`,
      max: 2,
    });
  });
  after(async () => {
    await admin?.end();
    await mesh?.stop();
  });

  /** GraphQL at the edge with a login's own token. */
  const gqlAs = <T>(tokens: Tokens, tenant: string, query: string, variables?: Record<string, unknown>) =>
    gqlWithToken<T>(mesh.edgeUrl, tokens.accessToken, tenant, query, variables);
  const codeOf = (r: GraphQLResponse<unknown>) => r.errors?.[0]?.extensions?.code;
  const userIdOf = (t: Tokens) => jwt.decode(t.accessToken, { json: true })?.sub ?? "";
  const invitesFor = async (phone: string) =>
    Number(
      (await admin.query("SELECT count(*)::int AS n FROM auth.invites WHERE phone = $1", [phone])).rows[0].n,
    );

  /** A new member of Phở Bò: the owner invites the phone, the phone logs in. */
  async function newMember(role: "MANAGER" | "STAFF", locationIds: string[]): Promise<Tokens> {
    const phone = freshPhone();
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const invited = await owner(INVITE, { input: { phone, role, locationIds } });
    assert.ok(!invited.errors, JSON.stringify(invited.errors));
    return login(mesh.edgeUrl, DEMO.phoBo.slug, phone);
  }

  test("a manager of one branch invites staff to that branch only; a refused invite writes nothing", async () => {
    const manager = await newMember("MANAGER", [DEMO.phoBo.hoanKiem]);
    assert.equal(manager.role, "manager");
    const elsewhere = freshPhone();
    for (const locationIds of [[DEMO.phoBo.cauGiay], [DEMO.phoBo.hoanKiem, DEMO.phoBo.cauGiay]]) {
      const r = await gqlAs(manager, DEMO.phoBo.slug, INVITE, {
        input: { phone: elsewhere, role: "STAFF", locationIds },
      });
      assert.equal(codeOf(r), "FORBIDDEN", JSON.stringify(r));
    }
    const asManager = await gqlAs(manager, DEMO.phoBo.slug, INVITE, {
      input: { phone: elsewhere, role: "MANAGER", locationIds: [DEMO.phoBo.hoanKiem] },
    });
    assert.equal(codeOf(asManager), "FORBIDDEN");
    assert.equal(await invitesFor(elsewhere), 0, "nothing written");
    const ok = await gqlAs<{ invite: { locationIds: string[] } }>(manager, DEMO.phoBo.slug, INVITE, {
      input: { phone: elsewhere, role: "STAFF", locationIds: [DEMO.phoBo.hoanKiem] },
    });
    assert.deepEqual(ok.data?.invite.locationIds, [DEMO.phoBo.hoanKiem], JSON.stringify(ok));
  });

  test("removeMember: staff cannot remove; the manager removes their staff, whose refresh then fails and who leaves the list", async () => {
    const manager = await newMember("MANAGER", [DEMO.phoBo.hoanKiem]);
    const staff = await newMember("STAFF", [DEMO.phoBo.hoanKiem]);
    const farStaff = await newMember("STAFF", [DEMO.phoBo.cauGiay]);
    const staffId = userIdOf(staff);
    const owner = edgeClient(mesh.edgeUrl, DEMO.phoBo.slug);
    const ownerId = ((await owner<{ me: { user: { id: string } } }>(`{ me { user { id } } }`)).data?.me.user
      .id ?? "") as string;

    const byStaff = await gqlAs(staff, DEMO.phoBo.slug, REMOVE, { userId: userIdOf(farStaff) });
    assert.equal(codeOf(byStaff), "FORBIDDEN");
    const ofOtherBranch = await gqlAs(manager, DEMO.phoBo.slug, REMOVE, { userId: userIdOf(farStaff) });
    assert.equal(codeOf(ofOtherBranch), "FORBIDDEN");
    const ofOwner = await gqlAs(manager, DEMO.phoBo.slug, REMOVE, { userId: ownerId });
    assert.equal(codeOf(ofOwner), "FORBIDDEN");
    assert.equal(
      codeOf(await owner(REMOVE, { userId: ownerId })),
      "FORBIDDEN",
      "an owner cannot remove themselves",
    );
    assert.equal(codeOf(await owner(REMOVE, { userId: "not-a-uuid" })), "BAD_USER_INPUT");

    // A second session of the staff member: removal ends every one.
    const second = await authPost<Tokens>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: staff.refreshToken },
      { "x-tenant": DEMO.phoBo.slug },
    );
    assert.equal(second.status, 200);
    const removed = await gqlAs<{ removeMember: { userId: string; revokedSessions: number } }>(
      manager,
      DEMO.phoBo.slug,
      REMOVE,
      { userId: staffId },
    );
    assert.equal(removed.data?.removeMember.userId, staffId, JSON.stringify(removed));
    assert.ok((removed.data?.removeMember.revokedSessions ?? 0) >= 1);

    const refresh = await authPost<{ error: { code: string } }>(
      mesh.edgeUrl,
      "refresh",
      { refreshToken: second.body.refreshToken },
      { "x-tenant": DEMO.phoBo.slug },
    );
    assert.equal(refresh.status, 403, JSON.stringify(refresh.body));
    assert.equal(refresh.body.error.code, "NO_MEMBERSHIP");
    const list = await owner<Members>(MEMBERS);
    assert.ok(list.data?.members.length, JSON.stringify(list));
    assert.ok(!list.data?.members.some((m) => m.user.id === staffId), "no longer listed");
    assert.ok(
      list.data?.members.some((m) => m.user.id === userIdOf(farStaff)),
      "the other staff stays",
    );

    // Announced in the removal's own transaction, for the edge to close the member's sockets.
    const events = await admin.query(
      `SELECT topic, payload FROM auth.outbox WHERE type = 'member.changed' AND payload->>'userId' = $1`,
      [staffId],
    );
    assert.equal(events.rows.length, 1);
    assert.equal(events.rows[0].topic, "members");
    assert.equal(events.rows[0].payload.change, "removed");
    assert.equal(events.rows[0].payload.tenantId, staff.tenantId);
  });

  test("invites: the restaurant's name is sanitised in the SMS, and a restaurant may send only so many per hour", async () => {
    // A restaurant whose name tries to put a link and a number to call into our SMS.
    const slug = `lua-dao-${Date.now() % 100_000}`;
    const owner = await login(mesh.edgeUrl, undefined, freshPhone(), {
      newTenant: {
        slug,
        name: "Quà tặng\nhttps://evil.example/nhan-qua gọi 0912 345 678",
        locationName: "Quận 5",
      },
    });
    const location = (await gqlAs<{ locations: { id: string }[] }>(owner, slug, `{ locations { id } }`)).data
      ?.locations[0]?.id;
    assert.ok(location);
    const phones = Array.from({ length: INVITE_LIMIT + 1 }, freshPhone);
    const answers: (string | undefined)[] = [];
    for (const phone of phones)
      answers.push(
        codeOf(
          await gqlAs(owner, slug, INVITE, { input: { phone, role: "STAFF", locationIds: [location] } }),
        ),
      );
    assert.deepEqual(answers, [...Array<undefined>(INVITE_LIMIT).fill(undefined), "RATE_LIMITED"]);
    assert.equal(await invitesFor(phones[INVITE_LIMIT] ?? ""), 0, "the refused invite wrote nothing");

    const sms = (await (
      await fetch(`${smsSinkUrl(mesh.edgeUrl)}?to=${encodeURIComponent(phones[0] ?? "")}`)
    ).json()) as {
      text: string;
    }[];
    assert.equal(sms.length, 1);
    assert.match(sms[0]?.text ?? "", /^Quà tặng gọi mời bạn làm nhân viên trên LSP\./);
    assert.doesNotMatch(sms[0]?.text ?? "", /evil|https?:|0912/);
    const bad = await gqlAs(owner, slug, INVITE, {
      input: { phone: "+14155552671", role: "STAFF", locationIds: [location] },
    });
    assert.equal(codeOf(bad), "BAD_USER_INPUT");
  });
});
