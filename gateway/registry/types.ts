// The registry's storage contract. SQLite (better-sqlite3, WAL) implements it for the
// embedded default; a PostgreSQL store implements the same interface for several
// gateway replicas (DESIGN.md, decision 4). Every method is async for that reason.
import type { ExtensionManifest } from '../manifest/index.js';

export type ExtensionStatus = 'active' | 'paused' | 'retired';

export interface ExtensionRecord {
  name: string;
  owner: string;
  description: string;
  status: ExtensionStatus;
  /** The version the supergraph uses; undefined until the first publish. */
  activeVersion: string | undefined;
  /** Tenants the extension is enabled for; null = every tenant. */
  tenants: string[] | null;
  createdAt: string; // ISO 8601
  updatedAt: string; // ISO 8601
}

export interface ExtensionVersionRecord {
  extension: string;
  version: string;
  manifest: ExtensionManifest;
  sdl: string;
  publishedBy: string;
  publishedAt: string; // ISO 8601
  /** The supergraph composed when this version was published. */
  supergraphId: number;
  /**
   * The change report stored with the version (gateway/publish's VersionReport: verdict,
   * changes, deprecations, forced overrides). Opaque JSON to the registry; absent for
   * versions published before registry schema 3.
   */
  report?: Record<string, unknown>;
  /**
   * Sources of the resolver directive modules the manifest declares (directives[].module),
   * by that path. Absent when the version declares none (or predates registry schema 4).
   */
  directiveModules?: Record<string, string>;
}

export interface SupergraphRecord {
  id: number;
  sdl: string;
  apiSdl: string;
  /** sha256 (hex) of sdl */
  hash: string;
  /** Which extension version each subgraph in this supergraph comes from. */
  members: Array<{ extension: string; version: string }>;
  createdAt: string; // ISO 8601
}

export interface AuditEvent {
  id: number;
  at: string; // ISO 8601
  actor: string;
  action: string; // 'register' | 'publish' | 'pause' | 'resume' | ...
  extension: string | undefined;
  details: Record<string, unknown>;
}

export interface NewExtension {
  name: string;
  owner: string;
  description: string;
}

/** A composed supergraph to store (with a publish, a retire, or on its own). */
export interface NewSupergraph {
  sdl: string;
  apiSdl: string;
  members: Array<{ extension: string; version: string }>;
  /**
   * Optimistic concurrency between gateway processes sharing one registry (GRAFT_WORKERS):
   * the id of the active supergraph this one was composed against (null: there was none).
   * The store checks it inside the write transaction and refuses with REGISTRY_CONFLICT
   * when another supergraph became active meanwhile, so a publish composed against a stale
   * graph can never drop what another process published. Undefined: no check.
   */
  basedOn?: number | null;
}

export interface NewVersion {
  extension: string;
  version: string;
  manifest: ExtensionManifest;
  sdl: string;
  publishedBy: string;
  /** The supergraph composed with this version; stored in the same transaction. */
  supergraph: NewSupergraph;
  /** The change report, stored with the version (immutable like it). */
  report?: Record<string, unknown>;
  /** Extra details for the version's publish audit event (the verdict, a forced override). */
  auditDetails?: Record<string, unknown>;
  /** Sources of the resolver directive modules, by the path graft.json names (stored with the version). */
  directiveModules?: Record<string, string>;
}

/** One extension version of a release (RegistryStore.applyRelease). */
export interface NewReleaseMember {
  extension: string;
  version: string;
  manifest: ExtensionManifest;
  sdl: string;
  /** The change report, stored with the version (immutable like it). */
  report?: Record<string, unknown>;
  /** Sources of the resolver directive modules, by the path graft.json names. */
  directiveModules?: Record<string, string>;
  /** Present when the extension is not registered yet: registered in the same transaction. */
  register?: NewExtension;
}

/**
 * A release (DESIGN.md, "Direction" 3): extension versions composed and swapped together,
 * all of them or none. A single publish is a release of one; a retirement is a release
 * that only retires.
 */
export interface NewRelease {
  /** May be empty when the release only retires. */
  members: NewReleaseMember[];
  /** Extensions the release retires (status 'retired', left out of `supergraph`). */
  retire?: string[];
  /** Composed with all of it; `basedOn` is the optimistic check (see NewSupergraph). */
  supergraph: NewSupergraph;
  actor: string;
  /** Why, as the caller said (POST /admin/releases "reason"). */
  reason?: string;
  /** Extra details for the release's audit event (the verdicts, a forced override). */
  auditDetails?: Record<string, unknown>;
}

export interface ReleaseRecord {
  id: number;
  /** The supergraph the release stored; its members' versions point at it too. */
  supergraphId: number;
  actor: string;
  reason: string | undefined;
  /** The versions the release published, in the order given. */
  members: Array<{ extension: string; version: string }>;
  retired: string[];
  createdAt: string; // ISO 8601
}

/** An operation a frontend depends on (POST /admin/operations, or GRAFT_OPERATIONS_DIR at start). */
export interface RegisteredOperationRecord {
  /** The operation's name; the document's one operation has this name. */
  name: string;
  /** The document as registered: the operation and the fragments it uses. */
  document: string;
  /** sha256 (hex) of `document` exactly: the persisted-query id (extensions.persistedQuery.sha256Hash). */
  hash: string;
  /** sha256 (hex) of the document as graphql-js prints it: equal for documents that differ only in layout and comments. */
  normalizedHash: string;
  /** Which frontend uses it, if the registrant said. */
  client: string | undefined;
  registeredBy: string;
  registeredAt: string; // ISO 8601
  updatedAt: string; // ISO 8601
}

export interface NewOperation {
  name: string;
  document: string;
  hash: string;
  normalizedHash: string;
  client?: string | undefined;
}

/** What an extension key may do (graft keys create --scope): both only on its own extension. */
export type ExtensionKeyScope = 'check' | 'publish';

/**
 * A credential for one extension's CI (graft keys create). The secret itself is never
 * stored: only its sha256, which the store hands out to the key check alone
 * (findExtensionKey), never in listings.
 */
export interface ExtensionKeyRecord {
  /** Public identifier (16 hex digits), also embedded in the key: graft_<id>_<secret>. */
  id: string;
  /** The key's first characters ("graft_<id>"), to recognise it in a list or a log. */
  prefix: string;
  extension: string;
  scopes: ExtensionKeyScope[];
  description: string;
  createdBy: string;
  createdAt: string; // ISO 8601
  /** undefined: never expires. */
  expiresAt: string | undefined;
  lastUsedAt: string | undefined;
  revokedAt: string | undefined;
  revokedBy: string | undefined;
}

export interface NewExtensionKey {
  id: string;
  prefix: string;
  /** sha256 (hex) of the whole key. */
  hash: string;
  extension: string;
  scopes: ExtensionKeyScope[];
  description: string;
  expiresAt?: string;
}

/** An endpoint an operator registered for control-plane events (gateway/webhooks). */
export interface WebhookRecord {
  id: number;
  url: string;
  /** Event types it receives (e.g. release.applied). */
  events: string[];
  description: string;
  createdBy: string;
  createdAt: string; // ISO 8601
}

export interface NewWebhook {
  url: string;
  events: string[];
  /** The HMAC-SHA256 key of its signatures; kept to sign, handed out only at creation. */
  secret: string;
  description: string;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

/** One event for one endpoint: queued, then attempted until delivered or out of attempts. */
export interface WebhookDeliveryRecord {
  id: number;
  webhookId: number;
  /** The event's id: the same in every delivery of it (receivers deduplicate by it). */
  eventId: string;
  event: string;
  /** The JSON body sent, exactly. */
  body: string;
  status: WebhookDeliveryStatus;
  attempts: number;
  /** When the next attempt is due (pending only). */
  nextAttemptAt: string | undefined;
  lastStatusCode: number | undefined;
  lastError: string | undefined;
  createdAt: string;
  deliveredAt: string | undefined;
}

/** A due delivery, claimed by one dispatcher, with what it needs to send it. */
export interface ClaimedWebhookDelivery extends WebhookDeliveryRecord {
  url: string;
  secret: string;
}

/** One distinct operation seen in traffic: its normalised signature (gateway/usage). */
export interface UsageOperation {
  /** sha256 (hex) of `signature`. */
  hash: string;
  /** The operation's name; null for an anonymous operation. */
  name: string | null;
  /** Apollo's usage-reporting signature: literals stripped, sorted, aliases removed. */
  signature: string;
  /** The schema coordinates it touches (gateway/graphql's schemaCoordinatesOf). */
  coordinates: string[];
}

/** How often one operation ran for one client in one minute (several processes' counts add up). */
export interface UsageCount {
  /** The start of the minute, ISO 8601 (seconds 0). */
  minute: string;
  operation: string;
  clientName: string;
  clientVersion: string;
  count: number;
}

/** A batch of usage, as one process aggregated it since its last flush. */
export interface UsageBatch {
  operations: UsageOperation[];
  counts: UsageCount[];
}

/** What an operation did in a window of time, summed over every process and bucket. */
export interface UsageSummary {
  hash: string;
  name: string | null;
  signature: string;
  coordinates: string[];
  count: number;
  /** The start of the newest minute (or hour, once rolled up) it was seen in. */
  lastSeen: string;
  clients: Array<{ name: string; version: string; count: number }>;
}

export interface UsageQuery {
  /** ISO 8601: buckets starting at or after it. */
  since: string;
  /** Only operations touching at least one of these coordinates; undefined: every operation. */
  coordinates?: string[];
  /** Client names left out (their counts are not summed). */
  excludeClients?: string[];
}

export interface RegistryStore {
  /** Registers a new extension (no version yet). Throws GraftError EXTENSION_NAME_TAKEN. */
  createExtension(input: NewExtension, actor: string): Promise<ExtensionRecord>;
  getExtension(name: string): Promise<ExtensionRecord | undefined>;
  listExtensions(): Promise<ExtensionRecord[]>;

  /**
   * Stores a release in ONE transaction, or nothing: registers the members that carry
   * `register`, stores every version (immutable) and makes each the active one, retires
   * `retire`, stores the supergraph, one release row and ONE audit event. The audit event's
   * action is 'publish' for a release of exactly one version and no retirement, 'retire' for
   * a release of exactly one retirement and no version, else 'release'; its `extension` is
   * the one extension involved, or undefined when several are (listAuditEvents with
   * `extension` still finds it); its details hold `release` (the id), `versions`
   * ([{ extension, version }]), `retired`, `supergraphId`, `hash`, `reason` when given, and
   * `auditDetails`.
   * Refusals, all before any write: EXTENSION_NOT_FOUND (a member neither registered nor
   * carrying `register`; a retirement of an unknown extension), EXTENSION_NAME_TAKEN
   * (`register` for a taken name), VERSION_INVALID / NAME_MISMATCH (the manifest does not
   * describe the member), VERSION_EXISTS / VERSION_NOT_GREATER (semver order against every
   * stored version), BAD_REQUEST (an extension twice in one release, or nothing to do), and
   * REGISTRY_CONFLICT when `supergraph.basedOn` is not the active supergraph any more.
   */
  applyRelease(input: NewRelease): Promise<{ release: ReleaseRecord; versions: ExtensionVersionRecord[]; supergraph: SupergraphRecord; extensions: ExtensionRecord[] }>;
  /** Releases, newest first; with `extension`, those that published or retired it. */
  listReleases(options?: { extension?: string; limit?: number }): Promise<ReleaseRecord[]>;

  /** A release of one version (applyRelease), kept for callers that store one version. */
  publishVersion(input: NewVersion): Promise<{ version: ExtensionVersionRecord; supergraph: SupergraphRecord }>;
  getVersion(extension: string, version: string): Promise<ExtensionVersionRecord | undefined>;
  /** Newest first (semver order). */
  listVersions(extension: string): Promise<ExtensionVersionRecord[]>;

  /** Throws GraftError EXTENSION_NOT_FOUND. Records an audit event. */
  setStatus(name: string, status: ExtensionStatus, actor: string): Promise<ExtensionRecord>;

  /**
   * Retires an extension: a release of one retirement (applyRelease). Its versions stay
   * stored (immutable). Throws REGISTRY_CONFLICT like applyRelease.
   */
  retireExtension(name: string, supergraph: NewSupergraph, actor: string): Promise<{ extension: ExtensionRecord; supergraph: SupergraphRecord }>;

  /** Enables the extension for these tenants only (null: every tenant). Records an audit event. */
  setTenants(name: string, tenants: string[] | null, actor: string): Promise<ExtensionRecord>;

  /** The newest stored supergraph, i.e. the one the gateway serves. */
  getActiveSupergraph(): Promise<SupergraphRecord | undefined>;
  /** Stores a recomposed supergraph that is not tied to a publish (e.g. after retire). */
  saveSupergraph(supergraph: NewSupergraph, actor: string, action: string): Promise<SupergraphRecord>;

  /**
   * A number that changes with every committed registry change: the id of the newest audit
   * event (every write records one), 0 for an empty registry. One indexed read, so gateway
   * processes sharing the registry can poll it cheaply and re-read only when it moved.
   */
  lastChangeId(): Promise<number>;

  /** Newest first; with `extension`, its events and those of the releases that published or retired it. */
  listAuditEvents(options?: { extension?: string; limit?: number }): Promise<AuditEvent[]>;

  /** Registered operations, by name. */
  listOperations(): Promise<RegisteredOperationRecord[]>;
  getOperation(name: string): Promise<RegisteredOperationRecord | undefined>;
  /**
   * Registers an operation, or replaces the one of the same name. Records an audit event
   * when something changed; storing the same document and client again changes nothing.
   */
  saveOperation(input: NewOperation, actor: string): Promise<{ operation: RegisteredOperationRecord; created: boolean; changed: boolean }>;
  /** Removes a registered operation and records an audit event; undefined when there was none. */
  deleteOperation(name: string, actor: string): Promise<RegisteredOperationRecord | undefined>;

  /** The shared upstream signing keys (schema 6), oldest signs_from first. */
  listSigningKeys(): Promise<StoredSigningKey[]>;
  /** Adds a signing key (rotation) and records an audit event ('upstream-key'). Throws BAD_REQUEST for a kid already stored. */
  addSigningKey(key: NewSigningKey, actor: string): Promise<StoredSigningKey>;

  /**
   * Adds a batch of usage: the operations (stored once, by hash) and their per-minute
   * counts, summed with what any process already stored for the same minute, operation and
   * client. In one transaction; records no audit event and does not move lastChangeId
   * (usage is not a registry change the other processes must re-read).
   */
  recordUsage(batch: UsageBatch): Promise<void>;
  /** Operations seen since `query.since`, most used first, with their clients (most used first). */
  queryUsage(query: UsageQuery): Promise<UsageSummary[]>;
  /**
   * Bounded storage: rolls the minute counts of hours that ended before `rollUpBefore` into
   * one count per hour, then deletes counts (both kinds) older than `deleteBefore` and the
   * operations no count refers to any more. Returns how many rows each removed.
   */
  compactUsage(options: { rollUpBefore: string; deleteBefore: string }): Promise<{ rolledUp: number; deleted: number }>;

  /**
   * Stores shared by processes on several hosts (PostgreSQL): a nudge after every change
   * another process committed (LISTEN/NOTIFY). Absent: the poll of lastChangeId is all.
   */
  watchChanges?(onChange: () => void, onState?: (connected: boolean, error?: Error) => void): RegistryChangeFeed;
  /**
   * Stores shared across hosts (PostgreSQL): competes for the one leader of every process on
   * the registry (an advisory lock). Absent: the process's own role decides (gateway/cluster).
   */
  competeForLeadership?(onChange: (leader: boolean) => void, options?: { retryMs?: number }): RegistryLeadership;

  /**
   * Stores a new extension key (hash only) and records an audit event 'key-create'.
   * Throws EXTENSION_NOT_FOUND when the extension is not registered.
   */
  createExtensionKey(input: NewExtensionKey, actor: string): Promise<ExtensionKeyRecord>;
  /** Keys, oldest first; with `extension`, that extension's only. Never the hash. */
  listExtensionKeys(options?: { extension?: string }): Promise<ExtensionKeyRecord[]>;
  /** The key with its stored hash, for the key check only; undefined when there is none. */
  findExtensionKey(id: string): Promise<(ExtensionKeyRecord & { hash: string }) | undefined>;
  /**
   * Revokes a key for good and records an audit event 'key-revoke'. Revoking a revoked key
   * changes nothing and returns it as it is. Throws NOT_FOUND for an unknown id.
   */
  revokeExtensionKey(id: string, actor: string): Promise<ExtensionKeyRecord>;
  /** Notes that the key was just used (last use in `graft keys list`); no audit event, not a change. */
  touchExtensionKey(id: string, at: string): Promise<void>;

  /** Registers a webhook endpoint and records an audit event 'webhook-create'. */
  createWebhook(input: NewWebhook, actor: string): Promise<WebhookRecord>;
  /** Endpoints, oldest first; never their secrets. */
  listWebhooks(): Promise<WebhookRecord[]>;
  /**
   * Removes an endpoint and its queued deliveries (the delivery log of what was attempted
   * stays) and records an audit event 'webhook-delete'. Throws NOT_FOUND.
   */
  deleteWebhook(id: number, actor: string): Promise<WebhookRecord>;
  /**
   * Queues one event: a pending delivery for every endpoint that wants `event`, due now, in
   * one transaction. Returns how many were queued. Not a registry change (no audit event).
   */
  enqueueWebhookEvent(input: { eventId: string; event: string; body: string; at: string }): Promise<number>;
  /**
   * Claims up to `limit` pending deliveries due at `now` that no other dispatcher holds, for
   * `leaseMs` (a dispatcher that dies mid-delivery leaves them to the next after the lease).
   */
  claimWebhookDeliveries(now: string, limit: number, leaseMs: number): Promise<ClaimedWebhookDelivery[]>;
  /**
   * The outcome of one attempt: delivered, or failed with the next attempt due at
   * `retryAt` (undefined: no attempt left, the delivery is failed for good).
   */
  recordWebhookAttempt(id: number, outcome: { at: string; delivered: boolean; statusCode?: number; error?: string; retryAt?: string }): Promise<void>;
  /** The delivery log, newest first; with `webhookId`, that endpoint's only. */
  listWebhookDeliveries(options?: { webhookId?: number; limit?: number }): Promise<WebhookDeliveryRecord[]>;

  close(): Promise<void>;
}

/** A running change watch (RegistryStore.watchChanges). */
export interface RegistryChangeFeed {
  close(): Promise<void>;
}

/** A running bid for leadership (RegistryStore.competeForLeadership). */
export interface RegistryLeadership {
  readonly leader: boolean;
  /** Stops competing; a leader releases the lock (its connection ends). */
  close(): Promise<void>;
}

/** An upstream signing key as the registry keeps it: the private half sealed by the caller (gateway/upstream). */
export interface StoredSigningKey {
  kid: string;
  publicJwk: Record<string, unknown>;
  /** AES-256-GCM, base64 (gateway/upstream); the registry never sees the key in plain text. */
  sealedPrivateJwk: string;
  createdAt: string; // ISO 8601
  /** Published from createdAt, signs from signsFrom (publish before sign). */
  signsFrom: string; // ISO 8601
}

export type NewSigningKey = Omit<StoredSigningKey, 'createdAt'>;
