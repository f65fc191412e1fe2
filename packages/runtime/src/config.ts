import { z } from "zod";

/** Settings every service reads; a service extends this with its own fields. */
export const BaseConfig = z.object({
  SERVICE_NAME: z.string().min(1),
  APP_PORT: z.coerce.number().int().positive(),
  APP_HOST: z.string().default("127.0.0.1"),
  DAPR_HTTP_PORT: z.coerce.number().int().positive().default(3500),
  DAPR_GRPC_PORT: z.coerce.number().int().positive().default(50001),
  /** App → its sidecar: the sidecar refuses API calls without it (Dapr's DAPR_API_TOKEN). */
  DAPR_API_TOKEN: z.string().min(32, "DAPR_API_TOKEN must be at least 32 characters"),
  /** What this app may invoke (components/access.yaml as JSON); see @lsp/dapr. */
  LSP_ALLOWED_INVOCATIONS: z.string().optional(),
  /** Sidecar → app: every route but /healthz refuses a request without it (Dapr's APP_API_TOKEN). */
  APP_API_TOKEN: z.string().min(32, "APP_API_TOKEN must be at least 32 characters"),
  /** The ops listener: /metrics and /readyz, for the platform only (never behind the sidecar or ingress). */
  OPS_PORT: z.coerce.number().int().positive(),
  OPS_HOST: z.string().default("127.0.0.1"),
  LOG_LEVEL: z.enum(["trace", "debug", "info", "warn", "error", "fatal"]).default("info"),
  BODY_LIMIT: z.string().default("256kb"),
});
export type BaseConfig = z.infer<typeof BaseConfig>;

export const DatabaseConfig = z.object({
  /** The serving role (svc_<s>): data privileges only, owns nothing, cannot turn row security off. */
  DATABASE_URL: z.string().url(),
  /**
   * The schema owner's URL. Given to the migrate step only (LSP_MIGRATE_ONLY, MigrateConfig): the
   * mesh runs it as its own process, the cluster as the pod's init container, and the serving
   * process never receives it. Set together with MIGRATE_ON_START it makes a serving process
   * migrate first (single-process development only; a warning says so).
   */
  DATABASE_MIGRATION_URL: z.string().url().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().positive().default(10),
  /** Migrate over DATABASE_MIGRATION_URL before serving (development only, see above). */
  MIGRATE_ON_START: z.stringbool().default(false),
});

/**
 * The migrate step (LSP_MIGRATE_ONLY=1): the service's entry point applies its migrations as the
 * schema owner and exits, without DATABASE_URL or any of the serving settings.
 */
export const MigrateConfig = z.object({
  SERVICE_NAME: z.string().min(1),
  LOG_LEVEL: BaseConfig.shape.LOG_LEVEL,
  DATABASE_MIGRATION_URL: z.string().url(),
});

/** True when the process is the migrate step rather than the server; throws on a value like "yes please". */
export function isMigrateOnly(env: NodeJS.ProcessEnv = process.env): boolean {
  return z.stringbool().default(false).parse(env.LSP_MIGRATE_ONLY);
}

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
