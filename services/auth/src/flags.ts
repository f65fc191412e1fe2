import type { Kysely, Selectable, Transaction } from "kysely";
import { AppError } from "@lsp/runtime";
import {
  FLAG_CATALOGUE,
  FlagDefinition,
  isFlagKey,
  parseItemKey,
  ruleItemKey,
  type RuleScope,
  type RuleValue,
} from "@lsp/contracts";
import { withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import type { AuthDB, FeatureFlagAuditTable } from "./db.js";

/**
 * Writing feature flags (issue 16): the one module that changes the `flags` configuration
 * store's table, for owners through GraphQL (schema.ts) and for the platform team through
 * `npm run flags` (scripts/flags.ts). Each change is one transaction: the item (version + 1, so
 * every subscriber's trigger notification supersedes what it holds) and its audit row (who,
 * when, old → new) commit together; a change to what is already there writes nothing.
 */

/** Who changes a flag: an owner (`user:<id>`) or the platform team (`platform:<name>`). */
export interface FlagActor {
  actor: string;
  role: "owner" | "platform";
}

export interface FlagChange {
  flag: string;
  itemKey: string;
  tenantId: string | null;
  locationId: string | null;
  previous: string | null;
  current: string;
  changed: boolean;
  at: Date;
}

/** Inserts each catalogue flag's definition once (never overwrites one that exists). */
export async function ensureFlagCatalogue(db: Kysely<AuthDB>): Promise<number> {
  const rows = Object.entries(FLAG_CATALOGUE).map(([key, c]) => ({
    key,
    value: JSON.stringify({
      description: c.description,
      ownerControllable: c.ownerControllable,
      default: c.default,
      killSwitch: false,
      rolloutPercent: null,
    } satisfies FlagDefinition),
    version: "1",
  }));
  const inserted = await db
    .insertInto("feature_flags")
    .values(rows)
    .onConflict((c) => c.column("key").doNothing())
    .returning("key")
    .execute();
  return inserted.length;
}

async function readDefinition(
  trx: Transaction<AuthDB>,
  flag: string,
  lock: boolean,
): Promise<FlagDefinition> {
  let query = trx.selectFrom("feature_flags").select(["value"]).where("key", "=", flag);
  if (lock) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError("NOT_FOUND", `no feature flag ${flag}`, { field: "key" });
  return FlagDefinition.parse(JSON.parse(row.value));
}

/** Writes one item (locked read, version + 1) and its audit row, in `trx`. */
async function writeItem(
  trx: Transaction<AuthDB>,
  a: { flag: string; itemKey: string; tenantId: string | null; locationId: string | null; value: string },
  by: FlagActor,
): Promise<FlagChange> {
  const old = await trx
    .selectFrom("feature_flags")
    .select(["value", "version"])
    .where("key", "=", a.itemKey)
    .forUpdate()
    .executeTakeFirst();
  const base = {
    flag: a.flag,
    itemKey: a.itemKey,
    tenantId: a.tenantId,
    locationId: a.locationId,
    previous: old?.value ?? null,
    current: a.value,
  };
  if (old?.value === a.value || (!old && a.value === "inherit"))
    return { ...base, changed: false, at: new Date() };
  const version = String(Number(old?.version ?? "0") + 1);
  await trx
    .insertInto("feature_flags")
    .values({ key: a.itemKey, value: a.value, version })
    .onConflict((c) => c.column("key").doUpdateSet({ value: a.value, version }))
    .execute();
  const audit = await trx
    .insertInto("feature_flag_audit")
    .values({
      flag: a.flag,
      item_key: a.itemKey,
      tenant_id: a.tenantId,
      location_id: a.locationId,
      actor: by.actor,
      actor_role: by.role,
      old_value: old?.value ?? null,
      new_value: a.value,
    })
    .returning("at")
    .executeTakeFirstOrThrow();
  return { ...base, changed: true, at: audit.at };
}

async function assertLocationOfTenant(
  db: Kysely<AuthDB>,
  tenantId: string,
  locationId: string,
): Promise<void> {
  const found = await withTenant(db, tenantId, (trx) =>
    trx.selectFrom("locations").select("id").where("id", "=", locationId).executeTakeFirst(),
  );
  if (!found)
    throw new AppError("NOT_FOUND", `location ${locationId} is not a location of this restaurant`, {
      field: "locationId",
    });
}

/**
 * Sets (on / off) or clears (inherit) a flag's rule for a tenant, or for one of its locations.
 * The platform may set any flag; an owner only an owner-controllable flag of their own
 * restaurant (checked here, before anything is written). Managers and staff: FORBIDDEN.
 */
export async function setFlagRule(
  db: Kysely<AuthDB>,
  by: FlagActor,
  a: { flag: string; tenantId: string; locationId?: string | null; value: RuleValue },
): Promise<FlagChange> {
  if (!isFlagKey(a.flag))
    throw new AppError("BAD_USER_INPUT", `unknown feature flag ${a.flag}`, { field: "key" });
  const locationId = a.locationId ?? null;
  if (locationId) await assertLocationOfTenant(db, a.tenantId, locationId);
  const scope: RuleScope = locationId ? "location" : "tenant";
  const itemKey = ruleItemKey(a.flag, scope, locationId ?? a.tenantId);
  return withTenant(db, a.tenantId, async (trx) => {
    const definition = await readDefinition(trx, a.flag, false);
    if (by.role === "owner" && !definition.ownerControllable)
      throw new AppError("FORBIDDEN", `${a.flag} is switched by the platform team, not by owners`, {
        field: "key",
      });
    return writeItem(trx, { flag: a.flag, itemKey, tenantId: a.tenantId, locationId, value: a.value }, by);
  });
}

/** An owner's switch of their own restaurant's flag (GraphQL): owners only, nothing written otherwise. */
export async function ownerSetFlag(
  db: Kysely<AuthDB>,
  who: Identity,
  a: { flag: string; locationId?: string | null; value: RuleValue },
): Promise<FlagChange> {
  if (who.role !== "owner")
    throw new AppError("FORBIDDEN", "only the restaurant's owner may switch its feature flags");
  return setFlagRule(db, { actor: `user:${who.userId}`, role: "owner" }, { ...a, tenantId: who.tenantId });
}

/** Platform only: a change of the definition (default, kill switch, rollout percentage). */
export async function changeDefinition(
  db: Kysely<AuthDB>,
  by: FlagActor,
  flag: string,
  change: Partial<Pick<FlagDefinition, "default" | "killSwitch" | "rolloutPercent">>,
): Promise<FlagChange> {
  if (by.role !== "platform")
    throw new AppError("FORBIDDEN", "only the platform team changes a flag's definition");
  const parsed = FlagDefinition.partial().parse(change);
  return db.transaction().execute(async (trx) => {
    const definition = await readDefinition(trx, flag, true);
    const next = FlagDefinition.parse({ ...definition, ...parsed });
    return writeItem(
      trx,
      { flag, itemKey: flag, tenantId: null, locationId: null, value: JSON.stringify(next) },
      by,
    );
  });
}

export interface FlagListing {
  key: string;
  definition: FlagDefinition;
  rules: { scope: RuleScope; id: string; value: "on" | "off" }[];
}

/** Every flag with its rules (optionally only those of one tenant and its locations). */
export async function listFlags(
  db: Kysely<AuthDB>,
  tenant?: { id: string; locationIds: string[] },
): Promise<FlagListing[]> {
  const rows = await db.selectFrom("feature_flags").select(["key", "value"]).orderBy("key").execute();
  const flags = new Map<string, FlagListing>();
  const rules: { flag: string; scope: RuleScope; id: string; value: string }[] = [];
  for (const row of rows) {
    const parsed = parseItemKey(row.key);
    if (!parsed) continue;
    if (parsed.kind === "definition")
      flags.set(parsed.flag, {
        key: parsed.flag,
        definition: FlagDefinition.parse(JSON.parse(row.value)),
        rules: [],
      });
    else rules.push({ flag: parsed.flag, scope: parsed.kind, id: parsed.id, value: row.value });
  }
  const mine = (r: { scope: RuleScope; id: string }) =>
    !tenant || (r.scope === "tenant" ? r.id === tenant.id : tenant.locationIds.includes(r.id));
  for (const r of rules)
    if ((r.value === "on" || r.value === "off") && mine(r))
      flags.get(r.flag)?.rules.push({ scope: r.scope, id: r.id, value: r.value });
  return [...flags.values()];
}

export interface AuditEntry {
  at: Date;
  itemKey: string;
  tenantId: string | null;
  locationId: string | null;
  actor: string;
  actorRole: string;
  oldValue: string | null;
  newValue: string;
}

const auditColumns = [
  "at",
  "item_key",
  "tenant_id",
  "location_id",
  "actor",
  "actor_role",
  "old_value",
  "new_value",
] as const;
const toEntry = (r: Pick<Selectable<FeatureFlagAuditTable>, (typeof auditColumns)[number]>): AuditEntry => ({
  at: r.at,
  itemKey: r.item_key,
  tenantId: r.tenant_id,
  locationId: r.location_id,
  actor: r.actor,
  actorRole: r.actor_role,
  oldValue: r.old_value,
  newValue: r.new_value,
});

/** A tenant's audit of one flag (its rules' changes), newest first, inside its RLS scope. */
export async function tenantFlagAudit(db: Kysely<AuthDB>, tenantId: string, flag: string, limit = 100) {
  const rows = await withTenant(db, tenantId, (trx) =>
    trx
      .selectFrom("feature_flag_audit")
      .select(auditColumns)
      .where("flag", "=", flag)
      .orderBy("at", "desc")
      .orderBy("id", "desc")
      .limit(limit)
      .execute(),
  );
  return rows.map(toEntry);
}

/** Every change of a flag, all tenants: a platform-admin read, on the owner role's connection. */
export async function platformFlagAudit(ownerDb: Kysely<AuthDB>, flag: string, limit = 200) {
  const rows = await ownerDb
    .selectFrom("feature_flag_audit")
    .select(auditColumns)
    .where("flag", "=", flag)
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(limit)
    .execute();
  return rows.map(toEntry);
}
