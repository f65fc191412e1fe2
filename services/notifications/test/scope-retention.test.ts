// Branch scope of preferences and of the feed, owners' notices, and retention, on a real
// PostgreSQL with notifications' migrations, connected as its own role (row security forced).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { sql } from "kysely";
import { AppError, createLogger } from "@lsp/runtime";
import { DAY_MS, runRetentionOnce, withScope, withTenant } from "@lsp/db";
import type { Identity } from "@lsp/identity";
import { startServiceDatabase, type TestServiceDatabase } from "../../../test/support/postgres.js";
import type { NotificationsDB } from "../src/db.js";
import { recipientsFor } from "../src/recipients.js";
import { retentionRules } from "../src/retention.js";
import { resolvers } from "../src/schema.js";

const log = createLogger("test", "silent");

describe("notifications: scope and retention", { timeout: 180_000 }, () => {
  let database: TestServiceDatabase<NotificationsDB>;
  before(async () => {
    database = await startServiceDatabase<NotificationsDB>(
      "notifications",
      path.join(import.meta.dirname, "..", "migrations"),
    );
  });
  after(() => database?.stop());

  const ctx = (who: Identity) => ({
    db: database.db,
    ports: { DAPR_HTTP_PORT: 1, DAPR_GRPC_PORT: 1 },
    redeliver: () => Promise.reject(new Error("no replay in this test")),
    identity: () => who,
  });
  const savePrefs = (who: Identity, input: Record<string, unknown>) =>
    resolvers.Mutation.updateNotificationPreferences(undefined, { input }, ctx(who));
  const prefRows = (tenantId: string) =>
    withTenant(database.db, tenantId, (trx) =>
      trx.selectFrom("preferences").select(["user_id", "location_ids"]).orderBy("user_id").execute(),
    );

  test("staff limited to a branch: preferences for another branch are refused (FORBIDDEN), nothing written; 'every branch' means theirs", async () => {
    const tenantId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    const staff: Identity = { tenantId, userId: "staff-1", role: "staff", locationIds: [a] };

    for (const input of [
      { locationIds: [b] },
      { locationIds: [a, b] },
      { mutedKinds: ["digest"], locationIds: [b] },
    ])
      await assert.rejects(
        savePrefs(staff, input),
        (err: unknown) => err instanceof AppError && err.code === "FORBIDDEN",
      );
    assert.deepEqual(await prefRows(tenantId), [], "nothing written");

    assert.deepEqual((await savePrefs(staff, { locationIds: null })).locationIds, [a]);
    assert.deepEqual((await savePrefs(staff, { mutedKinds: ["digest"] })).locationIds, [a]);
    // Their scope shrank to no branch: a later save keeps none of the old ones.
    assert.deepEqual(
      (await savePrefs({ ...staff, locationIds: [] }, { pushEnabled: false })).locationIds,
      [],
    );

    // An owner (every branch) may name any branch, or all of them.
    const owner: Identity = { tenantId, role: "owner", userId: "owner-1" };
    assert.equal((await savePrefs(owner, { locationIds: null })).locationIds, null);
    assert.deepEqual((await savePrefs(owner, { locationIds: [b] })).locationIds, [b]);
    // A member without a user id would write the owners' row.
    await assert.rejects(
      savePrefs({ tenantId, role: "staff", locationIds: [a] }, { locationIds: [a] }),
      (err: unknown) => err instanceof AppError && err.code === "UNAUTHENTICATED",
    );
  });

  test("the database itself refuses a scoped caller's row naming another branch or every branch", async () => {
    const tenantId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    const write = (locationIds: string[] | null) =>
      withScope(database.db, { tenantId, locationIds: [a] }, (trx) =>
        trx
          .insertInto("preferences")
          .values({ tenant_id: tenantId, user_id: "u", location_ids: locationIds })
          .onConflict((c) => c.constraint("preferences_pk").doUpdateSet({ location_ids: locationIds }))
          .execute(),
      );
    await assert.rejects(write([b]), /row-level security/);
    await assert.rejects(write(null), /row-level security/);
    await write([a]);
    await assert.rejects(write([a, b]), /row-level security/, "nor widen it by an update");
    assert.deepEqual(await prefRows(tenantId), [{ user_id: "u", location_ids: [a] }]);
  });

  test("owners are never silenced by someone else's preferences; only their own", async () => {
    const tenantId = randomUUID();
    const loc = randomUUID();
    const who = (trx: Parameters<typeof recipientsFor>[0]) => recipientsFor(trx, tenantId, loc, "payment");
    const ids = async () => (await withTenant(database.db, tenantId, who)).map((r) => r.userId).sort();

    assert.deepEqual(await ids(), [tenantId]);
    await savePrefs(
      { tenantId, userId: "staff-9", role: "staff", locationIds: [randomUUID()] },
      { locationIds: null },
    );
    assert.deepEqual(
      await ids(),
      [tenantId],
      "a staff member's first preference row does not silence the owners",
    );
    await savePrefs({ tenantId, userId: "mgr", role: "manager" }, { mutedKinds: [] });
    assert.deepEqual(await ids(), ["mgr", tenantId].sort());
    await savePrefs({ tenantId, role: "owner", userId: "o" }, { mutedKinds: ["payment"] });
    assert.deepEqual(await ids(), ["mgr"], "the owners muted payments themselves");
  });

  test("the feed of a caller limited to some branches shows those branches' entries (and branch-less ones) only", async () => {
    const tenantId = randomUUID();
    const [a, b] = [randomUUID(), randomUUID()];
    await withTenant(database.db, tenantId, (trx) =>
      trx
        .insertInto("notifications")
        .values(
          [a, b, null].map((location_id) => ({
            tenant_id: tenantId,
            user_id: "s",
            location_id,
            kind: "payment",
            title: "t",
            body: "b",
          })),
        )
        .execute(),
    );
    const staff: Identity = { tenantId, userId: "s", role: "staff", locationIds: [a] };
    const feed = await resolvers.Query.notifications(undefined, { first: 50 }, ctx(staff));
    assert.deepEqual(feed.map((n) => n.locationId).sort(), [a, null].sort());
    assert.equal(await resolvers.Query.unreadNotificationCount(undefined, {}, ctx(staff)), 2);
    assert.equal(await resolvers.Mutation.markNotificationsRead(undefined, { ids: null }, ctx(staff)), 2);
    const unreadB = await withTenant(database.db, tenantId, (trx) =>
      trx.selectFrom("notifications").select("location_id").where("read_at", "is", null).execute(),
    );
    assert.deepEqual(unreadB, [{ location_id: b }], "another branch's entry was not touched");
  });

  test("retention deletes what is past each horizon across tenants, and nothing else", async () => {
    const now = new Date();
    const ago = (days: number) => new Date(now.getTime() - days * DAY_MS);
    const day = (days: number) => ago(days).toISOString().slice(0, 10);
    const tenants = [randomUUID(), randomUUID()];
    const marker = randomUUID();
    for (const t of tenants)
      await withTenant(database.db, t, async (trx) => {
        await trx
          .insertInto("notifications")
          .values(
            [100, 10].map((d) => ({
              tenant_id: t,
              user_id: marker,
              kind: "payment",
              title: "t",
              body: "b",
              created_at: ago(d),
            })),
          )
          .execute();
        await trx
          .insertInto("dead_letters")
          .values(
            [40, 5].map((d) => ({
              tenant_id: t,
              topic: "payments",
              event_id: `${marker}-${t}-${d}`,
              event_type: "x",
              cloud_event: "{}",
              received_at: ago(d),
            })),
          )
          .execute();
        const loc = randomUUID();
        await trx
          .insertInto("day_totals")
          .values([
            {
              tenant_id: t,
              location_id: loc,
              business_day: day(60),
              revenue_vnd: 1,
              orders: 1,
              digest_sent_at: ago(59),
            },
            {
              tenant_id: t,
              location_id: loc,
              business_day: day(61),
              revenue_vnd: 1,
              orders: 1,
              digest_sent_at: null,
            },
            {
              tenant_id: t,
              location_id: loc,
              business_day: day(3),
              revenue_vnd: 1,
              orders: 1,
              digest_sent_at: ago(2),
            },
          ])
          .execute();
      });
    await sql`INSERT INTO processed_events (event_id, processed_at) VALUES (${`${marker}-old`}, ${ago(50)}), (${`${marker}-new`}, ${ago(40)})`.execute(
      database.db,
    );
    await sql`INSERT INTO outbox (type, topic, payload, created_at, published_at) VALUES
      ('x', ${marker}, '{}', ${ago(9)}, ${ago(8)}), ('x', ${marker}, '{}', ${ago(9)}, NULL), ('x', ${marker}, '{}', ${ago(1)}, ${ago(1)})`.execute(
      database.db,
    );

    const rules = retentionRules({
      RETENTION_NOTIFICATIONS_DAYS: 90,
      RETENTION_DEAD_LETTERS_DAYS: 30,
      RETENTION_PROCESSED_EVENTS_DAYS: 45,
      RETENTION_DAY_TOTALS_DAYS: 40,
      RETENTION_OUTBOX_DAYS: 7,
      RETENTION_INTERVAL_SECONDS: 900,
    });
    const report = await runRetentionOnce({ db: database.db, log, lockKey: "notifications", rules });
    assert.ok(report);
    assert.ok(
      report.deleted.notifications! >= 2 &&
        report.deleted.dead_letters! >= 2 &&
        report.deleted.day_totals! >= 2,
    );

    for (const t of tenants) {
      const left = await withTenant(database.db, t, async (trx) => ({
        notifications: (await trx.selectFrom("notifications").select("created_at").execute()).length,
        deadLetters: (await trx.selectFrom("dead_letters").select("event_id").execute()).map(
          (r) => r.event_id,
        ),
        days: (
          await trx
            .selectFrom("day_totals")
            .select(["business_day", "digest_sent_at"])
            .orderBy("business_day")
            .execute()
        ).map((r) => [r.business_day, r.digest_sent_at !== null]),
      }));
      assert.deepEqual(left, {
        notifications: 1,
        deadLetters: [`${marker}-${t}-5`],
        days: [
          [day(61), false],
          [day(3), true],
        ],
      });
    }
    const events = await sql<{
      event_id: string;
    }>`SELECT event_id FROM processed_events WHERE event_id LIKE ${`${marker}%`}`.execute(database.db);
    assert.deepEqual(events.rows, [{ event_id: `${marker}-new` }]);
    const outbox = await sql<{
      published: boolean;
    }>`SELECT published_at IS NOT NULL AS published FROM outbox WHERE topic = ${marker} ORDER BY created_at`.execute(
      database.db,
    );
    assert.deepEqual(
      outbox.rows,
      [{ published: false }, { published: true }],
      "unpublished rows are never deleted",
    );

    assert.throws(
      () =>
        retentionRules({
          RETENTION_NOTIFICATIONS_DAYS: 90,
          RETENTION_DEAD_LETTERS_DAYS: 30,
          RETENTION_PROCESSED_EVENTS_DAYS: 30,
          RETENTION_DAY_TOTALS_DAYS: 40,
          RETENTION_OUTBOX_DAYS: 7,
          RETENTION_INTERVAL_SECONDS: 900,
        }),
      /longer than/,
    );
  });
});
