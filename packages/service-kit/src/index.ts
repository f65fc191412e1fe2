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
  createDatabase,
  migrateToLatest,
  withTenant,
  withTenantForEvent,
  waitForWalFlush,
  withScope,
  pingDatabase,
  enableTenantIsolation,
  enableLocationIsolation,
  allowTenantlessRows,
  allowOwnerReads,
  createProcessedEventsTable,
  openServiceDatabase,
  migrateAsOwner,
  assertSchemaMigrated,
  SchemaNotMigratedError,
  type Database,
} from "./db.js";
export {
  createDaprClient,
  sidecarReady,
  sidecarFetch,
  invokeService,
  publishEvent,
  bulkPublishEvents,
  type BulkPublishEntry,
  type BulkPublishResult,
  invokeBinding,
  readSecret,
  stateStore,
  checkMethodPath,
  DAPR_TOKEN_HEADER,
  type SidecarPorts,
  getConfiguration,
  subscribeConfiguration,
  type ConfigurationItem,
  type ConfigurationItems,
  type ConfigurationSubscription,
} from "./dapr.js";
export {
  FLAG_CATALOGUE,
  FLAG_KEYS,
  FLAGS_STORE,
  FlagDefinition,
  FlagTable,
  RuleValue,
  evaluateFlag,
  isFlagKey,
  liveFlags,
  parseItemKey,
  rolloutBucket,
  ruleItemKey,
  type EvaluatedFlag,
  type FlagInputs,
  type FlagKey,
  type FlagSubject,
  type ParsedItemKey,
  type RuleScope,
} from "./flags.js";
export {
  startService,
  rawBodyOf,
  requireAppToken,
  type ServiceDefinition,
  type RunningService,
} from "./server.js";
export {
  subscriptionRoute,
  bulkSubscriptionRoute,
  claimEvent,
  type BulkEvent,
  type BulkStatus,
  type EventHandlers,
  type ProcessedEventsTable,
} from "./events.js";
export {
  callerReader,
  serviceCallers,
  systemHeaders,
  canAccessLocation,
  notificationRecipientOf,
  SYSTEM_TENANT_HEADER,
  CALLER_APP_HEADER,
  type Caller,
  type CallerOf,
  type Identity,
} from "./identity.js";
export {
  JwksCache,
  accessTokenVerifier,
  type AccessClaims,
  type AccessTokenVerifier,
  type SigningKeys,
} from "./access-token.js";
export { fetchLocation, rememberLocation, locationChangesRoute, type LocationSettings } from "./locations.js";
export { mountSubschema, maskGraphQLError, type SubschemaOptions } from "./graphql.js";
export { createOutboxTable, enqueueEvent, startOutboxRelay, type OutboxTable } from "./outbox.js";
export { bootDatabaseService } from "./boot.js";
export {
  startRetention,
  runRetentionOnce,
  deleteOlderThan,
  deleteThroughFunction,
  createRetentionFunction,
  DAY_MS,
  type RetentionRule,
  type RetentionReport,
} from "./retention.js";
export { VndScalar, MAX_VND, parseVnd, serializeVnd, parseInt8Exact } from "./vnd.js";
export {
  MAX_MERGE_KEYS,
  FIRST_BUSINESS_DAY,
  LAST_BUSINESS_DAY,
  mergeKeys,
  uuidArg,
  businessDayArg,
} from "./args.js";
export {
  streamCsv,
  mountCsvExports,
  parseExportSlice,
  MAX_EXPORT_SLICE_DAYS,
  type CsvColumn,
  type CsvExport,
} from "./csv-export.js";
