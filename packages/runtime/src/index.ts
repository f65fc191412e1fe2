export { BaseConfig, DatabaseConfig, MigrateConfig, isMigrateOnly, loadConfig } from "./config.js";
export { createLogger, type Logger } from "./logger.js";
export { libraryLogger } from "./log-adapters.js";
export {
  AppError,
  ERROR_STATUS,
  toAppError,
  errorHandler,
  isDatabaseUnavailable,
  type ErrorCode,
} from "./errors.js";
export { httpMetrics, registry } from "./metrics.js";
export {
  startService,
  rawBodyOf,
  requireAppToken,
  DAPR_TOKEN_HEADER,
  type ReadinessCheck,
  type ServiceDefinition,
  type RunningService,
} from "./server.js";
export {
  MAX_MERGE_KEYS,
  FIRST_BUSINESS_DAY,
  LAST_BUSINESS_DAY,
  mergeKeys,
  uuidArg,
  businessDayArg,
} from "./args.js";
