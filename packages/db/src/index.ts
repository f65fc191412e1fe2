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
export { parseInt8Exact } from "./int8.js";
export { claimEvent, type ProcessedEventsTable } from "./claims.js";
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
export {
  streamCsv,
  mountCsvExports,
  parseExportSlice,
  MAX_EXPORT_SLICE_DAYS,
  type CsvColumn,
  type CsvExport,
} from "./csv-export.js";
