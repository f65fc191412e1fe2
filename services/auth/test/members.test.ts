// Membership changes on a real PostgreSQL (auth's own role, row-level security on): who may
// invite and remove whom, managers held to their branches, invite limits, and what a removal
// revokes and announces (member.changed in the outbox, in the same transaction).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { createHash, randomUUID } from "node:crypto";
import { toAppError } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { AuthDB, Role } from "../src/db.js";
import type { KeyRing } from "../src/keys.js";
import {
  createJoinCode,
  invite,
  listMembers,
  removeMember,
  setMemberRole,
  withinBranches,
  type MembersPolicy,
} from "../src/members.js";
import { rotateRefreshToken } from "../src/tokens.js";

let database: TestServiceDatabase<AuthDB>;
const tenant = randomUUID();
const [branchA, branchB] = [randomUUID(), randomUUID()];
let phoneSeq = 0;
const freshPhone = () =>
  `+8494${String(process.pid % 1000).padStart(3, "0")}${String(phoneSeq++).padStart(4, "0")}`;

interface Member {
  userId: string;
  who: Identity;
}

/** A user and their membership, written directly (the test's fixture). */
async function addMember(role: Role, locationIds: string[] | null): Promise<Member> {
  const user = await database.db
    .insertInto("users")
    .values({ phone: freshPhone() })
    .returning("id")
    .executeTakeFirstOrThrow();
  await withTenant(database.db, tenant, (trx) =>
    trx
      .insertInto("memberships")
      .values({ tenant_id: tenant, user_id: user.id, role, location_ids: locationIds })
      .execute(),
  );
  return {
    userId: user.id,
    who: { tenantId: tenant, userId: user.id, role, ...(locationIds ? { locationIds } : {}) },
  };
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
/** A live refresh token of a new session (family) of `userId`. */
async function session(userId: string): Promise<string> {
  const token = randomUUID() + randomUUID();
  await withTenant(database.db, tenant, (trx) =>
    trx
      .insertInto("refresh_tokens")
      .values({
        token_hash: sha256(token),
        family_id: randomUUID(),
        tenant_id: tenant,
        user_id: userId,
        expires_at: new Date(Date.now() + 3600_000),
      })
      .execute(),
  );
  return token;
}

const count = async (table: "invites" | "memberships") =>
  withTenant(database.db, tenant, async (trx) =>
    Number(
      (
        await trx
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow()
      ).n,
    ),
  );
const counters = async () =>
  (await database.db.selectFrom("rate_limits").select(["key", "hits"]).orderBy("key").execute()).map(
    (r) => `${r.key}=${r.hits}`,
  );
const eventsFor = async (userId: string) =>
  (await database.db.selectFrom("outbox").selectAll().where("type", "=", "member.changed").execute())
    .map((r) => ({ topic: r.topic, ...(r.payload as { userId: string; tenantId: string; change: string }) }))
    .filter((p) => p.userId === userId);

/** Rejects with `code` (as the API would answer it: zod errors are BAD_USER_INPUT). */
const refused = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (err: unknown) => {
    assert.equal(toAppError(err).code, code);
    return true;
  });

let owner: Member;
let owner2: Member;
let managerA: Member;
let managerAll: Member;
let staffA: Member;
let staffB: Member;
let staffAB: Member;
const generous: MembersPolicy = {
  invitesPerTenant: { limit: 1000, windowSeconds: 3600 },
  invitesPerPhone: { limit: 1000, windowSeconds: 3600 },
};

before(async () => {
  database = await startServiceDatabase<AuthDB>("auth", path.join(import.meta.dirname, "..", "migrations"));
  await database.db.insertInto("tenants").values({ id: tenant, slug: "pho-members", name: "Phở" }).execute();
  await withTenant(database.db, tenant, (trx) =>
    trx
      .insertInto("locations")
      .values([
        { id: branchA, tenant_id: tenant, name: "A" },
        { id: branchB, tenant_id: tenant, name: "B" },
      ])
      .execute(),
  );
  owner = await addMember("owner", null);
  owner2 = await addMember("owner", null);
  managerA = await addMember("manager", [branchA]);
  managerAll = await addMember("manager", null);
  staffA = await addMember("staff", [branchA]);
  staffB = await addMember("staff", [branchB]);
  staffAB = await addMember("staff", [branchA, branchB]);
});
after(() => database?.stop());

test("branch containment: null holds everything, a list holds only its own", () => {
  assert.ok(withinBranches([branchA], null));
  assert.ok(withinBranches(null, null));
  assert.ok(withinBranches([branchA], [branchA, branchB]));
  assert.ok(!withinBranches([branchA, branchB], [branchA]));
  assert.ok(!withinBranches(null, [branchA]));
});

test("a manager of branch A invites staff to A only; a refused invite writes nothing", async () => {
  const before = { invites: await count("invites"), counters: await counters() };
  for (const locationIds of [[branchB], [branchA, branchB]])
    await refused(
      invite(database.db, managerA.who, { phone: freshPhone(), role: "staff", locationIds }, generous),
      "FORBIDDEN",
    );
  await refused(
    invite(
      database.db,
      managerA.who,
      { phone: freshPhone(), role: "manager", locationIds: [branchA] },
      generous,
    ),
    "FORBIDDEN",
  );
  // The token cannot widen what the database says the manager holds.
  await refused(
    invite(
      database.db,
      { ...managerA.who, locationIds: [branchA, branchB] },
      { phone: freshPhone(), role: "staff", locationIds: [branchB] },
      generous,
    ),
    "FORBIDDEN",
  );
  assert.deepEqual({ invites: await count("invites"), counters: await counters() }, before);
  const ok = await invite(
    database.db,
    managerA.who,
    { phone: freshPhone(), role: "staff", locationIds: [branchA] },
    generous,
  );
  assert.deepEqual(ok.location_ids, [branchA]);
  await invite(
    database.db,
    managerAll.who,
    { phone: freshPhone(), role: "staff", locationIds: [branchB] },
    generous,
  );
  await refused(
    invite(database.db, staffA.who, { phone: freshPhone(), role: "staff", locationIds: [branchA] }, generous),
    "FORBIDDEN",
  );
});

test("invites are limited per restaurant and per phone: RATE_LIMITED, nothing written", async () => {
  const tight: MembersPolicy = {
    invitesPerTenant: { limit: 3, windowSeconds: 3600 },
    invitesPerPhone: { limit: 2, windowSeconds: 3600 },
  };
  // This restaurant's earlier invites (other tests) counted under a generous policy.
  await database.db.deleteFrom("rate_limits").where("key", "like", "invite-%").execute();
  const phone = freshPhone();
  await invite(database.db, owner.who, { phone, role: "staff", locationIds: [branchA] }, tight);
  await invite(database.db, owner.who, { phone, role: "staff", locationIds: [branchA] }, tight);
  const before = await count("invites");
  await assert.rejects(
    invite(database.db, owner.who, { phone, role: "staff", locationIds: [branchA] }, tight),
    { code: "RATE_LIMITED", details: { scope: "phone", retryAfterSeconds: 3600 } },
  );
  await invite(database.db, owner.who, { phone: freshPhone(), role: "staff", locationIds: [branchA] }, tight);
  await assert.rejects(
    invite(database.db, owner.who, { phone: freshPhone(), role: "staff", locationIds: [branchA] }, tight),
    (err: { code?: string; details?: { scope?: string } }) =>
      err.code === "RATE_LIMITED" && err.details?.scope === "tenant",
  );
  assert.equal(await count("invites"), before + 1, "only the invite within the limits was written");
  await refused(
    invite(database.db, owner.who, { phone: "+1415555", role: "staff", locationIds: [branchA] }, tight),
    "BAD_USER_INPUT",
  );
});

test("removeMember: a manager removes staff of their own branches only; staff remove nobody", async () => {
  await refused(removeMember(database.db, staffA.who, staffB.userId), "FORBIDDEN");
  await refused(removeMember(database.db, managerA.who, staffB.userId), "FORBIDDEN");
  await refused(removeMember(database.db, managerA.who, staffAB.userId), "FORBIDDEN");
  await refused(removeMember(database.db, managerA.who, managerAll.userId), "FORBIDDEN");
  await refused(removeMember(database.db, managerA.who, owner.userId), "FORBIDDEN");
  await refused(removeMember(database.db, owner.who, "not-a-uuid"), "BAD_USER_INPUT");
  await refused(removeMember(database.db, owner.who, randomUUID()), "NOT_FOUND");
  await refused(removeMember(database.db, owner.who, owner.userId), "FORBIDDEN");
  assert.equal(await count("memberships"), 7, "nobody removed");

  const token = await session(staffA.userId);
  const other = await session(staffA.userId);
  const r = await removeMember(database.db, managerA.who, staffA.userId);
  assert.equal(r.revokedSessions, 2);
  assert.ok(!(await listMembers(database.db, owner.who)).some((m) => m.userId === staffA.userId));
  for (const t of [token, other])
    await refused(rotateRefreshToken(database.db, {} as KeyRing, tenant, t), "NO_MEMBERSHIP");
  const events = await eventsFor(staffA.userId);
  assert.equal(events.length, 1);
  assert.deepEqual(
    { ...events[0], occurredAt: undefined },
    { topic: "members", tenantId: tenant, userId: staffA.userId, change: "removed", occurredAt: undefined },
  );
  // A removed member's own token no longer acts here.
  await refused(
    invite(database.db, staffA.who, { phone: freshPhone(), role: "staff", locationIds: [branchA] }, generous),
    "FORBIDDEN",
  );
});

test("removal revokes the member's open invites here; a removed manager cannot act with a live token", async () => {
  const m = await addMember("manager", [branchB]);
  const phone = (
    await database.db.selectFrom("users").select("phone").where("id", "=", m.userId).executeTakeFirstOrThrow()
  ).phone;
  await invite(database.db, owner.who, { phone, role: "staff", locationIds: [branchB] }, generous);
  await removeMember(database.db, owner.who, m.userId);
  const open = await withTenant(database.db, tenant, (trx) =>
    trx
      .selectFrom("invites")
      .select("id")
      .where("phone", "=", phone)
      .where("revoked_at", "is", null)
      .execute(),
  );
  assert.deepEqual(open, []);
  await refused(
    invite(database.db, m.who, { phone: freshPhone(), role: "staff", locationIds: [branchB] }, generous),
    "NO_MEMBERSHIP",
  );
  await refused(removeMember(database.db, m.who, staffB.userId), "NO_MEMBERSHIP");
});

test("two owners removing each other at once: exactly one succeeds, the other is told it is no longer a member", async () => {
  const a = await addMember("owner", null);
  const b = await addMember("owner", null);
  const outcomes = await Promise.allSettled([
    removeMember(database.db, a.who, b.userId),
    removeMember(database.db, b.who, a.userId),
  ]);
  assert.equal(outcomes.filter((o) => o.status === "fulfilled").length, 1);
  const failure = outcomes.find((o) => o.status === "rejected") as PromiseRejectedResult;
  assert.equal((failure.reason as { code: string }).code, "NO_MEMBERSHIP");
});

test("setMemberRole publishes role_changed or scope_changed, nothing when nothing changed", async () => {
  const s = await addMember("staff", [branchA]);
  await setMemberRole(database.db, owner.who, { userId: s.userId, role: "staff", locationIds: [branchA] });
  assert.deepEqual(await eventsFor(s.userId), []);
  await setMemberRole(database.db, owner.who, {
    userId: s.userId,
    role: "staff",
    locationIds: [branchA, branchB],
  });
  await setMemberRole(database.db, owner.who, { userId: s.userId, role: "manager", locationIds: [branchA] });
  assert.deepEqual(
    (await eventsFor(s.userId)).map((e) => e.change),
    ["scope_changed", "role_changed"],
  );
  await refused(
    setMemberRole(database.db, managerAll.who, { userId: s.userId, role: "staff", locationIds: [branchA] }),
    "FORBIDDEN",
  );
  // A refused change announces nothing.
  await refused(
    setMemberRole(database.db, owner.who, { userId: s.userId, role: "staff", locationIds: [randomUUID()] }),
    "BAD_USER_INPUT",
  );
  assert.equal((await eventsFor(s.userId)).length, 2);
  // Only owners create join codes, by their membership now.
  await refused(
    createJoinCode(
      database.db,
      { ...owner2.who, userId: s.userId },
      { role: "staff", locationIds: [branchA] },
    ),
    "FORBIDDEN",
  );
});
