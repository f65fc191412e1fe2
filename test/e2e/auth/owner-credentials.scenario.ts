// No app process holds its schema owner's credentials: migrations run in their own step.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import pg from "pg";
import { DATABASE, DB_SERVICES, serviceDatabaseUrl } from "../../../scripts/mesh/infra.js";
import { APPS } from "../../../scripts/mesh/ports.js";
import type { AuthMesh } from "../../support/auth.js";

/** The environment of every process in one process group (an app and anything it spawned). */
function groupEnvironments(leader: number): { pid: number; env: Map<string, string> }[] {
  const out: { pid: number; env: Map<string, string> }[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses.
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp !== leader) continue;
      const env = new Map<string, string>();
      for (const kv of readFileSync(`/proc/${entry}/environ`, "utf8").split("\0").filter(Boolean)) {
        const eq = kv.indexOf("=");
        env.set(kv.slice(0, eq), kv.slice(eq + 1));
      }
      out.push({ pid: Number(entry), env });
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

export function ownerCredentialScenarios(h: AuthMesh): void {
  test("no app process holds the schema owner's credentials: migrations ran as own_<s> in their own step, apps serve as svc_<s> only", async () => {
    const { mesh } = h;
    const apps = mesh.processes().filter((p) => (APPS as readonly string[]).includes(p.name));
    assert.deepEqual(apps.map((p) => p.name).sort(), [...APPS].sort(), "every app process is running");
    for (const app of apps) {
      const group = groupEnvironments(app.pid);
      assert.ok(
        group.some((p) => p.pid === app.pid),
        `${app.name}: its environment was read`,
      );
      for (const { pid, env } of group) {
        const where = `${app.name} (pid ${pid})`;
        assert.equal(env.has("DATABASE_MIGRATION_URL"), false, `${where} has no DATABASE_MIGRATION_URL`);
        const ownerValues = [...env].filter(([, v]) => /\bown_[a-z]/.test(v)).map(([k]) => k);
        assert.deepEqual(ownerValues, [], `${where}: no variable names an own_ role`);
      }
      if ((DB_SERVICES as readonly string[]).includes(app.name) && app.name !== "ai") {
        const own = group.find((p) => p.pid === app.pid)?.env;
        assert.equal(own?.get("DATABASE_URL"), serviceDatabaseUrl(mesh.plan.postgres, app.name));
      }
    }
    // The migrate steps did run, as the owners: every relation of each schema belongs to own_<s>.
    const admin = new pg.Client({
      connectionString: `postgres://postgres@127.0.0.1:${mesh.plan.postgres}/${DATABASE}`,
    });
    await admin.connect();
    try {
      const owners = await admin.query(
        `SELECT n.nspname AS schema, array_agg(DISTINCT pg_get_userbyid(c.relowner)::text) AS owners, count(*)::int AS n
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = ANY($1) GROUP BY 1 ORDER BY 1`,
        [["auth", "sales", "dashboard", "payments", "notifications"]],
      );
      assert.equal(owners.rows.length, 5, JSON.stringify(owners.rows));
      for (const r of owners.rows as { schema: string; owners: string[]; n: number }[])
        assert.deepEqual(
          r.owners,
          [`own_${r.schema}`],
          `${r.schema}: ${r.n} relations, all owned by own_${r.schema}`,
        );
    } finally {
      await admin.end();
    }
  });
}
