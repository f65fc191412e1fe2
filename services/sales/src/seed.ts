// Loads the demo menus (sales' own tables only). Idempotent.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { createDatabase, withTenant } from "@lsp/db";
import type { SalesDB } from "./db.js";

const Demo = z.object({
  tenants: z.array(
    z.object({
      id: z.uuid(),
      menu: z.array(
        z.object({
          id: z.uuid(),
          category: z.string(),
          name: z.string(),
          priceVnd: z.number().int(),
          costVnd: z.number().int(),
        }),
      ),
    }),
  ),
});

const file = process.argv[2];
if (!file || !process.env.DATABASE_URL)
  throw new Error("usage: DATABASE_URL=… tsx src/seed.ts <demo-data.json>");
const demo = Demo.parse(JSON.parse(readFileSync(file, "utf8")));
const { db } = createDatabase<SalesDB>(process.env.DATABASE_URL, "sales", 2);
for (const t of demo.tenants) {
  const categories = [...new Set(t.menu.map((m) => m.category))];
  await withTenant(db, t.id, (trx) =>
    trx
      .insertInto("menu_categories")
      .values(categories.map((name, i) => ({ tenant_id: t.id, name, sort_order: i })))
      .onConflict((c) => c.doNothing())
      .execute(),
  );
  await withTenant(db, t.id, (trx) =>
    trx
      .insertInto("menu_items")
      .values(
        t.menu.map((m) => ({
          id: m.id,
          tenant_id: t.id,
          category: m.category,
          name: m.name,
          price_vnd: m.priceVnd,
          cost_vnd: m.costVnd,
        })),
      )
      .onConflict((c) => c.doNothing())
      .execute(),
  );
}
console.log(`sales: menus for ${demo.tenants.length} demo tenants`);
await db.destroy();
