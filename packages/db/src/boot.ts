import { z } from "zod";
import {
  BaseConfig,
  DatabaseConfig,
  isMigrateOnly,
  loadConfig,
  MigrateConfig,
  createLogger,
  type Logger,
} from "@lsp/runtime";
import { migrateAsOwner, openServiceDatabase, SchemaNotMigratedError, type Database } from "./db.js";

/**
 * The start of every database-backed service: typed config from env, JSON logger, and its own
 * schema opened, after checking that it is at the latest migration this code knows.
 *
 * With LSP_MIGRATE_ONLY=1 the same entry point is the migrate step instead: it applies the
 * migrations as the schema owner (DATABASE_MIGRATION_URL), logs what it did and exits 0, or
 * logs a JSON error and exits non-zero; it never serves. The mesh runs it as its own process and
 * the cluster as an init container, so the serving process never holds the owner's URL.
 */
export async function bootDatabaseService<DB, Extra extends z.ZodRawShape = Record<string, never>>(opts: {
  schema: string;
  migrationsDir: string;
  extraConfig?: Extra;
}): Promise<{
  config: z.infer<typeof BaseConfig> & z.infer<typeof DatabaseConfig> & z.infer<z.ZodObject<Extra>>;
  log: Logger;
  database: Database<DB>;
}> {
  if (migrateOnly()) return runMigrateStep(opts);
  const schema = BaseConfig.extend(DatabaseConfig.shape).extend(opts.extraConfig ?? ({} as Extra));
  const config = loadConfig(schema) as z.infer<typeof BaseConfig> &
    z.infer<typeof DatabaseConfig> &
    z.infer<z.ZodObject<Extra>>;
  const log = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  // What a restart costs, in two parts: loading the code (everything the app imports statically
  // is loaded by now) and opening the database (connect, schema check).
  const modulesLoadedMs = Math.round(performance.now());
  try {
    const database = await openServiceDatabase<DB>(
      {
        url: config.DATABASE_URL,
        migrationUrl: config.DATABASE_MIGRATION_URL,
        schema: opts.schema,
        poolMax: config.DATABASE_POOL_MAX,
        migrationsDir: opts.migrationsDir,
        migrate: config.MIGRATE_ON_START,
      },
      log,
    );
    log.info(
      { modules_ms: modulesLoadedMs, database_ms: Math.round(performance.now()) - modulesLoadedMs },
      "database open",
    );
    return { config, log, database };
  } catch (err) {
    if (!(err instanceof SchemaNotMigratedError)) throw err;
    log.fatal({ code: err.code, schema: err.schema, missing: err.missing }, err.message);
    return process.exit(1);
  }
}

function migrateOnly(): boolean {
  try {
    return isMigrateOnly();
  } catch {
    createLogger(process.env.SERVICE_NAME ?? "service").fatal(
      { code: "INVALID_CONFIG", value: process.env.LSP_MIGRATE_ONLY },
      "LSP_MIGRATE_ONLY must be a boolean (1/0, true/false)",
    );
    return process.exit(78);
  }
}

/** The migrate step: migrations as the owner, a JSON line for the outcome, then exit. */
async function runMigrateStep(opts: { schema: string; migrationsDir: string }): Promise<never> {
  const parsed = MigrateConfig.safeParse(process.env);
  if (!parsed.success) {
    createLogger(process.env.SERVICE_NAME ?? "service").fatal(
      {
        code: "INVALID_CONFIG",
        problems: parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`),
      },
      "the migrate step (LSP_MIGRATE_ONLY) needs SERVICE_NAME and DATABASE_MIGRATION_URL, the schema owner's URL",
    );
    return process.exit(78);
  }
  const config = parsed.data;
  const log = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const started = performance.now();
  try {
    await migrateAsOwner(
      { migrationUrl: config.DATABASE_MIGRATION_URL, schema: opts.schema, migrationsDir: opts.migrationsDir },
      log,
    );
    log.info(
      { schema: opts.schema, duration_ms: Math.round(performance.now() - started) },
      "migrate step done: the schema is at the latest migration",
    );
    return process.exit(0);
  } catch (err) {
    log.fatal({ code: "MIGRATION_FAILED", schema: opts.schema, err }, "migrate step failed");
    return process.exit(1);
  }
}
