import { sql, type Kysely, type Transaction } from "kysely";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { withTenant } from "@lsp/db";
import type { AuthDB } from "./db.js";
import { ClosedWeekdays, locationChanged, locationColumns } from "./locations.js";
import type { Grant } from "./tokens.js";

export const NewTenant = z.object({
  slug: z.string().regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "lowercase letters, digits and dashes"),
  name: z.string().trim().min(1).max(200),
  locationName: z.string().trim().min(1).max(200),
  cutoverHour: z.number().int().min(0).max(23).default(4),
  // The first location's opening days, as createLocation takes them (the AI forecasts nothing on them).
  closedWeekdays: ClosedWeekdays.default([]),
});
export type NewTenant = z.infer<typeof NewTenant>;

export const JOIN_CODE = /^[A-Z0-9]{8}$/;

/** The user of a verified phone, created on first login. Users are not tenant rows. */
async function userOf(db: Kysely<AuthDB>, phone: string): Promise<string> {
  await db
    .insertInto("users")
    .values({ phone })
    .onConflict((c) => c.column("phone").doNothing())
    .execute();
  const user = await db.selectFrom("users").select("id").where("phone", "=", phone).executeTakeFirstOrThrow();
  return user.id;
}

/** Onboarding: a new owner creates the restaurant and its first location in one step. */
export async function createTenantForOwner(
  db: Kysely<AuthDB>,
  phone: string,
  input: NewTenant,
): Promise<Grant> {
  const userId = await userOf(db, phone);
  const taken = await db.selectFrom("tenants").select("id").where("slug", "=", input.slug).executeTakeFirst();
  if (taken) throw new AppError("CONFLICT", `the name ${input.slug} is taken`, { field: "newTenant.slug" });
  return db.transaction().execute(async (trx) => {
    const tenant = await trx
      .insertInto("tenants")
      .values({ slug: input.slug, name: input.name })
      .returning("id")
      .executeTakeFirstOrThrow();
    // The tenant setting the RLS policies of this transaction's inserts check.
    await sql`SELECT set_config('lsp.tenant_id', ${tenant.id}, true)`.execute(trx);
    const location = await trx
      .insertInto("locations")
      .values({
        tenant_id: tenant.id,
        name: input.locationName,
        cutover_hour: input.cutoverHour,
        closed_weekdays: input.closedWeekdays,
      })
      .returning(locationColumns)
      .executeTakeFirstOrThrow();
    await locationChanged(trx, location);
    await trx
      .insertInto("memberships")
      .values({ tenant_id: tenant.id, user_id: userId, role: "owner", location_ids: null })
      .execute();
    return { tenantId: tenant.id, userId, role: "owner" as const, locationIds: null };
  });
}

async function acceptInvite(trx: Transaction<AuthDB>, tenantId: string, userId: string, phone: string) {
  const invite = await trx
    .selectFrom("invites")
    .select(["id", "role", "location_ids"])
    .where("phone", "=", phone)
    .where("accepted_at", "is", null)
    .where("revoked_at", "is", null)
    .where("expires_at", ">", new Date())
    .orderBy("created_at", "desc")
    .executeTakeFirst();
  if (!invite) return undefined;
  await trx.updateTable("invites").set({ accepted_at: new Date() }).where("id", "=", invite.id).execute();
  return { role: invite.role, location_ids: invite.location_ids };
}

async function useJoinCode(trx: Transaction<AuthDB>, code: string) {
  const row = await trx
    .selectFrom("join_codes")
    .select(["role", "location_ids"])
    .where("code", "=", code)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", "unknown or revoked join code", { field: "joinCode" });
  return row;
}

/**
 * Who a verified phone is in a tenant: an existing membership, else a pending invite for this
 * phone, else a join code given with the login; nothing of those = NO_MEMBERSHIP.
 */
export async function grantInTenant(
  db: Kysely<AuthDB>,
  tenantId: string,
  phone: string,
  joinCode: string | undefined,
): Promise<Grant> {
  const userId = await userOf(db, phone);
  return withTenant(db, tenantId, async (trx) => {
    const existing = await trx
      .selectFrom("memberships")
      .select(["role", "location_ids"])
      .where("user_id", "=", userId)
      .executeTakeFirst();
    const joined =
      existing ??
      (await acceptInvite(trx, tenantId, userId, phone)) ??
      (joinCode ? await useJoinCode(trx, joinCode) : undefined);
    if (!joined)
      throw new AppError(
        "NO_MEMBERSHIP",
        "this phone is not a member of this restaurant: ask for an invite or a join code",
      );
    if (!existing)
      await trx
        .insertInto("memberships")
        .values({
          tenant_id: tenantId,
          user_id: userId,
          role: joined.role,
          location_ids: joined.location_ids,
        })
        .execute();
    return { tenantId, userId, role: joined.role, locationIds: joined.location_ids };
  });
}
