import { z } from "zod";

/** Settings every service reads; a service extends this with its own fields. */
export const BaseConfig = z.object({
  SERVICE_NAME: z.string().min(1),
  APP_PORT: z.coerce.number().int().positive(),
  APP_HOST: z.string().default("127.0.0.1"),
  DAPR_HTTP_PORT: z.coerce.number().int().positive().default(3500),
  DAPR_GRPC_PORT: z.coerce.number().int().positive().default(50001),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  BODY_LIMIT: z.string().default("256kb"),
});
export type BaseConfig = z.infer<typeof BaseConfig>;

export const DatabaseConfig = z.object({
  DATABASE_URL: z.string().url(),
  /**
   * The schema owner's URL, used only to run migrations (MIGRATE_ON_START). The service then
   * serves over DATABASE_URL, a role that owns nothing and so cannot turn row security off.
   * Absent: migrations run over DATABASE_URL, and a warning says that role owns the tables.
   */
  DATABASE_MIGRATION_URL: z.string().url().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
  /** The local mesh migrates on start; in the cluster a pre-install Job does it. */
  MIGRATE_ON_START: z.stringbool().default(false),
});

/** Parses process.env against a schema; exits with a readable list of what is missing or wrong. */
export function loadConfig<S extends z.ZodObject>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.infer<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    process.stderr.write(`invalid configuration:\n${problems}\n`);
    process.exit(78);
  }
  return result.data;
}
