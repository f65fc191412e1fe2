// The retention runner on a private PostgreSQL with the mesh's roles: fixtures are created by the
// schema owner (own_sales), the runner works as the serving role (svc_sales, row security forced),
// as in a service.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { sql, type Kysely } from "kysely";
import { startTestPostgres, type TestPostgres } from "../../../test/support/postgres.js";
import {
  createDatabase,
  createRetentionFunction,
  DAY_MS,
  deleteOlderThan,
  deleteThroughFunction,
  enableTenantIsolation,
  runRetentionOnce,
  withTenant,
  type RetentionRule,
} from "./index.js";
import { createLogger } from "@lsp/runtime";

const log = createLogger("test", "silent");
const NOW = new Date("2026-11-29T00:00:00Z");
const daysAgo = (n: number) => new Date(NOW.getTime() - n * DAY_MS);

describe("retention", { timeout: 120_000 }, () => {
  let server: TestPostgres;
  let owner: Kysely<unknown>;
  let svc: Kysely<unknown>;

  before(async () => {
    server = await startTestPostgres();
    owner = createDatabase<unknown>(server.migrationUrl("sales"), "sales", 2).db;
    svc = createDatabase<unknown>(server.serviceUrl("sales"), "sales", 4).db;
    // As a migration would: a plain table (like the outbox) and a tenant table with forced RLS.
    await sql`CREATE TABLE plain (id serial PRIMARY KEY, at timestamptz NOT NULL, published boolean NOT NULL)`.execute(
      owner,
    );
    await sql`CREATE TABLE tenanted (tenant_id uuid NOT NULL, at timestamptz NOT NULL)`.execute(owner);
    await enableTenantIsolation(owner, "tenanted");
    await createRetentionFunction(owner, { name: "purge_tenanted", table: "tenanted", column: "at" });
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON plain, tenanted TO svc_sales`.execute(owner);
    await sql`GRANT USAGE ON SEQUENCE plain_id_seq TO svc_sales`.execute(owner);
  });
  after(async () => {
    await svc?.destroy();
    await owner?.destroy();
    await server?.stop();
  });

  async function count(table: "plain" | "tenanted", as: Kysely<unknown> = owner): Promise<number> {
    const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.id(table)}`.execute(as);
    return rows[0]?.n ?? -1;
  }

  async function seedPlain(old: number, fresh: number, published = true): Promise<void> {
    await sql`INSERT INTO plain (at, published)
      SELECT ${daysAgo(10)}::timestamptz, ${published} FROM generate_series(1, ${old})`.execute(svc);
    await sql`INSERT INTO plain (at, published)
      SELECT ${daysAgo(1)}::timestamptz, ${published} FROM generate_series(1, ${fresh})`.execute(svc);
  }

  const plainRule: RetentionRule = {
    name: "plain",
    horizonMs: 7 * DAY_MS,
    deleteBatch: deleteOlderThan({ table: "plain", column: "at", where: sql`published` }),
  };

  test("deletes only rows past the horizon and matching the rule, batch by batch, bounded per run", async () => {
    await sql`TRUNCATE plain`.execute(owner);
    await seedPlain(35, 5);
    await seedPlain(4, 0, false); // old but unpublished: never deleted
    const opts = { db: svc, log, lockKey: "t1", rules: [plainRule], now: () => NOW };

    const first = await runRetentionOnce({ ...opts, batchSize: 10, maxBatchesPerRun: 2 });
    assert.deepEqual(first, { deleted: { plain: 20 } });
    const second = await runRetentionOnce({ ...opts, batchSize: 10, maxBatchesPerRun: 2 });
    assert.deepEqual(second, { deleted: { plain: 15 } });
    const third = await runRetentionOnce({ ...opts, batchSize: 10 });
    assert.deepEqual(third, { deleted: { plain: 0 } });

    const { rows } = await sql<{ published: boolean; old: boolean; n: number }>`
      SELECT published, at < ${daysAgo(7)} AS old, count(*)::int AS n FROM plain GROUP BY 1, 2 ORDER BY 1, 2`.execute(
      owner,
    );
    assert.deepEqual(rows, [
      { published: false, old: true, n: 4 },
      { published: true, old: false, n: 5 },
    ]);
  });

  test("a tenant table with forced row security: a direct delete by the serving role deletes nothing; the owner's function deletes across tenants", async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    for (const t of [a, b])
      await withTenant(svc, t, (trx) =>
        sql`INSERT INTO tenanted (tenant_id, at) VALUES (${t}, ${daysAgo(40)}), (${t}, ${daysAgo(40)}), (${t}, ${daysAgo(2)})`.execute(
          trx,
        ),
      );
    const direct = await runRetentionOnce({
      db: svc,
      log,
      lockKey: "t2",
      now: () => NOW,
      rules: [
        {
          name: "tenanted",
          horizonMs: 30 * DAY_MS,
          deleteBatch: deleteOlderThan({ table: "tenanted", column: "at" }),
        },
      ],
    });
    assert.deepEqual(direct, { deleted: { tenanted: 0 } });
    assert.equal(await count("tenanted", svc), 0, "the serving role sees no rows outside a tenant");

    const viaFunction = await runRetentionOnce({
      db: svc,
      log,
      lockKey: "t2",
      now: () => NOW,
      batchSize: 3,
      rules: [
        { name: "tenanted", horizonMs: 30 * DAY_MS, deleteBatch: deleteThroughFunction("purge_tenanted") },
      ],
    });
    assert.deepEqual(viaFunction, { deleted: { tenanted: 4 } });
    for (const t of [a, b]) {
      const left = await withTenant(svc, t, (trx) =>
        sql<{ n: number }>`SELECT count(*)::int AS n FROM tenanted WHERE at > ${daysAgo(3)}`.execute(trx),
      );
      assert.equal(left.rows[0]?.n, 1, "the young row of each tenant stays");
    }
    assert.equal(
      await withTenant(svc, a, (trx) =>
        sql<{ n: number }>`SELECT count(*)::int AS n FROM tenanted`.execute(trx).then((r) => r.rows[0]?.n),
      ),
      1,
    );
  });

  test("one runner at a time: while another replica holds the lock, a run does nothing", async () => {
    await sql`TRUNCATE plain`.execute(owner);
    await seedPlain(3, 0);
    const opts = { db: svc, log, lockKey: "t3", rules: [plainRule], now: () => NOW };
    const other = createDatabase<unknown>(server.serviceUrl("sales"), "sales", 1).db;
    try {
      await other.connection().execute(async (conn) => {
        await sql`SELECT pg_advisory_lock(hashtext('lsp_retention:t3'))`.execute(conn);
        assert.equal(await runRetentionOnce(opts), null);
        assert.equal(await count("plain"), 3);
        await sql`SELECT pg_advisory_unlock(hashtext('lsp_retention:t3'))`.execute(conn);
      });
      assert.deepEqual(await runRetentionOnce(opts), { deleted: { plain: 3 } });
      const { rows } = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`.execute(svc);
      assert.equal(rows[0]?.n, 0, "the runner released its lock");
    } finally {
      await other.destroy();
    }
  });
});
