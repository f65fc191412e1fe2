import { randomInt } from "node:crypto";
import type { Kysely, Transaction } from "kysely";
import { z } from "zod";
import { AppError, withTenant, type Identity } from "@lsp/service-kit";
import type { AuthDB, Role } from "./db.js";
import { parseVietnameseMobile } from "./phone.js";

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

export async function invite(db: Kysely<AuthDB>, who: Identity, input: unknown) {
  const args = InviteInput.parse(input);
  mayGrant(who, args.role);
  return withTenant(db, who.tenantId, async (trx) => {
    await checkLocations(trx, args.locationIds);
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
  requireRole(who, "owner", "manager");
  const row = await withTenant(db, who.tenantId, (trx) =>
    trx
      .updateTable("invites")
      .set({ revoked_at: new Date() })
      .where("id", "=", z.uuid().parse(id))
      .where("accepted_at", "is", null)
      .returningAll()
      .executeTakeFirst(),
  );
  if (!row) throw new AppError("NOT_FOUND", "no open invite with this id");
  return row;
}

/** 8 characters without look-alikes (no 0/O, 1/I). */
const ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
const newJoinCode = () => Array.from({ length: 8 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

export async function createJoinCode(db: Kysely<AuthDB>, who: Identity, input: unknown) {
  const args = Grantable.parse(input);
  requireRole(who, "owner");
  return withTenant(db, who.tenantId, async (trx) => {
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
 * Owners change a member's role and locations (taking effect at the member's next token
 * refresh, within 15 minutes); a tenant never loses its last owner.
 */
export async function setMemberRole(db: Kysely<AuthDB>, who: Identity, input: unknown): Promise<MemberView> {
  const args = SetRole.parse(input);
  requireRole(who, "owner");
  if (args.role === "staff" && !args.locationIds?.length)
    throw new AppError("BAD_USER_INPUT", "staff need at least one location", { field: "locationIds" });
  await withTenant(db, who.tenantId, async (trx) => {
    await checkLocations(trx, args.locationIds);
    const current = await trx
      .selectFrom("memberships")
      .select("role")
      .where("user_id", "=", args.userId)
      .forUpdate()
      .executeTakeFirst();
    if (!current) throw new AppError("NOT_FOUND", "no such member");
    if (current.role === "owner" && args.role !== "owner") {
      const owners = await trx
        .selectFrom("memberships")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("role", "=", "owner")
        .executeTakeFirstOrThrow();
      if (Number(owners.n) <= 1) throw new AppError("CONFLICT", "a restaurant keeps at least one owner");
    }
    await trx
      .updateTable("memberships")
      .set({ role: args.role, location_ids: args.locationIds ?? null })
      .where("user_id", "=", args.userId)
      .execute();
  });
  const member = (await listMembers(db, who)).find((m) => m.userId === args.userId);
  if (!member) throw new AppError("NOT_FOUND", "no such member");
  return member;
}
