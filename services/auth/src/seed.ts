// Loads the demo tenants and locations (auth's own tables only). Idempotent.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { createDatabase, withTenant } from "@lsp/service-kit";
import type { AuthDB } from "./db.js";

const Demo = z.object({
  tenants: z.array(
    z.object({
      id: z.uuid(),
      slug: z.string(),
      name: z.string(),
      locations: z.array(z.object({ id: z.uuid(), name: z.string(), cutoverHour: z.number().int() })),
    }),
  ),
});

const file = process.argv[2];
if (!file || !process.env.DATABASE_URL)
  throw new Error("usage: DATABASE_URL=… tsx src/seed.ts <demo-data.json>");
const demo = Demo.parse(JSON.parse(readFileSync(file, "utf8")));
const { db } = createDatabase<AuthDB>(process.env.DATABASE_URL, "auth", 2);
for (const t of demo.tenants) {
  await db
    .insertInto("tenants")
    .values({ id: t.id, slug: t.slug, name: t.name })
    .onConflict((c) => c.doNothing())
    .execute();
  await withTenant(db, t.id, (trx) =>
    trx
      .insertInto("locations")
      .values(
        t.locations.map((l) => ({ id: l.id, tenant_id: t.id, name: l.name, cutover_hour: l.cutoverHour })),
      )
      .onConflict((c) => c.doNothing())
      .execute(),
  );
}
console.log(`auth: ${demo.tenants.length} demo tenants`);
await db.destroy();
