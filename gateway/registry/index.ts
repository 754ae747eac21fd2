// The registry folder's one door (DESIGN.md): other folders import from here only.
export type {
  AuditEvent,
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  NewExtension,
  NewOperation,
  NewRelease,
  NewReleaseMember,
  NewSupergraph,
  NewVersion,
  RegisteredOperationRecord,
  ReleaseRecord,
  RegistryStore,
  SupergraphRecord,
} from './types.js';
export { openSqliteRegistry, registryFileIn, SqliteRegistryStore, type SqliteRegistryOptions } from './sqlite-store.js';
export { LATEST_SCHEMA_VERSION } from './migrations.js';
export { observeRegistryWrites, type RegistryWrite } from './observed.js';
