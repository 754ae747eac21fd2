// The registry folder's one door (DESIGN.md): other folders import from here only.
export type {
  AuditEvent,
  ClaimedWebhookDelivery,
  ExtensionKeyRecord,
  ExtensionKeyScope,
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  NewExtension,
  NewExtensionKey,
  NewOperation,
  NewRelease,
  NewReleaseMember,
  NewSupergraph,
  NewVersion,
  NewWebhook,
  RegisteredOperationRecord,
  RegistryChangeFeed,
  RegistryLeadership,
  ReleaseRecord,
  RegistryStore,
  NewSigningKey,
  StoredSigningKey,
  SupergraphRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookRecord,
  UsageBatch,
  UsageCount,
  UsageOperation,
  UsageQuery,
  UsageSummary,
} from './types.js';
export { openSqliteRegistry, registryFileIn, SqliteRegistryStore, type SqliteRegistryOptions } from './sqlite-store.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { observeRegistryWrites, type RegistryWrite } from './observed.js';
export {
  describePostgresUrl,
  isConnectionError,
  openPostgresRegistry,
  PostgresRegistryStore,
  type PostgresRegistryOptions,
} from './postgres-store.js';
export { ADVISORY_LOCKS, POSTGRES_MIGRATIONS } from './postgres-migrations.js';
export { copySqliteRegistryToPostgres, type CopyReport } from './copy-to-postgres.js';
