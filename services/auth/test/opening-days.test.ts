// A location's closed weekdays on a real PostgreSQL (auth's own role, row-level security on):
// the default, createLocation and setClosedWeekdays, each refusal writing nothing, and
// location.changed carrying the days in the same transaction.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { LocationChanged } from "@lsp/contracts";
import { withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import { toAppError } from "@lsp/runtime";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { AuthDB } from "../src/db.js";
import { createLocation, requireLocation, setClosedWeekdays } from "../src/locations.js";
import { createTenantForOwner, NewTenant } from "../src/login.js";

let database: TestServiceDatabase<AuthDB>;
const tenant = randomUUID();
const otherTenant = randomUUID();
const [hoanKiem, quan1] = [randomUUID(), randomUUID()];
const owner: Identity = { tenantId: tenant, userId: randomUUID(), role: "owner" };

before(async () => {
  database = await startServiceDatabase<AuthDB>("auth", path.join(import.meta.dirname, "..", "migrations"));
  const { db } = database;
  await db
    .insertInto("tenants")
    .values([
      { id: tenant, slug: `bun-cha-${process.pid}`, name: "Bún chả" },
      { id: otherTenant, slug: `banh-mi-${process.pid}`, name: "Bánh mì" },
    ])
    .execute();
  await withTenant(db, tenant, (trx) =>
    trx.insertInto("locations").values({ id: hoanKiem, tenant_id: tenant, name: "Hoàn Kiếm" }).execute(),
  );
  await withTenant(db, otherTenant, (trx) =>
    trx.insertInto("locations").values({ id: quan1, tenant_id: otherTenant, name: "Quận 1" }).execute(),
  );
});
after(() => database?.stop());

/** The location.changed events of one location, oldest first, as their contract reads them. */
const eventsOf = async (locationId: string) =>
  (
    await database.db
      .selectFrom("outbox")
      .select(["topic", "payload"])
      .where("type", "=", "location.changed")
      .orderBy("created_at")
      .execute()
  )
    .map((r) => ({ topic: r.topic, ...LocationChanged.parse(r.payload) }))
    .filter((e) => e.locationId === locationId);

const refused = (p: Promise<unknown>, code: string) =>
  assert.rejects(p, (err: unknown) => {
    assert.equal(toAppError(err).code, code);
    return true;
  });

const closedOf = async (id: string) => (await requireLocation(database.db, owner, id)).closedWeekdays;

test("a location is open every day unless told otherwise", async () => {
  assert.deepEqual(await closedOf(hoanKiem), []);
  const created = await createLocation(database.db, owner, { name: "Ba Đình" });
  assert.deepEqual(created.closedWeekdays, []);
  assert.deepEqual((await eventsOf(created.id)).at(-1)?.closedWeekdays, []);
});

test("createLocation takes the closed weekdays, kept Monday first, and announces them", async () => {
  const created = await createLocation(database.db, owner, {
    name: "Tây Hồ",
    closedWeekdays: ["SUNDAY", "MONDAY"],
  });
  assert.deepEqual(created.closedWeekdays, ["MONDAY", "SUNDAY"]);
  assert.deepEqual(await closedOf(created.id), ["MONDAY", "SUNDAY"]);
  const events = await eventsOf(created.id);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.topic, "locations");
  assert.deepEqual(events[0]?.closedWeekdays, ["MONDAY", "SUNDAY"]);
});

test("a new restaurant's first location takes its closed weekdays at sign-up", async () => {
  const input = NewTenant.parse({
    slug: `com-tam-${process.pid}`,
    name: "Cơm tấm",
    locationName: "Quận 3",
    closedWeekdays: ["TUESDAY", "MONDAY"],
  });
  const phone = `+8490${String(process.pid).padStart(7, "0").slice(-7)}`;
  const grant = await createTenantForOwner(database.db, phone, input);
  const signedUp: Identity = { tenantId: grant.tenantId, userId: grant.userId, role: "owner" };
  const [first] = await withTenant(database.db, grant.tenantId, (trx) =>
    trx.selectFrom("locations").select("id").execute(),
  );
  assert.ok(first);
  assert.deepEqual((await requireLocation(database.db, signedUp, first.id)).closedWeekdays, [
    "MONDAY",
    "TUESDAY",
  ]);
  assert.deepEqual((await eventsOf(first.id)).at(-1)?.closedWeekdays, ["MONDAY", "TUESDAY"]);
  // Without them the first location is open every day; all seven is not a restaurant to forecast.
  assert.deepEqual(NewTenant.parse({ slug: "x", name: "X", locationName: "Y" }).closedWeekdays, []);
  const allWeek = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
  assert.equal(
    NewTenant.safeParse({ slug: "x", name: "X", locationName: "Y", closedWeekdays: allWeek }).success,
    false,
  );
});

test("an owner sets and clears the closed weekdays; each write is one location.changed", async () => {
  const before = (await eventsOf(hoanKiem)).length;
  const set = await setClosedWeekdays(database.db, owner, {
    locationId: hoanKiem,
    closedWeekdays: ["WEDNESDAY", "MONDAY"],
  });
  assert.deepEqual(set.closedWeekdays, ["MONDAY", "WEDNESDAY"]);
  assert.deepEqual(await closedOf(hoanKiem), ["MONDAY", "WEDNESDAY"]);
  let events = await eventsOf(hoanKiem);
  assert.equal(events.length, before + 1);
  assert.deepEqual(events.at(-1)?.closedWeekdays, ["MONDAY", "WEDNESDAY"]);
  assert.equal(events.at(-1)?.name, "Hoàn Kiếm");
  assert.equal(events.at(-1)?.cutoverHour, 4);

  const cleared = await setClosedWeekdays(database.db, owner, { locationId: hoanKiem, closedWeekdays: [] });
  assert.deepEqual(cleared.closedWeekdays, []);
  events = await eventsOf(hoanKiem);
  assert.equal(events.length, before + 2);
  assert.deepEqual(events.at(-1)?.closedWeekdays, []);
});

test("bad days, other roles and other tenants' locations are refused and write nothing", async () => {
  await setClosedWeekdays(database.db, owner, { locationId: hoanKiem, closedWeekdays: ["TUESDAY"] });
  const before = (await eventsOf(hoanKiem)).length;
  const all = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY"];
  await refused(
    setClosedWeekdays(database.db, owner, { locationId: hoanKiem, closedWeekdays: ["MONDAY", "MONDAY"] }),
    "BAD_USER_INPUT",
  );
  await refused(
    setClosedWeekdays(database.db, owner, { locationId: hoanKiem, closedWeekdays: all }),
    "BAD_USER_INPUT",
  );
  await refused(
    setClosedWeekdays(database.db, owner, { locationId: hoanKiem, closedWeekdays: ["LUNDI"] }),
    "BAD_USER_INPUT",
  );
  await refused(
    setClosedWeekdays(database.db, owner, { locationId: "not-a-uuid", closedWeekdays: [] }),
    "BAD_USER_INPUT",
  );
  for (const role of ["manager", "staff"] as const)
    await refused(
      setClosedWeekdays(
        database.db,
        {
          tenantId: tenant,
          userId: randomUUID(),
          role,
          ...(role === "staff" ? { locationIds: [hoanKiem] } : {}),
        },
        { locationId: hoanKiem, closedWeekdays: ["MONDAY"] },
      ),
      "FORBIDDEN",
    );
  await refused(
    setClosedWeekdays(database.db, owner, { locationId: quan1, closedWeekdays: ["MONDAY"] }),
    "NOT_FOUND",
  );
  await refused(
    setClosedWeekdays(database.db, owner, { locationId: randomUUID(), closedWeekdays: ["MONDAY"] }),
    "NOT_FOUND",
  );
  await refused(
    createLocation(database.db, owner, { name: "Đống Đa", closedWeekdays: all }),
    "BAD_USER_INPUT",
  );
  assert.deepEqual(await closedOf(hoanKiem), ["TUESDAY"]);
  assert.equal((await eventsOf(hoanKiem)).length, before);
  assert.deepEqual(await eventsOf(quan1), []);
  const otherOwner: Identity = { tenantId: otherTenant, userId: randomUUID(), role: "owner" };
  assert.deepEqual((await requireLocation(database.db, otherOwner, quan1)).closedWeekdays, []);
});

test("the column itself refuses a list auth's code would never write", async () => {
  await refused(
    withTenant(database.db, tenant, (trx) =>
      trx
        .updateTable("locations")
        .set({ closed_weekdays: ["MONDAY", "FUNDAY"] as never })
        .where("id", "=", hoanKiem)
        .execute(),
    ),
    "INTERNAL",
  );
});
