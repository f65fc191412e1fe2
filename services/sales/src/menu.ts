import { sql, type Kysely } from "kysely";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { canAccessLocation, type Identity } from "@lsp/identity";
import { enqueueEvent, withTenant } from "@lsp/db";
import type { SalesDB } from "./db.js";
import { runOnce } from "./idempotency.js";
import { LIMITS } from "./limits.js";

export interface MenuItemView {
  id: string;
  category: string;
  name: string;
  priceVnd: number;
  costVnd: number;
  available: boolean;
}

export const UpsertMenuItemInput = z.object({
  idempotencyKey: z.string().min(8).max(128),
  /** Absent: a new item. */
  id: z.uuid().optional(),
  category: z.string().trim().min(1).max(200),
  name: z.string().trim().min(1).max(200),
  priceVnd: z
    .number()
    .int()
    .min(0)
    .max(LIMITS.unitPriceVnd, `a menu price is at most ${LIMITS.unitPriceVnd} VND`),
  costVnd: z
    .number()
    .int()
    .min(0)
    .max(LIMITS.unitPriceVnd, `a food cost is at most ${LIMITS.unitPriceVnd} VND`),
  available: z.boolean().default(true),
});
export type UpsertMenuItemInput = z.infer<typeof UpsertMenuItemInput>;

export const SetAvailabilityInput = z.object({
  idempotencyKey: z.string().min(8).max(128),
  itemId: z.uuid(),
  locationId: z.uuid(),
  available: z.boolean(),
});
export type SetAvailabilityInput = z.infer<typeof SetAvailabilityInput>;

function requireMenuEditor(who: Identity): void {
  if (who.role === "staff") throw new AppError("FORBIDDEN", "only owners and managers may change the menu");
}

/** The menu as one location sees it: each item's availability there (its override, else tenant-wide). */
export async function locationMenu(
  db: Kysely<SalesDB>,
  who: Identity,
  locationId: string,
): Promise<MenuItemView[]> {
  if (!canAccessLocation(who, locationId)) return [];
  const rows = await withTenant(db, who.tenantId, (trx) =>
    trx
      .selectFrom("menu_items as i")
      .leftJoin("menu_categories as c", (j) => j.onRef("c.name", "=", "i.category"))
      .leftJoin("menu_item_locations as l", (j) =>
        j.onRef("l.item_id", "=", "i.id").on("l.location_id", "=", locationId),
      )
      .select([
        "i.id",
        "i.category",
        "i.name",
        "i.price_vnd",
        "i.cost_vnd",
        sql<boolean>`coalesce(l.available, i.available)`.as("available"),
      ])
      .orderBy(sql`coalesce(c.sort_order, 0)`)
      .orderBy("i.category")
      .orderBy("i.name")
      .execute(),
  );
  return rows.map((r) => ({
    id: r.id,
    category: r.category,
    name: r.name,
    priceVnd: r.price_vnd,
    costVnd: r.cost_vnd,
    available: r.available,
  }));
}

/** Groups a menu by category, in menu order. */
export function byCategory(items: MenuItemView[]): { name: string; items: MenuItemView[] }[] {
  const groups = new Map<string, MenuItemView[]>();
  for (const item of items) groups.set(item.category, [...(groups.get(item.category) ?? []), item]);
  return [...groups].map(([name, list]) => ({ name, items: list }));
}

/** Creates or changes a tenant-wide menu item; publishes `menu.item.changed`. */
export async function upsertMenuItem(
  db: Kysely<SalesDB>,
  who: Identity,
  input: UpsertMenuItemInput,
  now = new Date(),
): Promise<MenuItemView> {
  requireMenuEditor(who);
  return withTenant(db, who.tenantId, (trx) =>
    runOnce(trx, who.tenantId, input.idempotencyKey, `upsertMenuItem:${input.id ?? "new"}`, async () => {
      await trx
        .insertInto("menu_categories")
        .values({ tenant_id: who.tenantId, name: input.category })
        .onConflict((c) => c.columns(["tenant_id", "name"]).doNothing())
        .execute();
      const values = {
        category: input.category,
        name: input.name,
        price_vnd: input.priceVnd,
        cost_vnd: input.costVnd,
        available: input.available,
      };
      const row = input.id
        ? await trx
            .updateTable("menu_items")
            .set(values)
            .where("id", "=", input.id)
            .returning("id")
            .executeTakeFirst()
        : await trx
            .insertInto("menu_items")
            .values({ tenant_id: who.tenantId, ...values })
            .returning("id")
            .executeTakeFirst();
      if (!row) throw new AppError("NOT_FOUND", `menu item ${input.id} not found`, { field: "id" });
      await enqueueEvent(trx, "menu.item.changed", {
        itemId: row.id,
        tenantId: who.tenantId,
        name: input.name,
        category: input.category,
        priceVnd: input.priceVnd,
        costVnd: input.costVnd,
        available: input.available,
        changedAt: now.toISOString(),
      });
      return {
        id: row.id,
        category: input.category,
        name: input.name,
        priceVnd: input.priceVnd,
        costVnd: input.costVnd,
        available: input.available,
      } satisfies MenuItemView;
    }),
  );
}

/** Marks an item (un)available at one location; publishes `menu.item.changed` for that location. */
export async function setItemAvailability(
  db: Kysely<SalesDB>,
  who: Identity,
  input: SetAvailabilityInput,
  now = new Date(),
): Promise<MenuItemView> {
  if (!canAccessLocation(who, input.locationId))
    throw new AppError("FORBIDDEN", "no access to this location");
  return withTenant(db, who.tenantId, (trx) =>
    runOnce(
      trx,
      who.tenantId,
      input.idempotencyKey,
      `setItemAvailability:${input.itemId}:${input.locationId}`,
      async () => {
        const item = await trx
          .selectFrom("menu_items")
          .selectAll()
          .where("id", "=", input.itemId)
          .executeTakeFirst();
        if (!item)
          throw new AppError("BAD_USER_INPUT", `unknown menu item ${input.itemId}`, { field: "itemId" });
        await trx
          .insertInto("menu_item_locations")
          .values({
            tenant_id: who.tenantId,
            item_id: item.id,
            location_id: input.locationId,
            available: input.available,
          })
          .onConflict((c) =>
            c.columns(["item_id", "location_id"]).doUpdateSet({ available: input.available }),
          )
          .execute();
        await enqueueEvent(trx, "menu.item.changed", {
          itemId: item.id,
          tenantId: who.tenantId,
          locationId: input.locationId,
          name: item.name,
          category: item.category,
          priceVnd: item.price_vnd,
          costVnd: item.cost_vnd,
          available: input.available,
          changedAt: now.toISOString(),
        });
        return {
          id: item.id,
          category: item.category,
          name: item.name,
          priceVnd: item.price_vnd,
          costVnd: item.cost_vnd,
          available: input.available,
        } satisfies MenuItemView;
      },
    ),
  );
}
