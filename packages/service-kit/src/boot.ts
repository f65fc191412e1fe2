import { z } from "zod";
import { BaseConfig, DatabaseConfig, loadConfig } from "./config.js";
import { openServiceDatabase, type Database } from "./db.js";
import { createLogger, type Logger } from "./logger.js";

/**
 * The start of every database-backed service: typed config from env, JSON logger, and its own
 * schema opened (and migrated, when MIGRATE_ON_START is set).
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
  const schema = BaseConfig.extend(DatabaseConfig.shape).extend(opts.extraConfig ?? ({} as Extra));
  const config = loadConfig(schema) as z.infer<typeof BaseConfig> &
    z.infer<typeof DatabaseConfig> &
    z.infer<z.ZodObject<Extra>>;
  const log = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
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
  return { config, log, database };
}
