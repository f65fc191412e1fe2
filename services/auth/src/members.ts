import { randomInt } from "node:crypto";
import { sql, type Kysely, type Transaction } from "kysely";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { enqueueEvent, withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import type { MemberChanged } from "@lsp/contracts";
import type { AuthDB, Role } from "./db.js";
import { parseVietnameseMobile } from "./phone.js";
import { enforce, type Limit } from "./rate-limit.js";
import { revokeUserSessions } from "./tokens.js";

/** Limits on invites (README "Login policy"): each invite texts a phone that did not ask. */
export interface MembersPolicy {
  /** Invites one restaurant may send per window. */
  invitesPerTenant: Limit;
  /** Invites one phone may receive per window, from every restaurant together. */
  invitesPerPhone: Limit;
}

export const DEFAULT_MEMBERS_POLICY: MembersPolicy = {
  invitesPerTenant: { limit: 20, windowSeconds: 3600 },
  invitesPerPhone: { limit: 5, windowSeconds: 24 * 3600 },
};

export interface MemberView {
  userId: string;
  phone: string;
  name: string | null;
  role: Role;
  locationIds: string[] | null;
  createdAt: Date;
}

function requireRole(who: Identity, ...roles: Role[]): void {
  if (!who.role || !roles.includes(who.role as Role))
    throw new AppError("FORBIDDEN", `only ${roles.join(" or ")} may do this`);
}

/** Location ids must be the tenant's own (RLS hides the others, so a foreign id is "unknown"). */
async function checkLocations(trx: Transaction<AuthDB>, ids: string[] | null | undefined): Promise<void> {
  if (!ids?.length) return;
  const found = await trx.selectFrom("locations").select("id").where("id", "in", ids).execute();
  if (found.length !== new Set(ids).size)
    throw new AppError("BAD_USER_INPUT", "unknown location", { field: "locationIds" });
}

/** The caller's membership as it stands now, read (and held) in the transaction. */
interface Actor {
  userId: string;
  role: Role;
  /** null = every location of the tenant. */
  locationIds: string[] | null;
}

/**
 * Who the caller is in this tenant according to the database, not the token: a member removed or
 * demoted a minute ago still holds a valid access token for up to 15 minutes, and must not keep
 * granting or removing with it. Membership changes of one tenant are serialised by an advisory
 * lock taken here, so two owners removing each other cannot both succeed (nor deadlock).
 */
async function actorOf(trx: Transaction<AuthDB>, who: Identity, ...roles: Role[]): Promise<Actor> {
  requireRole(who, ...roles);
  if (!who.userId) throw new AppError("FORBIDDEN", "only a member may do this");
  await sql`SELECT pg_advisory_xact_lock(hashtext(${`members:${who.tenantId}`}))`.execute(trx);
  const row = await trx
    .selectFrom("memberships")
    .select(["role", "location_ids"])
    .where("user_id", "=", who.userId)
    .executeTakeFirst();
  if (!row) throw new AppError("NO_MEMBERSHIP", "no longer a member of this restaurant");
  if (!roles.includes(row.role)) throw new AppError("FORBIDDEN", `only ${roles.join(" or ")} may do this`);
  return { userId: who.userId, role: row.role, locationIds: row.location_ids };
}

/** Whether `granted` branches (null = all) lie within `held` (null = all). */
export function withinBranches(granted: readonly string[] | null, held: readonly string[] | null): boolean {
  if (held === null) return true;
  if (granted === null) return false;
  return granted.every((id) => held.includes(id));
}

/** A manager hands out (or takes away) only branches they hold themselves. */
function requireBranches(actor: Actor, granted: readonly string[] | null, what: string): void {
  if (!withinBranches(granted, actor.locationIds))
    throw new AppError("FORBIDDEN", `${what}: only the branches you manage yourself`, {
      field: "locationIds",
    });
}

const sameBranches = (a: readonly string[] | null, b: readonly string[] | null) =>
  a === null || b === null ? a === b : a.length === b.length && withinBranches(a, b);

/** member.changed, in the transaction that made the change (published after commit). */
async function memberChanged(
  trx: Transaction<AuthDB>,
  tenantId: string,
  userId: string,
  change: MemberChanged["change"],
): Promise<void> {
  await enqueueEvent(trx, "member.changed", {
    tenantId,
    userId,
    change,
    occurredAt: new Date().toISOString(),
  });
}

const Grantable = z
  .object({
    role: z.enum(["manager", "staff"]),
    locationIds: z.array(z.uuid()).max(500).nullish(),
  })
  .refine((g) => g.role !== "staff" || (g.locationIds?.length ?? 0) > 0, {
    message: "staff need at least one location",
    path: ["locationIds"],
  });

/** Managers may hand out staff access only; owners anything but ownership. */
function mayGrant(who: Identity, role: Role): void {
  requireRole(who, "owner", "manager");
  if (who.role === "manager" && role !== "staff")
    throw new AppError("FORBIDDEN", "managers may only add staff");
}

async function userView(db: Kysely<AuthDB>, userId: string) {
  return db.selectFrom("users").select(["id", "phone", "name"]).where("id", "=", userId).executeTakeFirst();
}

export async function me(db: Kysely<AuthDB>, who: Identity) {
  if (!who.userId) throw new AppError("UNAUTHENTICATED", "no user");
  const user = await userView(db, who.userId);
  if (!user) throw new AppError("NOT_FOUND", "user not found");
  return { user, role: who.role, locationIds: who.locationIds ?? null };
}

export async function listMembers(db: Kysely<AuthDB>, who: Identity): Promise<MemberView[]> {
  requireRole(who, "owner", "manager");
  const rows = await withTenant(db, who.tenantId, (trx) =>
    trx.selectFrom("memberships").selectAll().orderBy("created_at").execute(),
  );
  const users = rows.length
    ? await db
        .selectFrom("users")
        .select(["id", "phone", "name"])
        .where(
          "id",
          "in",
          rows.map((r) => r.user_id),
        )
        .execute()
    : [];
  const byId = new Map(users.map((u) => [u.id, u]));
  return rows.map((r) => ({
    userId: r.user_id,
    phone: byId.get(r.user_id)?.phone ?? "",
    name: byId.get(r.user_id)?.name ?? null,
    role: r.role,
    locationIds: r.location_ids,
    createdAt: r.created_at,
  }));
}

const InviteInput = z.intersection(
  Grantable,
  z.object({
    phone: z.string().max(40).transform(parseVietnameseMobile),
    expiresInHours: z
      .number()
      .int()
      .min(1)
      .max(24 * 30)
      .default(72),
  }),
);

/**
 * Invites a phone. Managers invite staff to branches they hold (checked against their membership
 * in this transaction); invites are limited per restaurant and per phone. A refused invite writes
 * nothing (the counters roll back with it).
 */
export async function invite(
  db: Kysely<AuthDB>,
  who: Identity,
  input: unknown,
  policy: MembersPolicy = DEFAULT_MEMBERS_POLICY,
) {
  const args = InviteInput.parse(input);
  mayGrant(who, args.role);
  return withTenant(db, who.tenantId, async (trx) => {
    const actor = await actorOf(trx, who, "owner", "manager");
    if (actor.role === "manager" && args.role !== "staff")
      throw new AppError("FORBIDDEN", "managers may only add staff");
    requireBranches(actor, args.locationIds ?? null, "invite");
    await checkLocations(trx, args.locationIds);
    await enforce(
      trx,
      `invite-tenant:${who.tenantId}`,
      policy.invitesPerTenant,
      "tenant",
      "too many invites from this restaurant; try again later",
    );
    await enforce(
      trx,
      `invite-phone:${args.phone}`,
      policy.invitesPerPhone,
      "phone",
      "this phone has received too many invites; try again later",
    );
    return trx
      .insertInto("invites")
      .values({
        tenant_id: who.tenantId,
        phone: args.phone,
        role: args.role,
        location_ids: args.locationIds ?? null,
        invited_by: who.userId ?? null,
        expires_at: new Date(Date.now() + args.expiresInHours * 3600_000),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function listInvites(db: Kysely<AuthDB>, who: Identity) {
  requireRole(who, "owner", "manager");
  return withTenant(db, who.tenantId, (trx) =>
    trx.selectFrom("invites").selectAll().orderBy("created_at", "desc").execute(),
  );
}

export async function revokeInvite(db: Kysely<AuthDB>, who: Identity, id: string) {
  const inviteId = z.uuid().parse(id);
  return withTenant(db, who.tenantId, async (trx) => {
    const actor = await actorOf(trx, who, "owner", "manager");
    const open = await trx
      .selectFrom("invites")
      .select(["role", "location_ids"])
      .where("id", "=", inviteId)
      .where("accepted_at", "is", null)
      .executeTakeFirst();
    if (!open) throw new AppError("NOT_FOUND", "no open invite with this id");
    if (
      actor.role === "manager" &&
      (open.role !== "staff" || !withinBranches(open.location_ids, actor.locationIds))
    )
      throw new AppError("FORBIDDEN", "managers revoke only staff invites of their own branches");
    return trx
      .updateTable("invites")
      .set({ revoked_at: new Date() })
      .where("id", "=", inviteId)
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

/** 8 characters without look-alikes (no 0/O, 1/I). */
const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const newJoinCode = () => Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

export async function createJoinCode(db: Kysely<AuthDB>, who: Identity, input: unknown) {
  const args = Grantable.parse(input);
  requireRole(who, "owner");
  return withTenant(db, who.tenantId, async (trx) => {
    await actorOf(trx, who, "owner");
    await checkLocations(trx, args.locationIds);
    return trx
      .insertInto("join_codes")
      .values({
        code: newJoinCode(),
        tenant_id: who.tenantId,
        role: args.role,
        location_ids: args.locationIds ?? null,
        created_by: who.userId ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  });
}

export async function listJoinCodes(db: Kysely<AuthDB>, who: Identity) {
  requireRole(who, "owner");
  return withTenant(db, who.tenantId, (trx) =>
    trx.selectFrom("join_codes").selectAll().orderBy("created_at", "desc").execute(),
  );
}

export async function revokeJoinCode(db: Kysely<AuthDB>, who: Identity, code: string) {
  requireRole(who, "owner");
  const row = await withTenant(db, who.tenantId, (trx) =>
    trx
      .updateTable("join_codes")
      .set({ revoked_at: new Date() })
      .where("code", "=", code.trim().toUpperCase())
      .returningAll()
      .executeTakeFirst(),
  );
  if (!row) throw new AppError("NOT_FOUND", "no such join code");
  return row;
}

const SetRole = z.object({
  userId: z.uuid(),
  role: z.enum(["owner", "manager", "staff"]),
  locationIds: z.array(z.uuid()).max(500).nullish(),
});

/**
 * Owners change a member's role and locations (the member's next token refresh carries them,
 * within 15 minutes; member.changed lets the edge close their live sockets now); a tenant never
 * loses its last owner.
 */
export async function setMemberRole(db: Kysely<AuthDB>, who: Identity, input: unknown): Promise<MemberView> {
  const args = SetRole.parse(input);
  requireRole(who, "owner");
  if (args.role === "staff" && !args.locationIds?.length)
    throw new AppError("BAD_USER_INPUT", "staff need at least one location", { field: "locationIds" });
  const locationIds = args.locationIds ?? null;
  await withTenant(db, who.tenantId, async (trx) => {
    const actor = await actorOf(trx, who, "owner");
    requireBranches(actor, locationIds, "change a member");
    await checkLocations(trx, locationIds);
    const current = await trx
      .selectFrom("memberships")
      .select(["role", "location_ids"])
      .where("user_id", "=", args.userId)
      .executeTakeFirst();
    if (!current) throw new AppError("NOT_FOUND", "no such member");
    if (current.role === "owner" && args.role !== "owner") await keepAnOwner(trx);
    await trx
      .updateTable("memberships")
      .set({ role: args.role, location_ids: locationIds })
      .where("user_id", "=", args.userId)
      .execute();
    if (current.role !== args.role) await memberChanged(trx, who.tenantId, args.userId, "role_changed");
    else if (!sameBranches(current.location_ids, locationIds))
      await memberChanged(trx, who.tenantId, args.userId, "scope_changed");
  });
  const member = (await listMembers(db, who)).find((m) => m.userId === args.userId);
  if (!member) throw new AppError("NOT_FOUND", "no such member");
  return member;
}

async function keepAnOwner(trx: Transaction<AuthDB>): Promise<void> {
  const owners = await trx
    .selectFrom("memberships")
    .select((eb) => eb.fn.countAll<number>().as("n"))
    .where("role", "=", "owner")
    .executeTakeFirstOrThrow();
  if (Number(owners.n) <= 1) throw new AppError("CONFLICT", "a restaurant keeps at least one owner");
}

export interface Removal {
  userId: string;
  removedAt: Date;
  /** Live refresh tokens revoked (every session of the member in this restaurant). */
  revokedSessions: number;
}

/**
 * Removes a member. Owners remove anyone but themselves (and never the last owner); managers
 * remove only staff whose branches all lie within their own. In one transaction: the membership
 * is deleted, the member's open invites here are revoked (they would let them straight back in),
 * every refresh-token family of theirs in this restaurant is revoked, and member.changed is
 * queued so that the edge closes their live sockets. Their access token lapses within 15 minutes
 * and no longer passes auth's own membership checks (actorOf) meanwhile.
 */
export async function removeMember(db: Kysely<AuthDB>, who: Identity, userId: unknown): Promise<Removal> {
  const target = z.uuid().parse(userId);
  return withTenant(db, who.tenantId, async (trx) => {
    const actor = await actorOf(trx, who, "owner", "manager");
    if (target === actor.userId)
      throw new AppError("FORBIDDEN", "you cannot remove yourself; another owner can", { field: "userId" });
    const member = await trx
      .selectFrom("memberships")
      .select(["role", "location_ids"])
      .where("user_id", "=", target)
      .executeTakeFirst();
    if (!member) throw new AppError("NOT_FOUND", "no such member");
    if (
      actor.role === "manager" &&
      (member.role !== "staff" || !withinBranches(member.location_ids, actor.locationIds))
    )
      throw new AppError("FORBIDDEN", "managers remove only staff of the branches they manage");
    if (member.role === "owner") await keepAnOwner(trx);
    await trx.deleteFrom("memberships").where("user_id", "=", target).execute();
    const user = await userView(trx, target);
    if (user)
      await trx
        .updateTable("invites")
        .set({ revoked_at: new Date() })
        .where("phone", "=", user.phone)
        .where("accepted_at", "is", null)
        .where("revoked_at", "is", null)
        .execute();
    const revokedSessions = await revokeUserSessions(trx, target);
    await memberChanged(trx, who.tenantId, target, "removed");
    return { userId: target, removedAt: new Date(), revokedSessions };
  });
}
