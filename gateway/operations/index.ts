// Registered operations (the usage frontends depend on) and the safelist: the operations
// folder's one door (DESIGN.md). The publish pipeline reads the same operations from the
// registry store to refuse a version that breaks one.
export {
  normalizedHashOf,
  OPERATION_NAME,
  OperationRegistry,
  sha256Hex,
  type DirectoryRegistration,
  type OperationRegistryOptions,
  type RegisteredOperation,
} from './registry.js';
export { notRegisteredError, safelistPlugin, type SafelistOptions } from './safelist.js';
