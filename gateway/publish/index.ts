// The publish pipeline (DESIGN.md, "Flow of one publish"): manifest → SDL → compose with
// every active extension → schema check against the active extensions (gateway/checks, the
// same pipeline `graft check` runs) and the registered operations → versioning rules
// (versioning.ts: semver, deprecation period, registered operations) → store the version,
// its change report and its supergraph in one transaction → hot swap. The admin API and
// the CLI's in-process bootstrap share this one implementation. Publishes are serialized
// within a process; between processes sharing the registry (GRAFT_WORKERS) the store
// refuses a write composed against a stale graph (REGISTRY_CONFLICT) and the pipeline runs
// once more against the graph as it is now. Either way, two publishes never compose
// against the same base and overwrite each other.
import { buildSchema } from 'graphql';
import semver from 'semver';
import { checkOperations, parseOperations, runSchemaCheck, verdictOf, type ParsedOperation, type SchemaCheckReport } from '../checks/index.js';
import { composeOrThrow, composeSubgraphs, parseSubgraphSdl, supergraphHash, type ComposedSupergraph, type SubgraphInput } from '../composition/index.js';
import type { SupergraphSnapshot } from '../engine/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { EXTENSION_NAME, validateManifest, type ExtensionManifest } from '../manifest/index.js';
import { ADMIN_SCOPE } from '../auth/index.js';
import type {
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  RegistryStore,
  SupergraphRecord,
} from '../registry/index.js';
import { authorizationUsageOf } from '../policy/index.js';
import type { ExtensionRuntimeState, ExtensionRuntimeTable } from '../upstream/index.js';
import { modulesOfVersion, type DirectiveModule, type DirectiveRuntime } from '../directives/index.js';
import {
  bumpOf,
  buildChangelog,
  describeBump,
  describeRemoval,
  judgeRemovals,
  newlyDeprecated,
  requiredBumpOf,
  satisfiesBump,
  suggestVersion,
  summarizeChanges,
  type Changelog,
  type Removal,
  type VersionReport,
} from './versioning.js';

export {
  bumpOf,
  buildChangelog,
  deprecatedElements,
  requiredBumpOf,
  suggestVersion,
  type BumpLevel,
  type Changelog,
  type ChangelogDeprecation,
  type ChangelogEntry,
  type DeprecatedElement,
  type ForcedOverride,
  type Removal,
  type VersionReport,
} from './versioning.js';

/** Who asks for a registry change: the verified token's subject and scopes. */
export interface Actor {
  subject: string;
  scopes: ReadonlySet<string>;
}

/** The identity `graft start` registers the examples with. */
export const SYSTEM_ACTOR: Actor = { subject: 'graft-system', scopes: new Set([ADMIN_SCOPE]) };

/** The part of the gateway the pipeline swaps supergraphs on. */
export interface SupergraphHost {
  /** `directives`: the resolver directive modules served with this supergraph (gateway/directives). */
  prepare(supergraph: { hash: string; sdl: string; directives?: readonly DirectiveModule[] }): Promise<SupergraphSnapshot>;
  /** Serves the snapshot; resolves once it is served (the first one also starts Apollo Server). */
  activate(snapshot: SupergraphSnapshot, id: number): void | Promise<void>;
  discard(snapshot: SupergraphSnapshot): Promise<void>;
}

export interface PublishResult {
  extension: ExtensionRecord;
  version: ExtensionVersionRecord;
  supergraph: Pick<SupergraphRecord, 'id' | 'hash' | 'members' | 'createdAt'>;
  hints: string[];
  /** The change report stored with the version. */
  report: VersionReport;
}

export interface PublishInput {
  manifest: unknown;
  sdl: string;
  /** The extension named by the URL, if any. */
  expectedName?: string;
  /**
   * An admin's override of the deprecation and registered-operation rules (never of the
   * semver rule or composition); recorded in the audit log and the version's report.
   */
  force?: { reason: string };
  /** Sources of the resolver directive modules graft.json declares, by the path it names. */
  directiveModules?: Record<string, unknown>;
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
  /** The clock of the deprecation rule (tests inject one). */
  now?: () => Date;
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

export class RegistryService {
  readonly #store: RegistryStore;
  readonly #host: SupergraphHost;
  readonly #runtime: ExtensionRuntimeTable;
  readonly #upstream: RegistryServiceOptions['upstream'];
  readonly #knownPolicies: ReadonlySet<string>;
  readonly #checkUrl: ((url: string) => Promise<void>) | undefined;
  readonly #directives: DirectiveRuntime | undefined;
  readonly #deprecationDays: number;
  readonly #now: () => Date;
  readonly #onSync: (() => Promise<void>) | undefined;
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
    this.#now = options.now ?? (() => new Date());
    this.#onSync = options.onSync;
  }

  /** The deprecation period of the versioning rules, in days. */
  get deprecationDays(): number {
    return this.#deprecationDays;
  }

  get store(): RegistryStore {
    return this.#store;
  }

  /** Runs registry writes one at a time, in arrival order. */
  #serialize<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  runtimeStateOf(manifest: ExtensionManifest, status: ExtensionStatus, tenants: string[] | null): ExtensionRuntimeState {
    return {
      status,
      tenants: tenants === null ? null : new Set(tenants),
      timeoutMs: Math.min(manifest.limits?.timeoutMs ?? this.#upstream.defaultTimeoutMs, this.#upstream.maxTimeoutMs),
      grants: manifest.grants ?? [],
      maxCost: manifest.limits?.maxCost,
    };
  }

  /**
   * Least privilege toward extensions: an extension may require in @requiresScopes only
   * scopes it is granted, a grant outside its own "name:" namespace needs graft:admin,
   * and every @policy it names must be registered in the gateway config.
   */
  #checkPrivileges(manifest: ExtensionManifest, sdl: string, actor: Actor): void {
    const { name } = manifest;
    const grants = new Set(manifest.grants ?? []);
    const usage = authorizationUsageOf(sdl);
    const ungranted = [...usage.scopes].filter((scope) => !grants.has(scope));
    if (ungranted.length > 0) {
      throw new GraftError(
        GraftErrorCode.GRANT_NOT_ALLOWED,
        `Extension "${name}" uses scopes it is not granted in @requiresScopes: ${ungranted.join(', ')}. Add them to "grants" in graft.json.`,
        { extension: name, details: { ungrantedScopes: ungranted } },
      );
    }
    const foreign = [...grants].filter((scope) => !scope.startsWith(`${name}:`));
    if (foreign.length > 0 && !actor.scopes.has(ADMIN_SCOPE)) {
      throw new GraftError(
        GraftErrorCode.GRANT_NOT_ALLOWED,
        `Grants outside the "${name}:" namespace (${foreign.join(', ')}) need a publisher with scope graft:admin; ask a platform admin to publish this version or remove them.`,
        { extension: name, details: { foreignGrants: foreign } },
      );
    }
    const unknown = [...usage.policies].filter((policy) => !this.#knownPolicies.has(policy));
    if (unknown.length > 0) {
      throw new GraftError(
        GraftErrorCode.UNKNOWN_POLICY,
        `Extension "${name}" uses @policy names the gateway does not know: ${unknown.join(', ')}. Register them in the gateway config (authorization.policies) or fix the names.`,
        { extension: name, details: { unknownPolicies: unknown, knownPolicies: [...this.#knownPolicies] } },
      );
    }
  }

  /** Loads the stored supergraph into the gateway (at start). Returns false on an empty registry. */
  async loadActive(): Promise<boolean> {
    const result = await this.syncFromStore();
    return result.supergraphId !== undefined;
  }

  /**
   * Brings this process up to date with the store, for registry changes another process
   * made (GRAFT_WORKERS): the runtime table (status, tenants, grants, timeouts), the active
   * supergraph when it is not the one served (prepared and swapped like a publish, resolver
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
    await this.#refreshRuntime();
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

  async register(input: { name: string; owner: string; description?: string }, actor: Actor): Promise<ExtensionRecord> {
    if (!EXTENSION_NAME.test(input.name)) {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `"${input.name}" is not a valid extension name: use a DNS label (lower-case letters, digits and '-', starting with a letter).`);
    }
    return this.#serialize(() =>
      this.#store.createExtension({ name: input.name, owner: input.owner, description: input.description ?? '' }, actor.subject),
    );
  }

  /**
   * Publishes one version. `expectedName` is the extension named by the URL, if any.
   * Nothing stored changes unless every step passes.
   */
  async publish(input: PublishInput, actor: Actor): Promise<PublishResult> {
    const manifest = validateManifest(input.manifest);
    const { name } = manifest;
    if (input.expectedName !== undefined && input.expectedName !== name) {
      throw new GraftError(
        GraftErrorCode.NAME_MISMATCH,
        `The manifest names extension "${name}" but the request is for "${input.expectedName}": publish it under /admin/extensions/${name}/versions.`,
        { extension: name },
      );
    }
    if (typeof input.sdl !== 'string' || input.sdl.trim() === '') {
      throw new GraftError(GraftErrorCode.SDL_INVALID, `The SDL of extension "${name}" is empty: send the subgraph schema as "sdl".`, { extension: name });
    }
    parseSubgraphSdl(name, input.sdl);
    const force = input.force === undefined ? undefined : checkForce(input.force, actor, name);

    return this.#serialize(() => this.#retryOnConflict(() => this.#publishOnce(manifest, input, force, actor)));
  }

  /** One run of the pipeline, from reading the registry to the swap. */
  async #publishOnce(manifest: ExtensionManifest, input: PublishInput, force: { reason: string } | undefined, actor: Actor): Promise<PublishResult> {
    const { name } = manifest;
    // Read before anything it is composed from: whatever another process stores later
    // makes the store refuse this publish (REGISTRY_CONFLICT) instead of losing it.
    const base = await this.#store.getActiveSupergraph();
    const extension = await this.#store.getExtension(name);
    if (!extension) {
      throw new GraftError(
        GraftErrorCode.EXTENSION_NOT_FOUND,
        `Extension "${name}" is not registered: register it first (POST /admin/extensions, or graft publish, which registers it for you).`,
        { extension: name },
      );
    }
    this.#checkPrivileges(manifest, input.sdl, actor);
    try {
      await this.#checkUrl?.(manifest.subgraph.url);
    } catch (error) {
      if (error instanceof GraftError) throw new GraftError(error.code, error.message, { extension: name, ...(error.details ? { details: error.details } : {}) });
      throw error;
    }
    const versions = await this.#store.listVersions(name);
    const latest = versions[0];
    if (latest && !semver.gt(manifest.version, latest.version)) {
      throw new GraftError(
        latest.version === manifest.version ? GraftErrorCode.VERSION_EXISTS : GraftErrorCode.VERSION_NOT_GREATER,
        `Version ${manifest.version} of "${name}" is not greater than the latest published version ${latest.version}: published versions are immutable, bump "version" in graft.json.`,
        { extension: name, details: { latestVersion: latest.version } },
      );
    }

    const others = await this.#activeSubgraphs(name);
    const candidate: SubgraphInput = { name, url: manifest.subgraph.url, sdl: input.sdl };
    const composed = composeOrThrow([...others.map((o) => o.subgraph), candidate], name);
    const { report, auditDetails } = await this.#applyVersioningRules({ extension, manifest, sdl: input.sdl, others, candidate, composed, versions, force, actor, active: base });
    const hash = supergraphHash(composed.supergraphSdl);
    const directives = await this.#checkDirectives(manifest, input, versions, extension, others);

    // Load the new supergraph in the gateway before storing it, so a version is never
    // stored that the gateway cannot serve.
    const snapshot = await this.#host.prepare({ hash, sdl: composed.supergraphSdl, directives: directives.served });
    let stored: Awaited<ReturnType<RegistryStore['publishVersion']>>;
    try {
      stored = await this.#store.publishVersion({
        extension: name,
        version: manifest.version,
        manifest,
        sdl: input.sdl,
        publishedBy: actor.subject,
        supergraph: {
          sdl: composed.supergraphSdl,
          apiSdl: composed.apiSdl,
          members: [...others.map((o) => ({ extension: o.subgraph.name, version: o.version })), { extension: name, version: manifest.version }],
          basedOn: base?.id ?? null,
        },
        report: report as unknown as Record<string, unknown>,
        auditDetails,
        ...(Object.keys(directives.sources).length > 0 ? { directiveModules: directives.sources } : {}),
      });
    } catch (error) {
      await this.#host.discard(snapshot);
      throw error;
    }
    this.#runtime.set(name, this.runtimeStateOf(manifest, extension.status, extension.tenants));
    await this.#host.activate(snapshot, stored.supergraph.id);
    this.#servedId = stored.supergraph.id;
    const updated = (await this.#store.getExtension(name)) ?? extension;
    const { id, hash: storedHash, members, createdAt } = stored.supergraph;
    return { extension: updated, version: stored.version, supergraph: { id, hash: storedHash, members, createdAt }, hints: [...composed.hints, ...directives.hints], report };
  }

  /**
   * The schema check of a publish and the versioning rules (versioning.ts): runs
   * runSchemaCheck with the active extensions as the base and this version as the change,
   * checks the registered operations against both API schemas, then refuses with
   * PUBLISH_REJECTED (semver; a broken registered operation) or DEPRECATION_REQUIRED, unless
   * an admin forces the last two. Returns the report to store with the version.
   */
  async #applyVersioningRules(input: {
    extension: ExtensionRecord;
    manifest: ExtensionManifest;
    sdl: string;
    others: Array<{ subgraph: SubgraphInput; version: string }>;
    candidate: SubgraphInput;
    composed: ComposedSupergraph;
    versions: ExtensionVersionRecord[];
    force: { reason: string } | undefined;
    actor: Actor;
    /** The active supergraph the publish is composed against. */
    active: SupergraphRecord | undefined;
  }): Promise<{ report: VersionReport; auditDetails: Record<string, unknown> }> {
    const { extension, manifest, others, candidate, composed, versions, force, actor } = input;
    const { name } = manifest;
    const latest = versions[0];
    const active = extension.status !== 'retired' && extension.activeVersion ? versions.find((v) => v.version === extension.activeVersion) : undefined;
    const baseMembers = [...others.map((o) => ({ extension: o.subgraph.name, version: o.version })), ...(active ? [{ extension: name, version: active.version }] : [])];
    const base = [...others.map((o) => o.subgraph), ...(active ? [{ name, url: active.manifest.subgraph.url, sdl: active.sdl }] : [])];
    const baseApiSdl = this.#baseApiSdl(base, baseMembers, input.active);
    const check = await runSchemaCheck({
      base,
      proposed: [...others.map((o) => o.subgraph), candidate],
      changedSubgraphs: [name],
      ...(baseApiSdl === undefined ? {} : { baseApiSdl }),
    });
    if (baseApiSdl !== undefined) await this.#checkRegisteredOperations(check, baseApiSdl, composed.apiSdl);

    const days = this.#deprecationDays;
    const requiredBump = requiredBumpOf(check.verdict);
    const bump = latest ? bumpOf(latest.version, manifest.version) : 'initial';
    const removals = latest ? judgeRemovals(check.changes, versions, days, this.#now()) : [];
    const refusedRemovals = removals.filter((r) => !r.allowed);
    const brokenOperations = check.affectedOperations.map((o) => o.name);
    const details = (rule: string, extra: Record<string, unknown> = {}) => ({
      rule,
      verdict: check.verdict,
      changes: check.changes,
      affectedOperations: check.affectedOperations,
      ...(latest ? { latestVersion: latest.version } : {}),
      version: manifest.version,
      ...extra,
    });
    const forceHint = 'or have a platform admin (scope graft:admin) publish it with "force": { "reason": "..." }, which is recorded in the audit log and the changelog';
    const removalText = (list: Removal[]) => list.map((r) => describeRemoval(r, days, latest?.version ?? '')).join('; ');

    if (latest && bump !== 'initial' && !satisfiesBump(bump, requiredBump)) {
      const suggested = suggestVersion(latest.version, requiredBump);
      const also: string[] = [];
      if (brokenOperations.length > 0) also.push(`it breaks registered operations (${brokenOperations.join(', ')}), which even a new major version may not do`);
      if (refusedRemovals.length > 0) also.push(`removals need a deprecation period first (${removalText(refusedRemovals)})`);
      throw new GraftError(
        GraftErrorCode.PUBLISH_REJECTED,
        `Version ${manifest.version} of "${name}" is a ${bump} bump over ${latest.version}, but the change is ${check.verdict} (${summarizeChanges(check, ['breaking', 'dangerous'])}). ` +
          `Publish ${suggested} (${describeBump(latest.version, requiredBump)}) instead.${also.length > 0 ? ` Note that ${also.join('; and ')}.` : ''}`,
        { extension: name, details: details('semver', { bump, requiredBump, suggestedVersion: suggested, removals }) },
      );
    }
    if (brokenOperations.length > 0 && !force) {
      throw new GraftError(
        GraftErrorCode.PUBLISH_REJECTED,
        `Version ${manifest.version} of "${name}" breaks ${brokenOperations.length} registered operation${brokenOperations.length === 1 ? '' : 's'} that frontends use: ` +
          `${check.affectedOperations.map((o) => `${o.name} (${o.errors[0] ?? 'no longer validates'})`).join('; ')}. ` +
          `A registered operation may not break, even in a new major version: keep the schema compatible with it, get the frontend to change it first (then update or DELETE /admin/operations/<name>), ${forceHint}.`,
        { extension: name, details: details('registered-operations', { removals }) },
      );
    }
    if (refusedRemovals.length > 0 && !force) {
      throw new GraftError(
        GraftErrorCode.DEPRECATION_REQUIRED,
        `Version ${manifest.version} of "${name}" removes what must be @deprecated for ${days} days first: ${removalText(refusedRemovals)}. ` +
          `Publish a version that marks ${refusedRemovals.length === 1 ? 'it' : 'them'} @deprecated(reason: "..."), remove ${refusedRemovals.length === 1 ? 'it' : 'them'} once the period is over, ${forceHint}.`,
        { extension: name, details: details('deprecation', { deprecationDays: days, removals: refusedRemovals }) },
      );
    }

    const forced = force ? { by: actor.subject, reason: force.reason, overrode: { removals: refusedRemovals, operations: brokenOperations } } : null;
    const report: VersionReport = {
      reportVersion: 1,
      previousVersion: latest?.version ?? null,
      bump,
      requiredBump,
      verdict: check.verdict,
      changes: check.changes,
      affectedOperations: check.affectedOperations,
      operationsChecked: check.operationsChecked,
      removals,
      deprecations: newlyDeprecated(latest?.sdl, input.sdl),
      deprecationDays: days,
      forced,
      notes: check.notes,
    };
    const auditDetails: Record<string, unknown> = {
      verdict: check.verdict,
      bump,
      ...(forced
        ? { forced: { reason: forced.reason, overrode: { removals: refusedRemovals.map((r) => r.coordinate), operations: brokenOperations } } }
        : {}),
    };
    return { report, auditDetails };
  }

  /** The base graph's API schema: the stored one when the active supergraph is exactly the base, else composed. */
  #baseApiSdl(base: SubgraphInput[], members: Array<{ extension: string; version: string }>, active: SupergraphRecord | undefined): string | undefined {
    if (base.length === 0) return undefined;
    const key = (m: { extension: string; version: string }) => `${m.extension}@${m.version}`;
    if (active) {
      const stored = new Set(active.members.map(key));
      if (stored.size === members.length && members.every((m) => stored.has(key(m)))) return active.apiSdl;
    }
    const outcome = composeSubgraphs(base);
    return outcome.ok ? outcome.apiSdl : undefined;
  }

  /**
   * The usage check against the registered operations. Each registered document stands
   * alone (its own fragments), so each is parsed on its own rather than pooled the way
   * `graft check` pools the files of a folder.
   */
  async #checkRegisteredOperations(check: SchemaCheckReport, baseApiSdl: string, proposedApiSdl: string): Promise<void> {
    const registered = await this.#store.listOperations();
    if (registered.length === 0) return;
    const operations: ParsedOperation[] = [];
    for (const operation of registered) {
      try {
        operations.push(...parseOperations([{ file: `registry:${operation.name}`, source: operation.document }]));
      } catch {
        check.notes.push(`Registered operation ${operation.name} does not parse and was not checked.`);
      }
    }
    const impact = checkOperations(operations, buildSchema(baseApiSdl), buildSchema(proposedApiSdl));
    check.affectedOperations = impact.affected;
    check.operationsFailingOnBase = impact.failingOnBase;
    check.operationsChecked = operations.length;
    check.verdict = verdictOf(check);
  }

  /**
   * The resolver directives of a publish (gateway/directives, catalog.ts): checks the
   * version's declarations and module sources (unique names across extensions, the module
   * loads in the sandbox, breaking definition changes need a major version) and returns
   * the modules the new graph serves, the sources to store with the version, and hints.
   */
  async #checkDirectives(
    manifest: ExtensionManifest,
    input: PublishInput,
    versions: ExtensionVersionRecord[],
    extension: ExtensionRecord,
    others: Array<{ record: ExtensionVersionRecord }>,
  ): Promise<{ served: DirectiveModule[]; sources: Record<string, string>; hints: string[] }> {
    const declarations = manifest.directives ?? [];
    const given = input.directiveModules ?? {};
    const sources: Record<string, string> = {};
    for (const { module } of declarations) if (typeof given[module] === 'string') sources[module] = given[module] as string;
    const othersServed = others.flatMap((o) => modulesOfVersion(o.record));
    if (!this.#directives) {
      const own = modulesOfVersion({ extension: manifest.name, version: manifest.version, manifest, directiveModules: sources });
      return { served: [...othersServed, ...own], sources, hints: [] };
    }
    const active = extension.status !== 'retired' && extension.activeVersion ? versions.find((v) => v.version === extension.activeVersion) : undefined;
    const check = await this.#directives.checkPublish({
      extension: manifest.name,
      version: manifest.version,
      declarations,
      sources: given,
      sdl: input.sdl,
      previous: active ? { version: active.version, declarations: active.manifest.directives ?? [] } : undefined,
      others: others.map((o) => ({ extension: o.record.extension, declarations: o.record.manifest.directives ?? [] })),
    });
    const served = [...othersServed, ...check.modules];
    return { served, sources, hints: [...check.hints, ...this.#directives.linkHints(input.sdl, served)] };
  }

  /** The changelog of one extension, newest version first (GET /admin/extensions/{name}/changelog). */
  async changelog(name: string): Promise<Changelog> {
    const extension = await this.#store.getExtension(name);
    if (!extension) {
      throw new GraftError(GraftErrorCode.EXTENSION_NOT_FOUND, `There is no extension "${name}": check the name (GET /admin/extensions lists them).`, { extension: name });
    }
    return buildChangelog(name, await this.#store.listVersions(name), this.#deprecationDays);
  }

  /** Pause keeps the schema stable and answers the extension's fields with EXTENSION_PAUSED. */
  async setStatus(name: string, status: Exclude<ExtensionStatus, 'retired'>, actor: Actor): Promise<ExtensionRecord> {
    return this.#serialize(async () => {
      const record = await this.#store.setStatus(name, status, actor.subject);
      this.#runtime.setStatus(name, status);
      return record;
    });
  }

  /**
   * Retires an extension through the same pipeline as a publish: the others are composed
   * without it (refused with COMPOSITION_FAILED if they need its types), the gateway loads
   * the result, then the store records it in one transaction and the gateway swaps.
   */
  async retire(name: string, actor: Actor): Promise<{ extension: ExtensionRecord; supergraph: Pick<SupergraphRecord, 'id' | 'hash' | 'members' | 'createdAt'> }> {
    return this.#serialize(() => this.#retryOnConflict(() => this.#retireOnce(name, actor)));
  }

  async #retireOnce(name: string, actor: Actor): Promise<{ extension: ExtensionRecord; supergraph: Pick<SupergraphRecord, 'id' | 'hash' | 'members' | 'createdAt'> }> {
    // Read first, as in a publish: see #publishOnce.
    const base = await this.#store.getActiveSupergraph();
    const extension = await this.#store.getExtension(name);
    if (!extension) {
      throw new GraftError(GraftErrorCode.EXTENSION_NOT_FOUND, `There is no extension "${name}".`, { extension: name });
    }
    if (extension.status === 'retired') {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `Extension "${name}" is already retired.`, { extension: name });
    }
    const others = await this.#activeSubgraphs(name);
    if (others.length === 0) {
      throw new GraftError(GraftErrorCode.PUBLISH_REJECTED, `"${name}" is the last active extension: the graph cannot be empty. Publish another extension first.`, { extension: name });
    }
    const composed = composeOrThrow(others.map((o) => o.subgraph));
    const directives = others.flatMap((o) => modulesOfVersion(o.record));
    const snapshot = await this.#host.prepare({ hash: supergraphHash(composed.supergraphSdl), sdl: composed.supergraphSdl, directives });
    let stored: Awaited<ReturnType<RegistryStore['retireExtension']>>;
    try {
      stored = await this.#store.retireExtension(
        name,
        {
          sdl: composed.supergraphSdl,
          apiSdl: composed.apiSdl,
          members: others.map((o) => ({ extension: o.subgraph.name, version: o.version })),
          basedOn: base?.id ?? null,
        },
        actor.subject,
      );
    } catch (error) {
      await this.#host.discard(snapshot);
      throw error;
    }
    this.#runtime.setStatus(name, 'retired');
    await this.#host.activate(snapshot, stored.supergraph.id);
    this.#servedId = stored.supergraph.id;
    const { id, hash, members, createdAt } = stored.supergraph;
    return { extension: stored.extension, supergraph: { id, hash, members, createdAt } };
  }

  /** Per-tenant enablement: other tenants get EXTENSION_DISABLED on the extension's fields. */
  async setTenants(name: string, tenants: string[] | null, actor: Actor): Promise<ExtensionRecord> {
    return this.#serialize(async () => {
      const record = await this.#store.setTenants(name, tenants, actor.subject);
      this.#runtime.setTenants(name, record.tenants);
      return record;
    });
  }

  async #activeSubgraphs(except: string): Promise<Array<{ subgraph: SubgraphInput; version: string; record: ExtensionVersionRecord }>> {
    const result: Array<{ subgraph: SubgraphInput; version: string; record: ExtensionVersionRecord }> = [];
    for (const extension of await this.#store.listExtensions()) {
      if (extension.name === except || extension.status === 'retired' || !extension.activeVersion) continue;
      const version = await this.#store.getVersion(extension.name, extension.activeVersion);
      if (!version) continue;
      result.push({
        subgraph: { name: extension.name, url: version.manifest.subgraph.url, sdl: version.sdl },
        version: version.version,
        record: version,
      });
    }
    return result;
  }

  async #refreshRuntime(): Promise<void> {
    for (const extension of await this.#store.listExtensions()) {
      if (!extension.activeVersion) continue;
      const version = await this.#store.getVersion(extension.name, extension.activeVersion);
      if (version) this.#runtime.set(extension.name, this.runtimeStateOf(version.manifest, extension.status, extension.tenants));
    }
  }
}

/** A force needs graft:admin and a reason; anything else is refused before any work. */
function checkForce(force: { reason: string }, actor: Actor, name: string): { reason: string } {
  if (!actor.scopes.has(ADMIN_SCOPE)) {
    throw new GraftError(
      GraftErrorCode.FORBIDDEN,
      `Forcing a publish past the deprecation and registered-operation rules needs scope ${ADMIN_SCOPE}: publish without "force", or ask a platform admin to force it.`,
      { extension: name },
    );
  }
  const reason = typeof force?.reason === 'string' ? force.reason.trim() : '';
  if (reason === '') {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, 'A forced publish needs a reason: send "force": { "reason": "why the rules may be broken this time" }.', { extension: name });
  }
  return { reason };
}
