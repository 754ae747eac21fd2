// The registry service: owns the state of extensions (register, release, publish, retire,
// pause, tenants, sync between processes) and is the only writer of the request path's
// runtime table. Every change to the graph is a release (DESIGN.md, "Direction" 3): one or
// more extension versions, and extensions to retire, run through the pipeline's steps
// (pipeline.ts, the same steps `graft check` runs), loaded in the gateway, stored in one
// transaction (RegistryStore.applyRelease) and swapped together: all of it or none. A
// single publish is a release of one; a retirement a release that only retires.
//
// Registry writes are serialized within a process; between processes sharing the registry
// (GRAFT_WORKERS) the store refuses a write composed against a stale graph
// (REGISTRY_CONFLICT) and the release runs once more against the graph as it is now.
import { supergraphHash } from '../composition/index.js';
import type { SupergraphSnapshot } from '../engine/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { LintConfig } from '../lint/index.js';
import { EXTENSION_NAME, validateManifest, type ExtensionManifest } from '../manifest/index.js';
import { ADMIN_SCOPE } from '../auth/index.js';
import type {
  AuditEvent,
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  NewReleaseMember,
  RegistryStore,
  ReleaseRecord,
  SupergraphRecord,
  UsageQuery,
  UsageSummary,
} from '../registry/index.js';
import type { ExtensionRuntimeState, ExtensionRuntimeTable } from '../upstream/index.js';
import { modulesOfVersion, type DirectiveModule, type DirectiveRuntime } from '../directives/index.js';
import { errorsOf, refusalOf, runPipeline, type ActiveMember, type ExtensionHistory, type Finding, type NotChecked, type ProposedMember } from './pipeline.js';
import { buildChangelog, type Changelog, type VersionReport } from './versioning.js';

/** Who asks for a registry change: the verified token's subject and scopes. */
export interface Actor {
  subject: string;
  scopes: ReadonlySet<string>;
}

/** The identity `graft start` registers the examples with. */
export const SYSTEM_ACTOR: Actor = { subject: 'graft-system', scopes: new Set([ADMIN_SCOPE]) };

/** The part of the gateway the service swaps supergraphs on. */
export interface SupergraphHost {
  /** `directives`: the resolver directive modules served with this supergraph (gateway/directives). */
  prepare(supergraph: { hash: string; sdl: string; directives?: readonly DirectiveModule[] }): Promise<SupergraphSnapshot>;
  /** Serves the snapshot; resolves once it is served (the first one also starts Apollo Server). */
  activate(snapshot: SupergraphSnapshot, id: number): void | Promise<void>;
  discard(snapshot: SupergraphSnapshot): Promise<void>;
}

type SupergraphSummary = Pick<SupergraphRecord, 'id' | 'hash' | 'members' | 'createdAt'>;

export interface PublishResult {
  extension: ExtensionRecord;
  version: ExtensionVersionRecord;
  supergraph: SupergraphSummary;
  hints: string[];
  /** The change report stored with the version. */
  report: VersionReport;
}

/** One extension version of a release, as a front door received it. */
export interface ReleaseMemberInput {
  manifest: unknown;
  sdl: string;
  /** Sources of the resolver directive modules graft.json declares, by the path it names. */
  directiveModules?: Record<string, unknown>;
}

export interface ReleaseInput {
  extensions: readonly ReleaseMemberInput[];
  /** Extensions to retire in the same release. */
  retire?: readonly string[];
  reason?: string;
  /**
   * An admin's override of the deprecation and registered-operation rules (never of the
   * semver rule or composition); recorded in the audit log and each version's report.
   */
  force?: { reason: string };
  /** The extension named by the URL (POST /admin/extensions/{name}/versions). */
  expectedName?: string;
  /** Register members that are not registered yet, in the same transaction (else EXTENSION_NOT_FOUND). */
  registerMissing?: boolean;
}

export interface ReleaseResult {
  release: ReleaseRecord;
  supergraph: SupergraphSummary;
  /** Each member: its extension as stored after the release, its version and change report. */
  members: Array<{ extension: ExtensionRecord; version: ExtensionVersionRecord; report: VersionReport }>;
  retired: ExtensionRecord[];
  hints: string[];
  /** Rules the pipeline could not judge (none at publish, where the registry has everything). */
  notChecked: NotChecked[];
}

export interface PublishInput extends Omit<ReleaseMemberInput, 'manifest'> {
  manifest: unknown;
  expectedName?: string;
  force?: { reason: string };
}

export interface RegistryServiceOptions {
  store: RegistryStore;
  host: SupergraphHost;
  runtime: ExtensionRuntimeTable;
  upstream: { defaultTimeoutMs: number; maxTimeoutMs: number };
  /** Names of the @policy functions the gateway config registers. */
  knownPolicies: ReadonlySet<string>;
  /** Refuses subgraph URLs the network policy does not allow (SSRF); throws URL_NOT_ALLOWED. */
  checkUrl?: (url: string) => Promise<void>;
  /** Checks resolver directives at publish and runs them (gateway/directives); without it, they are stored unchecked. */
  directives?: DirectiveRuntime;
  /** The versioning rules (config `versioning`); default: a 14-day deprecation period. */
  versioning?: { deprecationDays: number };
  /** The schema lint policy (config `lint`); default: every rule off. */
  lint?: LintConfig;
  /** The clock of the deprecation rule (tests inject one). */
  now?: () => Date;
  /** The usage step's settings (config `usage`); undefined: publish judges changes without traffic. */
  usage?: { windowDays: number; strict: boolean };
  /**
   * Control-plane events (gateway/webhooks): a release applied or refused, an extension
   * paused or resumed. Called after the fact; must neither throw nor make the caller wait.
   */
  onEvent?: (event: 'release.applied' | 'release.refused' | 'extension.paused' | 'extension.resumed', data: Record<string, unknown>) => void;
  /**
   * Re-reads what else the gateway keeps from the store (the operation registry), at
   * start and on every sync from the store.
   */
  onSync?: () => Promise<void>;
}

/** What a sync from the store did. */
export interface RegistrySyncResult {
  /** The supergraph served after the sync; undefined while the registry has none. */
  supergraphId: number | undefined;
  /** The sync swapped to a supergraph another process stored. */
  activated: boolean;
  /** The store's change counter the sync read (RegistryStore.lastChangeId). */
  changeId: number;
}

function summaryOf(supergraph: SupergraphRecord): SupergraphSummary {
  const { id, hash, members, createdAt } = supergraph;
  return { id, hash, members, createdAt };
}

export class RegistryService {
  readonly #store: RegistryStore;
  readonly #host: SupergraphHost;
  readonly #runtime: ExtensionRuntimeTable;
  readonly #upstream: RegistryServiceOptions['upstream'];
  readonly #knownPolicies: ReadonlySet<string>;
  readonly #checkUrl: ((url: string) => Promise<void>) | undefined;
  readonly #directives: DirectiveRuntime | undefined;
  readonly #deprecationDays: number;
  readonly #lint: LintConfig;
  readonly #now: () => Date;
  readonly #onSync: (() => Promise<void>) | undefined;
  readonly #onEvent: RegistryServiceOptions['onEvent'];
  readonly #usage: { windowDays: number; strict: boolean } | undefined;
  #queue: Promise<unknown> = Promise.resolve();
  /** The supergraph this process serves (set by every activation). */
  #servedId: number | undefined;
  /** The store's change counter at the last sync: syncIfChanged re-reads only when it moved. */
  #seenChangeId: number | undefined;

  constructor(options: RegistryServiceOptions) {
    this.#store = options.store;
    this.#host = options.host;
    this.#runtime = options.runtime;
    this.#upstream = options.upstream;
    this.#knownPolicies = options.knownPolicies;
    this.#checkUrl = options.checkUrl;
    this.#directives = options.directives;
    this.#deprecationDays = options.versioning?.deprecationDays ?? 14;
    this.#lint = options.lint ?? { rules: {} };
    this.#now = options.now ?? (() => new Date());
    this.#onSync = options.onSync;
    this.#onEvent = options.onEvent;
    this.#usage = options.usage;
  }

  /** The usage step's window and strictness (graft check --registry judges as publish does). */
  get usageSettings(): { windowDays: number; strict: boolean } | undefined {
    return this.#usage;
  }

  /** Operations seen in traffic (every gateway process's counts), for the admin API and graft check --registry. */
  queryUsage(query: UsageQuery): Promise<UsageSummary[]> {
    return this.#store.queryUsage(query);
  }

  /** The deprecation period of the versioning rules, in days. */
  get deprecationDays(): number {
    return this.#deprecationDays;
  }

  /** The schema lint policy publish applies (graft check --registry reads it). */
  get lintConfig(): LintConfig {
    return this.#lint;
  }

  /** The @policy names the gateway config registers (graft check --registry reads them). */
  get knownPolicies(): string[] {
    return [...this.#knownPolicies].sort();
  }

  // ------------------------------------------------------------ reads (the admin API's)

  listExtensions(): Promise<ExtensionRecord[]> {
    return this.#store.listExtensions();
  }

  /** undefined when there is none. */
  findExtension(name: string): Promise<ExtensionRecord | undefined> {
    return this.#store.getExtension(name);
  }

  /** Throws EXTENSION_NOT_FOUND. */
  async getExtension(name: string): Promise<ExtensionRecord> {
    const record = await this.#store.getExtension(name);
    if (!record) {
      throw new GraftError(GraftErrorCode.EXTENSION_NOT_FOUND, `There is no extension "${name}": check the name (GET /admin/extensions lists them).`, { extension: name });
    }
    return record;
  }

  /** Newest first. Throws EXTENSION_NOT_FOUND. */
  async listVersions(name: string): Promise<ExtensionVersionRecord[]> {
    await this.getExtension(name);
    return this.#store.listVersions(name);
  }

  /** Throws EXTENSION_NOT_FOUND or VERSION_NOT_FOUND. */
  async getVersion(name: string, version: string): Promise<ExtensionVersionRecord> {
    await this.getExtension(name);
    const record = await this.#store.getVersion(name, version);
    if (!record) {
      throw new GraftError(GraftErrorCode.VERSION_NOT_FOUND, `Extension "${name}" has no version ${version}: GET /admin/extensions/${name}/versions lists them.`, { extension: name });
    }
    return record;
  }

  /** The active version of an extension, if it has one and is not retired. */
  async activeVersionOf(name: string): Promise<ExtensionVersionRecord | undefined> {
    const extension = await this.#store.getExtension(name);
    return extension?.activeVersion && extension.status !== 'retired' ? this.#store.getVersion(name, extension.activeVersion) : undefined;
  }

  getActiveSupergraph(): Promise<SupergraphRecord | undefined> {
    return this.#store.getActiveSupergraph();
  }

  listAuditEvents(options: { extension?: string; limit?: number }): Promise<AuditEvent[]> {
    return this.#store.listAuditEvents(options);
  }

  listReleases(options: { extension?: string; limit?: number }): Promise<ReleaseRecord[]> {
    return this.#store.listReleases(options);
  }

  /** The changelog of one extension, newest version first, each entry with the release it came in. */
  async changelog(name: string): Promise<Changelog> {
    await this.getExtension(name);
    const releases = await this.#store.listReleases({ extension: name });
    return buildChangelog(name, await this.#store.listVersions(name), this.#deprecationDays, releases);
  }

  // ------------------------------------------------------------ the runtime table

  runtimeStateOf(manifest: ExtensionManifest, status: ExtensionStatus, tenants: readonly string[] | null): ExtensionRuntimeState {
    return {
      status,
      tenants: tenants === null ? null : new Set(tenants),
      timeoutMs: Math.min(manifest.limits?.timeoutMs ?? this.#upstream.defaultTimeoutMs, this.#upstream.maxTimeoutMs),
      grants: manifest.grants ?? [],
      maxCost: manifest.limits?.maxCost,
    };
  }

  /**
   * The one way the request path's runtime table changes: from an extension as stored, with
   * the manifest of its active version when that changed (else the table keeps the one it has).
   */
  #updateRuntime(extension: ExtensionRecord, manifest?: ExtensionManifest): void {
    const current = this.#runtime.get(extension.name);
    if (manifest) this.#runtime.set(extension.name, this.runtimeStateOf(manifest, extension.status, extension.tenants));
    else if (current) this.#runtime.set(extension.name, { ...current, status: extension.status, tenants: extension.tenants === null ? null : new Set(extension.tenants) });
  }

  // ------------------------------------------------------------ sync between processes

  /** Runs registry writes one at a time, in arrival order. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Loads the stored supergraph into the gateway (at start). Returns false on an empty registry. */
  async loadActive(): Promise<boolean> {
    const result = await this.syncFromStore();
    return result.supergraphId !== undefined;
  }

  /**
   * Brings this process up to date with the store, for registry changes another process
   * made (GRAFT_WORKERS): the runtime table (status, tenants, grants, timeouts), the active
   * supergraph when it is not the one served (prepared and swapped like a release, resolver
   * directives included), and the operation registry (`onSync`). Runs in turn with this
   * process's own registry writes.
   */
  syncFromStore(): Promise<RegistrySyncResult> {
    return this.#serialize(() => this.#sync());
  }

  /**
   * The cheap poll: one indexed read of the store's change counter, and a full sync only
   * when it moved since the last one. Resolves undefined when nothing changed.
   */
  async syncIfChanged(): Promise<RegistrySyncResult | undefined> {
    if ((await this.#store.lastChangeId()) === this.#seenChangeId) return undefined;
    return this.syncFromStore();
  }

  async #sync(): Promise<RegistrySyncResult> {
    // The counter first: a change committed while we read moves it past this value, so the
    // next syncIfChanged reads again rather than missing it.
    const changeId = await this.#store.lastChangeId();
    for (const extension of await this.#store.listExtensions()) {
      if (!extension.activeVersion) continue;
      const version = await this.#store.getVersion(extension.name, extension.activeVersion);
      if (version) this.#updateRuntime(extension, version.manifest);
    }
    const stored = await this.#store.getActiveSupergraph();
    let activated = false;
    if (stored && stored.id !== this.#servedId) {
      await this.#serve(stored);
      activated = true;
    }
    await this.#onSync?.();
    this.#seenChangeId = changeId;
    return { supergraphId: this.#servedId, activated, changeId };
  }

  /** Prepares a stored supergraph, with its members' resolver directive modules, and swaps to it. */
  async #serve(stored: SupergraphRecord): Promise<void> {
    const directives: DirectiveModule[] = [];
    for (const member of stored.members) {
      const version = await this.#store.getVersion(member.extension, member.version);
      if (version) directives.push(...modulesOfVersion(version));
    }
    const snapshot = await this.#host.prepare({ hash: stored.hash, sdl: stored.sdl, directives });
    await this.#host.activate(snapshot, stored.id);
    this.#servedId = stored.id;
  }

  /**
   * Runs a registry write once more when the store refused it with REGISTRY_CONFLICT
   * (another process stored a supergraph after `attempt` read the registry): first served
   * here too, then the whole pipeline again against it. A second conflict reaches the
   * caller, whose message says to retry.
   */
  async #retryOnConflict<T>(attempt: () => Promise<T>): Promise<T> {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof GraftError) || error.code !== GraftErrorCode.REGISTRY_CONFLICT) throw error;
      await this.#sync();
      return attempt();
    }
  }

  // ------------------------------------------------------------ writes

  async register(input: { name: string; owner: string; description?: string }, actor: Actor): Promise<ExtensionRecord> {
    if (!EXTENSION_NAME.test(input.name)) {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `"${input.name}" is not a valid extension name: use a DNS label (lower-case letters, digits and '-', starting with a letter).`);
    }
    return this.#serialize(() =>
      this.#store.createExtension({ name: input.name, owner: input.owner, description: input.description ?? '' }, actor.subject),
    );
  }

  /** Publishes one version: a release of one. `expectedName` is the extension named by the URL, if any. */
  async publish(input: PublishInput, actor: Actor): Promise<PublishResult> {
    const { manifest, sdl, directiveModules, expectedName, force } = input;
    const result = await this.release(
      {
        extensions: [{ manifest, sdl, ...(directiveModules ? { directiveModules } : {}) }],
        ...(expectedName === undefined ? {} : { expectedName }),
        ...(force ? { force } : {}),
      },
      actor,
    );
    const [member] = result.members;
    return { extension: member!.extension, version: member!.version, supergraph: result.supergraph, hints: result.hints, report: member!.report };
  }

  /** Retires an extension: a release that only retires it (refused if others need its types). */
  async retire(name: string, actor: Actor): Promise<{ extension: ExtensionRecord; supergraph: SupergraphSummary }> {
    const result = await this.release({ extensions: [], retire: [name] }, actor);
    return { extension: result.retired[0]!, supergraph: result.supergraph };
  }

  /**
   * A release: every member validated, then the pipeline, the gateway loads the result, the
   * store keeps all of it in one transaction, and the gateway swaps. Nothing stored changes
   * unless every step of every member passes; a refusal lists every finding.
   */
  async release(input: ReleaseInput, actor: Actor): Promise<ReleaseResult> {
    try {
      const members = validateMembers(input);
      const force = input.force === undefined ? undefined : checkForce(input.force, actor, members[0]?.manifest.name);
      const result = await this.#serialize(() => this.#retryOnConflict(() => this.#releaseOnce(members, input, force, actor)));
      this.#onEvent?.('release.applied', {
        release: result.release.id,
        supergraph: result.supergraph,
        versions: result.release.members,
        retired: result.release.retired,
        actor: actor.subject,
        ...(result.release.reason === undefined ? {} : { reason: result.release.reason }),
      });
      return result;
    } catch (error) {
      if (error instanceof GraftError) {
        const named = input.extensions.map((e) => (e.manifest as { name?: unknown } | null)?.name).filter((n): n is string => typeof n === 'string');
        this.#onEvent?.('release.refused', { extensions: [...named, ...(input.retire ?? [])], code: error.code, message: error.message, actor: actor.subject });
      }
      throw error;
    }
  }

  /** One run of a release, from reading the registry to the swap. */
  async #releaseOnce(members: ProposedMember[], input: ReleaseInput, force: { reason: string } | undefined, actor: Actor): Promise<ReleaseResult> {
    const retire = [...(input.retire ?? [])];
    // Read before anything it is composed from: whatever another process stores later
    // makes the store refuse this release (REGISTRY_CONFLICT) instead of losing it.
    const base = await this.#store.getActiveSupergraph();
    const registrations = new Map<string, NewReleaseMember['register']>();
    const history = new Map<string, ExtensionHistory>();
    for (const { manifest } of members) {
      const extension = await this.#store.getExtension(manifest.name);
      if (!extension) {
        if (!input.registerMissing) {
          throw new GraftError(
            GraftErrorCode.EXTENSION_NOT_FOUND,
            `Extension "${manifest.name}" is not registered: register it first (POST /admin/extensions), or publish it with graft publish or POST /admin/releases, which register it for you.`,
            { extension: manifest.name },
          );
        }
        registrations.set(manifest.name, { name: manifest.name, owner: manifest.owner, description: manifest.description ?? '' });
      }
      history.set(manifest.name, { versions: await this.#store.listVersions(manifest.name) });
    }
    for (const name of retire) {
      const extension = await this.#store.getExtension(name);
      if (!extension) throw new GraftError(GraftErrorCode.EXTENSION_NOT_FOUND, `There is no extension "${name}".`, { extension: name });
      if (extension.status === 'retired') throw new GraftError(GraftErrorCode.BAD_REQUEST, `Extension "${name}" is already retired.`, { extension: name });
    }
    const active = await this.#activeMembers();
    const registered = await this.#store.listOperations();

    const result = await runPipeline({
      members,
      retire,
      active,
      ...(base && sameMembers(base, active) ? { baseApiSdl: base.apiSdl } : {}),
      history,
      registeredOperations: registered.map((o) => ({ file: `registry:${o.name}`, source: o.document })),
      publisherIsAdmin: actor.scopes.has(ADMIN_SCOPE),
      knownPolicies: this.#knownPolicies,
      ...(this.#checkUrl ? { checkUrl: this.#checkUrl } : {}),
      ...(this.#directives ? { directives: this.#directives } : {}),
      deprecationDays: this.#deprecationDays,
      lint: this.#lint,
      now: this.#now(),
      ...(force ? { force: { reason: force.reason, by: actor.subject } } : {}),
      ...(this.#usage
        ? { usage: { days: this.#usage.windowDays, minCount: 1, excludeClients: [], strict: this.#usage.strict, lookup: (query: UsageQuery) => this.#store.queryUsage(query) } }
        : {}),
    });
    const errors = errorsOf(result);
    if (errors.length > 0) throw refusalOf(errors);
    const composed = result.composed!;

    // Load the new supergraph in the gateway before storing it, so a version is never
    // stored that the gateway cannot serve.
    const hash = supergraphHash(composed.supergraphSdl);
    const snapshot = await this.#host.prepare({ hash, sdl: composed.supergraphSdl, directives: result.directives.served });
    let stored: Awaited<ReturnType<RegistryStore['applyRelease']>>;
    try {
      stored = await this.#store.applyRelease({
        members: members.map(({ manifest, sdl }) => {
          const sources = result.directives.sources.get(manifest.name) ?? {};
          const register = registrations.get(manifest.name);
          return {
            extension: manifest.name,
            version: manifest.version,
            manifest,
            sdl,
            report: result.reports.get(manifest.name) as unknown as Record<string, unknown>,
            ...(Object.keys(sources).length > 0 ? { directiveModules: sources } : {}),
            ...(register ? { register } : {}),
          };
        }),
        retire,
        supergraph: {
          sdl: composed.supergraphSdl,
          apiSdl: composed.apiSdl,
          members: result.proposed.map((s) => ({ extension: s.name, version: members.find((m) => m.manifest.name === s.name)?.manifest.version ?? active.find((a) => a.name === s.name)!.version })),
          basedOn: base?.id ?? null,
        },
        actor: actor.subject,
        ...(input.reason ? { reason: input.reason } : {}),
        auditDetails: auditDetailsOf(result.reports, force),
      });
    } catch (error) {
      await this.#host.discard(snapshot);
      throw error;
    }
    for (const extension of stored.extensions) this.#updateRuntime(extension, members.find((m) => m.manifest.name === extension.name)?.manifest);
    await this.#host.activate(snapshot, stored.supergraph.id);
    this.#servedId = stored.supergraph.id;
    return {
      release: stored.release,
      supergraph: summaryOf(stored.supergraph),
      members: stored.versions.map((version) => ({
        extension: stored.extensions.find((e) => e.name === version.extension)!,
        version,
        report: result.reports.get(version.extension)!,
      })),
      retired: stored.extensions.filter((e) => retire.includes(e.name)),
      // What did not refuse but should be seen (lint warnings) travels with the hints.
      hints: [...result.hints, ...result.findings.filter((f) => f.severity === 'warning').map((f) => `[${f.extension}] ${f.code}${f.path ? ` at ${f.path}` : ''}: ${f.message}`)],
      notChecked: result.notChecked,
    };
  }

  /** Pause keeps the schema stable and answers the extension's fields with EXTENSION_PAUSED. */
  async setStatus(name: string, status: Exclude<ExtensionStatus, 'retired'>, actor: Actor): Promise<ExtensionRecord> {
    return this.#serialize(async () => {
      await this.getExtension(name);
      const record = await this.#store.setStatus(name, status, actor.subject);
      this.#updateRuntime(record);
      this.#onEvent?.(status === 'paused' ? 'extension.paused' : 'extension.resumed', { extension: name, actor: actor.subject });
      return record;
    });
  }

  /** Per-tenant enablement: other tenants get EXTENSION_DISABLED on the extension's fields. */
  async setTenants(name: string, tenants: string[] | null, actor: Actor): Promise<ExtensionRecord> {
    return this.#serialize(async () => {
      await this.getExtension(name);
      const record = await this.#store.setTenants(name, tenants, actor.subject);
      this.#updateRuntime(record);
      return record;
    });
  }

  /** The graph in service: every unretired extension's active version. */
  async #activeMembers(): Promise<ActiveMember[]> {
    const result: ActiveMember[] = [];
    for (const extension of await this.#store.listExtensions()) {
      if (extension.status === 'retired' || !extension.activeVersion) continue;
      const version = await this.#store.getVersion(extension.name, extension.activeVersion);
      if (!version) continue;
      result.push({
        name: extension.name,
        version: version.version,
        url: version.manifest.subgraph.url,
        sdl: version.sdl,
        manifest: version.manifest,
        ...(version.directiveModules ? { directiveModules: version.directiveModules } : {}),
      });
    }
    return result;
  }
}

/** Whether the stored supergraph is exactly the graph in service (then its API schema is the base's). */
function sameMembers(stored: SupergraphRecord, active: readonly ActiveMember[]): boolean {
  const key = (m: { extension: string; version: string }) => `${m.extension}@${m.version}`;
  const set = new Set(stored.members.map(key));
  return set.size === active.length && active.every((a) => set.has(key({ extension: a.name, version: a.version })));
}

/**
 * Every member's manifest validated and matched against the URL before any work; a release
 * with bad members is refused listing every one of them.
 */
function validateMembers(input: ReleaseInput): ProposedMember[] {
  const problems: Finding[] = [];
  const members: ProposedMember[] = [];
  input.extensions.forEach((member, index) => {
    const label = nameOf(member.manifest) ?? `#${index + 1}`;
    try {
      const manifest = validateManifest(member.manifest);
      if (input.expectedName !== undefined && input.expectedName !== manifest.name) {
        throw new GraftError(
          GraftErrorCode.NAME_MISMATCH,
          `The manifest names extension "${manifest.name}" but the request is for "${input.expectedName}": publish it under /admin/extensions/${manifest.name}/versions.`,
          { extension: manifest.name },
        );
      }
      members.push({ manifest, sdl: member.sdl, ...(member.directiveModules ? { directiveModules: member.directiveModules } : {}) });
    } catch (error) {
      if (!(error instanceof GraftError)) throw error;
      problems.push({ code: error.code, severity: 'error', extension: label, step: 'manifest', message: error.message, ...(error.details ? { details: error.details } : {}) });
    }
  });
  if (problems.length > 0) throw refusalOf(problems);
  return members;
}

function nameOf(manifest: unknown): string | undefined {
  const name = (manifest as { name?: unknown } | null)?.name;
  return typeof name === 'string' ? name : undefined;
}

/** What the release's audit event says beyond its versions: each member's verdict and bump, a forced override. */
function auditDetailsOf(reports: ReadonlyMap<string, VersionReport>, force: { reason: string } | undefined): Record<string, unknown> {
  const forced = force
    ? {
        forced: {
          reason: force.reason,
          overrode: {
            removals: [...reports.values()].flatMap((r) => r.forced?.overrode.removals.map((x) => x.coordinate) ?? []),
            operations: [...new Set([...reports.values()].flatMap((r) => r.forced?.overrode.operations ?? []))],
          },
        },
      }
    : {};
  if (reports.size === 1) {
    const [report] = reports.values();
    return { verdict: report!.verdict, bump: report!.bump, ...forced };
  }
  return { verdicts: Object.fromEntries([...reports].map(([name, r]) => [name, { verdict: r.verdict, bump: r.bump }])), ...forced };
}

/** A force needs graft:admin and a reason; anything else is refused before any work. */
function checkForce(force: { reason: string }, actor: Actor, name: string | undefined): { reason: string } {
  const extension = name === undefined ? {} : { extension: name };
  if (!actor.scopes.has(ADMIN_SCOPE)) {
    throw new GraftError(
      GraftErrorCode.FORBIDDEN,
      `Forcing a publish past the deprecation and registered-operation rules needs scope ${ADMIN_SCOPE}: publish without "force", or ask a platform admin to force it.`,
      extension,
    );
  }
  const reason = typeof force?.reason === 'string' ? force.reason.trim() : '';
  if (reason === '') {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, 'A forced publish needs a reason: send "force": { "reason": "why the rules may be broken this time" }.', extension);
  }
  return { reason };
}
