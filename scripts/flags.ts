// The platform team's feature-flag tool (issue 16):
//
//   npm run flags -- list [--tenant <slug>]
//   npm run flags -- set <key> on|off|inherit [--tenant <slug> [--location <id>]]
//   npm run flags -- rollout <key> <percent>|off
//   npm run flags -- kill <key> on|off
//   npm run flags -- audit <key>
//
// `set` without --tenant sets the global default; with --tenant (and --location) a rule for that
// restaurant (or one of its locations), `inherit` clearing it. `rollout` enables the flag for that
// share of restaurants (stable per restaurant), `off` returning to the default. `kill on` turns
// the flag off for everyone whatever else says. Every change is written with its audit row (who:
// `platform:<--as or $USER>`), and every app's subscription sees it within milliseconds.
//
// Against the local mesh (`npm start`, LSP_PORT_BASE, default 4000) it connects to the mesh's
// PostgreSQL as auth's roles. Against a cluster: set LSP_FLAGS_DATABASE_URL (auth's serving role,
// the `auth-database-url` Secret) and, for `audit`, LSP_FLAGS_AUDIT_DATABASE_URL (auth's owner
// role, `auth-database-migration-url`), e.g. through `kubectl port-forward` (docs/kubernetes.md).
import { parseArgs } from "node:util";
import { userInfo } from "node:os";
import { z } from "zod";
import { AppError } from "@lsp/runtime";
import { FLAG_KEYS, isFlagKey } from "@lsp/contracts";
import { createDatabase, withTenant } from "@lsp/db";
import type { AuthDB } from "../services/auth/src/db.js";
import {
  changeDefinition,
  listFlags,
  platformFlagAudit,
  setFlagRule,
  type FlagActor,
  type FlagChange,
} from "../services/auth/src/flags.js";
import { migrationDatabaseUrl, serviceDatabaseUrl } from "./mesh/infra.js";
import { portPlan } from "./mesh/ports.js";

const USAGE = `usage:
  npm run flags -- list [--tenant <slug>]
  npm run flags -- set <key> on|off|inherit [--tenant <slug> [--location <id>]]
  npm run flags -- rollout <key> <percent 0-100>|off
  npm run flags -- kill <key> on|off
  npm run flags -- audit <key>
options: --as <name> (who, in the audit; default $USER), --json
keys: ${FLAG_KEYS.join(", ")}`;

function fail(message: string): never {
  console.error(`flags: ${message}\n${USAGE}`);
  process.exit(2);
}

function urls(): { serving: string; owner: string } {
  const base = Number(process.env.LSP_PORT_BASE ?? 4000);
  const port = portPlan(base).postgres;
  return {
    serving: process.env.LSP_FLAGS_DATABASE_URL ?? serviceDatabaseUrl(port, "auth"),
    owner: process.env.LSP_FLAGS_AUDIT_DATABASE_URL ?? migrationDatabaseUrl(port, "auth"),
  };
}

const onOff = (v: string | undefined, allowInherit: boolean) => {
  if (v === "on" || v === "off" || (allowInherit && v === "inherit")) return v;
  return fail(`expected on|off${allowInherit ? "|inherit" : ""}, got ${v ?? "nothing"}`);
};

const flagArg = (key: string | undefined): string => {
  if (!key || !isFlagKey(key)) return fail(`unknown flag ${key ?? "(none)"}`);
  return key;
};

function printChange(c: FlagChange): void {
  const where = c.locationId ? `location ${c.locationId}` : c.tenantId ? `tenant ${c.tenantId}` : "global";
  console.log(
    c.changed
      ? `${c.flag} (${where}): ${c.previous ?? "(none)"} → ${c.current}`
      : `${c.flag} (${where}): already ${c.current}; nothing written`,
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      location: { type: "string" },
      as: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const [command, ...rest] = positionals;
  const by: FlagActor = { actor: `platform:${values.as ?? userInfo().username}`, role: "platform" };
  const { serving, owner } = urls();
  const { db } = createDatabase<AuthDB>(serving, "auth", 2);
  try {
    const tenantOf = async (slug: string) => {
      const t = await db
        .selectFrom("tenants")
        .select(["id", "slug"])
        .where("slug", "=", slug)
        .executeTakeFirst();
      if (!t) return fail(`no tenant ${slug}`);
      const locations = await withTenant(db, t.id, (trx) =>
        trx.selectFrom("locations").select("id").where("tenant_id", "=", t.id).execute(),
      );
      return { id: t.id, locationIds: locations.map((l) => l.id) };
    };
    switch (command) {
      case "list": {
        const tenant = values.tenant ? await tenantOf(values.tenant) : undefined;
        const flags = await listFlags(db, tenant);
        if (values.json) return console.log(JSON.stringify(flags, null, 2));
        for (const f of flags) {
          const d = f.definition;
          console.log(
            `${f.key}: default ${d.default ? "on" : "off"}${d.killSwitch ? ", KILLED" : ""}` +
              `${d.rolloutPercent === null ? "" : `, rollout ${d.rolloutPercent}%`}` +
              `${d.ownerControllable ? ", owner-controllable" : ""} — ${d.description}`,
          );
          for (const r of f.rules) console.log(`    ${r.scope} ${r.id}: ${r.value}`);
        }
        return;
      }
      case "set": {
        const flag = flagArg(rest[0]);
        const value = onOff(rest[1], values.tenant !== undefined);
        if (values.location && !values.tenant) fail("--location needs --tenant <slug> (its restaurant)");
        if (!values.tenant) {
          if (value === "inherit") fail("inherit needs --tenant");
          return printChange(await changeDefinition(db, by, flag, { default: value === "on" }));
        }
        const tenant = await tenantOf(values.tenant);
        const locationId = values.location ? z.uuid().parse(values.location) : null;
        return printChange(
          await setFlagRule(db, by, {
            flag,
            tenantId: tenant.id,
            locationId,
            value: value as "on" | "off" | "inherit",
          }),
        );
      }
      case "rollout": {
        const flag = flagArg(rest[0]);
        const raw = rest[1];
        const percent = raw === "off" ? null : Number(raw);
        if (percent !== null && !(Number.isInteger(percent) && percent >= 0 && percent <= 100))
          fail(`rollout percent must be an integer 0-100 or off, got ${raw ?? "nothing"}`);
        return printChange(await changeDefinition(db, by, flag, { rolloutPercent: percent }));
      }
      case "kill": {
        const flag = flagArg(rest[0]);
        return printChange(
          await changeDefinition(db, by, flag, { killSwitch: onOff(rest[1], false) === "on" }),
        );
      }
      case "audit": {
        const flag = flagArg(rest[0]);
        const { db: ownerDb } = createDatabase<AuthDB>(owner, "auth", 1);
        try {
          const entries = await platformFlagAudit(ownerDb, flag);
          if (values.json) return console.log(JSON.stringify(entries, null, 2));
          for (const e of entries) {
            const where = e.locationId
              ? `location ${e.locationId}`
              : e.tenantId
                ? `tenant ${e.tenantId}`
                : "global";
            console.log(
              `${e.at.toISOString()} ${e.actor} (${e.actorRole}) ${where}: ${e.oldValue ?? "(none)"} → ${e.newValue}`,
            );
          }
        } finally {
          await ownerDb.destroy();
        }
        return;
      }
      default:
        fail(command ? `unknown command ${command}` : "no command");
    }
  } finally {
    await db.destroy();
  }
}

main().catch((err: unknown) => {
  if (err instanceof AppError) {
    console.error(`flags: ${err.code}: ${err.message}`);
    process.exit(1);
  }
  console.error(err);
  process.exit(1);
});
