// The migrate step and the serving check, on a private PostgreSQL with the mesh's roles
// (own_<s> owns the schema, svc_<s> serves): a real service's entry point refuses to serve an
// unmigrated schema, migrates as the owner with LSP_MIGRATE_ONLY=1, and a partly migrated
// schema is refused with the missing migrations named.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startTestPostgres, type TestPostgres } from "../../../test/support/postgres.js";
import { createLogger } from "@lsp/runtime";
import { migrateAsOwner, openServiceDatabase, SchemaNotMigratedError } from "./index.js";

const REPO = path.resolve(import.meta.dirname, "..", "..", "..");
const SALES = path.join(REPO, "services", "sales");
const log = createLogger("test", "silent");

interface Run {
  code: number | null;
  lines: Record<string, unknown>[];
  stderr: string;
}

/** Runs sales' real entry point with exactly `env` (plus PATH), as the mesh and the pod do. */
function runSales(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "src/main.ts"], {
      cwd: SALES,
      env: { PATH: process.env.PATH ?? "", SERVICE_NAME: "sales", LOG_LEVEL: "info", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      const lines = stdout
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      resolve({ code, lines, stderr });
    });
  });
}

describe("migrate step and serving check", { timeout: 240_000 }, () => {
  let pgServer: TestPostgres;
  const fixtures = mkdtempSync(path.join(os.tmpdir(), "lsp-migrations-"));

  before(async () => {
    pgServer = await startTestPostgres();
  });
  after(async () => {
    await pgServer?.stop();
    rmSync(fixtures, { recursive: true, force: true });
  });

  async function salesRelations(): Promise<{ owner: string; n: number }[]> {
    const client = new pg.Client({ connectionString: pgServer.serviceUrl("sales") });
    await client.connect();
    try {
      const r = await client.query(
        `SELECT pg_get_userbyid(c.relowner) AS owner, count(*)::int AS n FROM pg_class c
         WHERE c.relnamespace = 'sales'::regnamespace GROUP BY 1 ORDER BY 1`,
      );
      return r.rows as { owner: string; n: number }[];
    } finally {
      await client.end();
    }
  }

  test("serving an unmigrated schema: refused with a JSON error naming the migrate step; nothing created", async () => {
    const run = await runSales({
      APP_PORT: "1",
      OPS_PORT: "2",
      DAPR_API_TOKEN: "d".repeat(32),
      APP_API_TOKEN: "a".repeat(32),
      DATABASE_URL: pgServer.serviceUrl("sales"),
    });
    assert.equal(run.code, 1, run.stderr);
    const fatal = run.lines.find((l) => l.code === "SCHEMA_NOT_MIGRATED");
    assert.ok(fatal, JSON.stringify(run.lines));
    assert.equal(fatal.level, "fatal");
    assert.equal(fatal.schema, "sales");
    assert.match(String(fatal.msg), /LSP_MIGRATE_ONLY=1/);
    assert.ok(Array.isArray(fatal.missing) && fatal.missing.length > 0);
    assert.deepEqual(await salesRelations(), []);
  });

  test("the migrate step without the owner's URL: JSON error, exit 78", async () => {
    const run = await runSales({ LSP_MIGRATE_ONLY: "1", DATABASE_URL: pgServer.serviceUrl("sales") });
    assert.equal(run.code, 78, run.stderr);
    const fatal = run.lines.find((l) => l.code === "INVALID_CONFIG");
    assert.ok(fatal, JSON.stringify(run.lines));
    assert.match(String(fatal.msg), /DATABASE_MIGRATION_URL/);
    assert.deepEqual(await salesRelations(), []);
  });

  test("the migrate step with an owner it cannot connect as: JSON error, exit 1", async () => {
    const wrong = pgServer.migrationUrl("sales").replace("own_sales", "own_nobody");
    const run = await runSales({ LSP_MIGRATE_ONLY: "1", DATABASE_MIGRATION_URL: wrong });
    assert.equal(run.code, 1, run.stderr);
    const fatal = run.lines.find((l) => l.code === "MIGRATION_FAILED");
    assert.ok(fatal, JSON.stringify(run.lines));
    assert.match(JSON.stringify(fatal.err), /own_nobody/);
  });

  test("the migrate step (owner URL only, no DATABASE_URL) exits 0; the serving role then passes the check and owns nothing", async () => {
    const run = await runSales({
      LSP_MIGRATE_ONLY: "true",
      DATABASE_MIGRATION_URL: pgServer.migrationUrl("sales"),
    });
    assert.equal(run.code, 0, run.stderr + JSON.stringify(run.lines));
    assert.ok(run.lines.some((l) => l.msg === "migrate step done: the schema is at the latest migration"));
    const relations = await salesRelations();
    assert.deepEqual(
      relations.map((r) => r.owner),
      ["own_sales"],
    );
    const database = await openServiceDatabase(
      {
        url: pgServer.serviceUrl("sales"),
        schema: "sales",
        poolMax: 1,
        migrationsDir: path.join(SALES, "migrations"),
        migrate: false,
      },
      log,
    );
    await database.db.destroy();
    // A second run (the next replica's init container) changes nothing and succeeds.
    const again = await runSales({
      LSP_MIGRATE_ONLY: "1",
      DATABASE_MIGRATION_URL: pgServer.migrationUrl("sales"),
    });
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await salesRelations(), relations);
  });

  test("a schema behind the code is refused with the missing migrations named; ahead of it is served", async () => {
    // Plain ES modules so that the folder needs nothing to import.
    const migration = (table: string) =>
      `export async function up(db) { await db.schema.createTable(${JSON.stringify(table)}).addColumn("id", "integer").execute(); }\n`;
    const v1 = path.join(fixtures, "v1");
    const v2 = path.join(fixtures, "v2");
    for (const dir of [v1, v2]) mkdirSync(dir);
    writeFileSync(path.join(v1, "0001_first.mjs"), migration("first"));
    writeFileSync(path.join(v2, "0001_first.mjs"), migration("first"));
    writeFileSync(path.join(v2, "0002_second.mjs"), migration("second"));
    const open = (migrationsDir: string) =>
      openServiceDatabase(
        {
          url: pgServer.serviceUrl("notifications"),
          schema: "notifications",
          poolMax: 1,
          migrationsDir,
          migrate: false,
        },
        log,
      );
    const owner = { migrationUrl: pgServer.migrationUrl("notifications"), schema: "notifications" };

    await assert.rejects(open(v1), (err: unknown) => {
      assert.ok(err instanceof SchemaNotMigratedError);
      assert.deepEqual(err.missing, ["0001_first"]);
      return true;
    });
    await migrateAsOwner({ ...owner, migrationsDir: v1 }, log);
    await (await open(v1)).db.destroy();
    await assert.rejects(open(v2), (err: unknown) => {
      assert.ok(err instanceof SchemaNotMigratedError);
      assert.deepEqual(err.missing, ["0002_second"]);
      assert.match(
        err.message,
        /schema "notifications" is missing migrations 0002_second: run the service's migrate step/,
      );
      return true;
    });
    await migrateAsOwner({ ...owner, migrationsDir: v2 }, log);
    await (await open(v2)).db.destroy();
    // The previous release, still running during a rollout, keeps serving the newer schema.
    await (await open(v1)).db.destroy();
  });
});
