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
  ReleaseRecord,
  RegistryStore,
  SupergraphRecord,
  WebhookDeliveryRecord,
  WebhookDeliveryStatus,
  WebhookRecord,
} from './types.js';
export { openSqliteRegistry, registryFileIn, SqliteRegistryStore, type SqliteRegistryOptions } from './sqlite-store.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { observeRegistryWrites, type RegistryWrite } from './observed.js';
