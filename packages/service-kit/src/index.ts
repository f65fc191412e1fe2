export { BaseConfig, DatabaseConfig, MigrateConfig, isMigrateOnly, loadConfig } from "./config.js";
export { createLogger, type Logger } from "./logger.js";
export { libraryLogger } from "./log-adapters.js";
export { AppError, ERROR_STATUS, toAppError, errorHandler, type ErrorCode } from "./errors.js";
export { registry } from "./metrics.js";
export {
  createDatabase,
  migrateToLatest,
  withTenant,
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
export { createDaprClient, sidecarReady, invokeService, type SidecarPorts } from "./dapr.js";
export { startService, rawBodyOf, type ServiceDefinition, type RunningService } from "./server.js";
export {
  subscriptionRoute,
  bulkSubscriptionRoute,
  claimEvent,
  type BulkEvent,
  type BulkStatus,
  type EventHandlers,
  type ProcessedEventsTable,
} from "./events.js";
export { identityFromHeaders, IDENTITY_HEADERS, type Identity } from "./identity.js";
export { canAccessLocation, identityHeaders, notificationRecipientOf } from "./identity.js";
export { fetchLocation, type LocationSettings } from "./locations.js";
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
