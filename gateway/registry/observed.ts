// A registry store that reports each committed write. Several gateway processes can share
// one registry (GRAFT_WORKERS, gateway/cluster): the process that changed it tells the
// others, which re-read it. Wrapping the store, rather than hooking each caller (the publish
// pipeline, the operation registry, the admin API), means a new write path cannot forget
// to tell them.
import type { RegistryStore } from './types.js';

/** Which write committed: the RegistryStore method's name. */
export type RegistryWrite =
  | 'createExtension'
  | 'applyRelease'
  | 'publishVersion'
  | 'setStatus'
  | 'retireExtension'
  | 'setTenants'
  | 'saveSupergraph'
  | 'saveOperation'
  | 'deleteOperation'
  | 'addSigningKey'
  | 'createExtensionKey'
  | 'revokeExtensionKey'
  | 'createWebhook'
  | 'deleteWebhook';

/**
 * `onWrite` runs after a write committed (never for a refused one, nor for a write that
 * changed nothing: an operation saved again unchanged, one deleted that did not exist). It
 * must not throw; the write's own result is returned unchanged.
 */
export function observeRegistryWrites(store: RegistryStore, onWrite: (write: RegistryWrite) => void): RegistryStore {
  const after = async <T>(write: RegistryWrite, result: Promise<T>, changed: (value: T) => boolean = () => true): Promise<T> => {
    const value = await result;
    if (changed(value)) onWrite(write);
    return value;
  };
  return {
    createExtension: (input, actor) => after('createExtension', store.createExtension(input, actor)),
    getExtension: (name) => store.getExtension(name),
    listExtensions: () => store.listExtensions(),
    applyRelease: (input) => after('applyRelease', store.applyRelease(input)),
    listReleases: (options) => store.listReleases(options),
    publishVersion: (input) => after('publishVersion', store.publishVersion(input)),
    getVersion: (extension, version) => store.getVersion(extension, version),
    listVersions: (extension) => store.listVersions(extension),
    setStatus: (name, status, actor) => after('setStatus', store.setStatus(name, status, actor)),
    retireExtension: (name, supergraph, actor) => after('retireExtension', store.retireExtension(name, supergraph, actor)),
    setTenants: (name, tenants, actor) => after('setTenants', store.setTenants(name, tenants, actor)),
    getActiveSupergraph: () => store.getActiveSupergraph(),
    saveSupergraph: (supergraph, actor, action) => after('saveSupergraph', store.saveSupergraph(supergraph, actor, action)),
    lastChangeId: () => store.lastChangeId(),
    listAuditEvents: (options) => store.listAuditEvents(options),
    listOperations: () => store.listOperations(),
    getOperation: (name) => store.getOperation(name),
    saveOperation: (input, actor) => after('saveOperation', store.saveOperation(input, actor), (result) => result.changed),
    deleteOperation: (name, actor) => after('deleteOperation', store.deleteOperation(name, actor), (removed) => removed !== undefined),
    listSigningKeys: () => store.listSigningKeys(),
    addSigningKey: (key, actor) => after('addSigningKey', store.addSigningKey(key, actor)),
    createExtensionKey: (input, actor) => after('createExtensionKey', store.createExtensionKey(input, actor)),
    listExtensionKeys: (options) => store.listExtensionKeys(options),
    findExtensionKey: (id) => store.findExtensionKey(id),
    revokeExtensionKey: (id, actor) => after('revokeExtensionKey', store.revokeExtensionKey(id, actor)),
    // Not a registry change other processes need to learn about.
    touchExtensionKey: (id, at) => store.touchExtensionKey(id, at),
    createWebhook: (input, actor) => after('createWebhook', store.createWebhook(input, actor)),
    listWebhooks: () => store.listWebhooks(),
    deleteWebhook: (id, actor) => after('deleteWebhook', store.deleteWebhook(id, actor)),
    // The delivery queue is the webhook dispatcher's business, not a change of the graph.
    enqueueWebhookEvent: (input) => store.enqueueWebhookEvent(input),
    claimWebhookDeliveries: (now, limit, leaseMs) => store.claimWebhookDeliveries(now, limit, leaseMs),
    recordWebhookAttempt: (id, outcome) => store.recordWebhookAttempt(id, outcome),
    listWebhookDeliveries: (options) => store.listWebhookDeliveries(options),
    // Usage is not a registry change: the other processes have nothing to re-read.
    recordUsage: (batch) => store.recordUsage(batch),
    queryUsage: (query) => store.queryUsage(query),
    compactUsage: (options) => store.compactUsage(options),
    ...(store.watchChanges ? { watchChanges: store.watchChanges.bind(store) } : {}),
    ...(store.competeForLeadership ? { competeForLeadership: store.competeForLeadership.bind(store) } : {}),
    close: () => store.close(),
  };
}
