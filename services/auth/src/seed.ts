// Loads the demo tenants, locations, users and memberships (auth's own tables only). Idempotent.
import { readFileSync } from "node:fs";
import { z } from "zod";
import { createDatabase, withTenant } from "@lsp/db";
import type { AuthDB } from "./db.js";
import { parseVietnameseMobile } from "./phone.js";

const Demo = z.object({
  tenants: z.array(
    z.object({
      id: z.uuid(),
      slug: z.string(),
      name: z.string(),
      members: z
        .array(
          z.object({
            phone: z.string().transform(parseVietnameseMobile),
            name: z.string(),
            role: z.enum(["owner", "manager", "staff"]),
            locationIds: z.array(z.uuid()).optional(),
          }),
        )
        .default([]),
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
  for (const m of t.members)
    await db
      .insertInto("users")
      .values({ phone: m.phone, name: m.name })
      .onConflict((c) => c.column("phone").doNothing())
      .execute();
  const users = t.members.length
    ? await db
        .selectFrom("users")
        .select(["id", "phone"])
        .where(
          "phone",
          "in",
          t.members.map((m) => m.phone),
        )
        .execute()
    : [];
  const idOf = new Map(users.map((u) => [u.phone, u.id]));
  await withTenant(db, t.id, async (trx) => {
    await trx
      .insertInto("locations")
      .values(
        t.locations.map((l) => ({ id: l.id, tenant_id: t.id, name: l.name, cutover_hour: l.cutoverHour })),
      )
      .onConflict((c) => c.doNothing())
      .execute();
    if (t.members.length)
      await trx
        .insertInto("memberships")
        .values(
          t.members.map((m) => ({
            tenant_id: t.id,
            user_id: idOf.get(m.phone) ?? "",
            role: m.role,
            location_ids: m.locationIds ?? null,
          })),
        )
        .onConflict((c) => c.columns(["tenant_id", "user_id"]).doNothing())
        .execute();
  });
}
console.log(`auth: ${demo.tenants.length} demo tenants`);
await db.destroy();
