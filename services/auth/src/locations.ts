import type { Kysely, Transaction } from "kysely";
import { z } from "zod";
import { WEEKDAYS, Weekday } from "@lsp/contracts";
import { AppError } from "@lsp/runtime";
import { enqueueEvent, withScope, withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import type { AuthDB } from "./db.js";

export interface LocationView {
  id: string;
  tenantId: string;
  name: string;
  timeZone: string;
  cutoverHour: number;
  /** Weekdays closed every week, Monday first (@lsp/contracts' WEEKDAYS); empty = open daily. */
  closedWeekdays: Weekday[];
}

const columns = ["id", "tenant_id", "name", "time_zone", "cutover_hour", "closed_weekdays"] as const;

interface LocationRow {
  id: string;
  tenant_id: string;
  name: string;
  time_zone: string;
  cutover_hour: number;
  closed_weekdays: Weekday[];
}

function view(row: LocationRow): LocationView {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    name: row.name,
    timeZone: row.time_zone,
    cutoverHour: row.cutover_hour,
    closedWeekdays: row.closed_weekdays,
  };
}

/** Locations the caller may see, in the order of `ids` (null where absent or not allowed). */
export async function locationsByIds(
  db: Kysely<AuthDB>,
  who: Identity,
  ids: readonly string[],
): Promise<(LocationView | null)[]> {
  const allowed = ids.filter((id) => who.locationIds === undefined || who.locationIds.includes(id));
  const rows = allowed.length
    ? await withScope(db, who, (trx) =>
        trx.selectFrom("locations").select(columns).where("id", "in", allowed).execute(),
      )
    : [];
  const byId = new Map(rows.map((r) => [r.id, view(r)]));
  return ids.map((id) => byId.get(id) ?? null);
}

export async function listLocations(db: Kysely<AuthDB>, who: Identity): Promise<LocationView[]> {
  const rows = await withScope(db, who, (trx) => {
    let q = trx.selectFrom("locations").select(columns).orderBy("name");
    if (who.locationIds !== undefined)
      q = q.where(
        "id",
        "in",
        who.locationIds.length ? who.locationIds : ["00000000-0000-0000-0000-000000000000"],
      );
    return q.execute();
  });
  return rows.map(view);
}

/**
 * location.changed, in the transaction that created or changed the location (published after
 * commit): services keeping location settings (@lsp/locations) take the new ones
 * from it instead of asking auth on their event paths. Every write of a location's name, time
 * zone, cut-over or closed weekdays must call it.
 */
export async function locationChanged(trx: Transaction<AuthDB>, row: LocationRow): Promise<void> {
  await enqueueEvent(trx, "location.changed", {
    tenantId: row.tenant_id,
    locationId: row.id,
    name: row.name,
    timeZone: row.time_zone,
    cutoverHour: row.cutover_hour,
    closedWeekdays: row.closed_weekdays,
    occurredAt: new Date().toISOString(),
  });
}

export const locationColumns = columns;

export async function requireLocation(db: Kysely<AuthDB>, who: Identity, id: string): Promise<LocationView> {
  const [location] = await locationsByIds(db, who, [id]);
  if (!location) throw new AppError("NOT_FOUND", `location ${id} not found`);
  return location;
}

export async function tenantBySlug(db: Kysely<AuthDB>, slug: string) {
  const row = await db
    .selectFrom("tenants")
    .select(["id", "slug", "name"])
    .where("slug", "=", slug)
    .executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", `no tenant ${slug}`);
  return row;
}

/**
 * A week's closed days as the owner gives them: each weekday once, at least one day open (a
 * location closed every day is not one to forecast; it is closed by other means). Kept Monday
 * first, so that the stored list, the event and the answers read the same for the same days.
 */
export const ClosedWeekdays = z
  .array(Weekday)
  .refine((days) => new Set(days).size === days.length, "each weekday at most once")
  .refine((days) => days.length < WEEKDAYS.length, "a location must open at least one day a week")
  .transform((days) => WEEKDAYS.filter((d) => days.includes(d)));

const NewLocation = z.object({
  name: z.string().trim().min(1).max(200),
  // Only zones the runtime knows; business days are computed in it.
  timeZone: z
    .string()
    .refine(
      (tz) => Intl.supportedValuesOf("timeZone").includes(tz),
      "an IANA time zone, e.g. Asia/Ho_Chi_Minh",
    )
    .default("Asia/Ho_Chi_Minh"),
  cutoverHour: z.number().int().min(0).max(23).default(4),
  closedWeekdays: ClosedWeekdays.default([]),
});

/** Owners open another location of their restaurant (a chain grows one branch at a time). */
export async function createLocation(
  db: Kysely<AuthDB>,
  who: Identity,
  input: unknown,
): Promise<LocationView> {
  if (who.role !== "owner") throw new AppError("FORBIDDEN", "only owners may open a location");
  const args = NewLocation.parse(input);
  const row = await withTenant(db, who.tenantId, async (trx) => {
    const created = await trx
      .insertInto("locations")
      .values({
        tenant_id: who.tenantId,
        name: args.name,
        time_zone: args.timeZone,
        cutover_hour: args.cutoverHour,
        closed_weekdays: args.closedWeekdays,
      })
      .returning(columns)
      .executeTakeFirstOrThrow();
    await locationChanged(trx, created);
    return created;
  });
  return view(row);
}

const ClosedWeekdaysChange = z.object({ locationId: z.uuid(), closedWeekdays: ClosedWeekdays });

/**
 * Owners: the weekdays a location is closed every week (the forecast expects nothing then). The
 * whole list is replaced; location.changed carries it in the same transaction. Managers and
 * staff: FORBIDDEN; another tenant's or unknown location: NOT_FOUND; nothing written either way.
 */
export async function setClosedWeekdays(
  db: Kysely<AuthDB>,
  who: Identity,
  input: unknown,
): Promise<LocationView> {
  if (who.role !== "owner")
    throw new AppError("FORBIDDEN", "only owners may change a location's opening days");
  const args = ClosedWeekdaysChange.parse(input);
  const row = await withTenant(db, who.tenantId, async (trx) => {
    const changed = await trx
      .updateTable("locations")
      .set({ closed_weekdays: args.closedWeekdays })
      .where("id", "=", args.locationId)
      .returning(columns)
      .executeTakeFirst();
    if (!changed) throw new AppError("NOT_FOUND", `location ${args.locationId} not found`);
    await locationChanged(trx, changed);
    return changed;
  });
  return view(row);
}
