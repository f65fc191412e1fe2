// Location scoping against a real PostgreSQL, connected as auth's own role.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { withTenant } from "@lsp/db";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { AuthDB } from "../src/db.js";
import { listLocations, locationsByIds, requireLocation } from "../src/locations.js";

let database: TestServiceDatabase<AuthDB>;
const tenantA = randomUUID();
const tenantB = randomUUID();
const [hoanKiem, baDinh, quan1] = [randomUUID(), randomUUID(), randomUUID()];

before(async () => {
  database = await startServiceDatabase<AuthDB>("auth", path.join(import.meta.dirname, "..", "migrations"));
  const { db } = database;
  await db
    .insertInto("tenants")
    .values([
      { id: tenantA, slug: "pho-test", name: "Phở Test" },
      { id: tenantB, slug: "ca-phe-test", name: "Cà phê Test" },
    ])
    .execute();
  await withTenant(db, tenantA, (trx) =>
    trx
      .insertInto("locations")
      .values([
        { id: hoanKiem, tenant_id: tenantA, name: "Hoàn Kiếm" },
        { id: baDinh, tenant_id: tenantA, name: "Ba Đình" },
      ])
      .execute(),
  );
  await withTenant(db, tenantB, (trx) =>
    trx.insertInto("locations").values({ id: quan1, tenant_id: tenantB, name: "Quận 1" }).execute(),
  );
});
after(() => database?.stop());

test("an owner sees every location of the tenant, with the Vietnamese defaults", async () => {
  const all = await listLocations(database.db, { tenantId: tenantA, role: "owner" });
  assert.deepEqual(
    all.map((l) => [l.name, l.timeZone, l.cutoverHour]),
    [
      ["Ba Đình", "Asia/Ho_Chi_Minh", 4],
      ["Hoàn Kiếm", "Asia/Ho_Chi_Minh", 4],
    ],
  );
});

test("staff see only their listed locations; no listed location means none", async () => {
  const staff = { tenantId: tenantA, role: "staff" as const, locationIds: [hoanKiem] };
  assert.deepEqual(
    (await listLocations(database.db, staff)).map((l) => l.id),
    [hoanKiem],
  );
  assert.deepEqual(
    (await locationsByIds(database.db, staff, [baDinh, hoanKiem])).map((l) => l?.id ?? null),
    [null, hoanKiem],
  );
  assert.deepEqual(await listLocations(database.db, { ...staff, locationIds: [] }), []);
});

test("another tenant's location is invisible even when asked for by id", async () => {
  const owner = { tenantId: tenantA, role: "owner" as const };
  assert.deepEqual(await locationsByIds(database.db, owner, [quan1]), [null]);
  await assert.rejects(requireLocation(database.db, owner, quan1), { code: "NOT_FOUND" });
});
