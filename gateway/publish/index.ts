// The publish pipeline (DESIGN.md, "Flow of one publish"): manifest → SDL → compose with
// every active extension → store the version and its supergraph in one transaction →
// hot swap. The admin API and the CLI's in-process bootstrap share this one
// implementation. Publishes are serialized: two publishes never compose against the
// same base and overwrite each other.
import semver from 'semver';
import { composeOrThrow, parseSubgraphSdl, supergraphHash, type SubgraphInput } from '../composition/index.js';
import type { SupergraphSnapshot } from '../engine/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { validateManifest, type ExtensionManifest } from '../manifest/index.js';
import type {
  ExtensionRecord,
  ExtensionStatus,
  ExtensionVersionRecord,
  RegistryStore,
  SupergraphRecord,
} from '../registry/index.js';
import { authorizationUsageOf } from '../policy/index.js';
import type { ExtensionRuntimeState, ExtensionRuntimeTable } from '../upstream/index.js';

/** Who asks for a registry change: the verified token's subject and scopes. */
export interface Actor {
  subject: string;
  scopes: ReadonlySet<string>;
}

/** The identity `graft start` registers the examples with. */
export const SYSTEM_ACTOR: Actor = { subject: 'graft-system', scopes: new Set(['graft:admin']) };

/** The part of the gateway the pipeline swaps supergraphs on. */
export interface SupergraphHost {
  prepare(supergraph: { hash: string; sdl: string }): Promise<SupergraphSnapshot>;
  /** Serves the snapshot; resolves once it is served (the first one also starts Apollo Server). */
  activate(snapshot: SupergraphSnapshot, id: number): void | Promise<void>;
  discard(snapshot: SupergraphSnapshot): Promise<void>;
}

export interface PublishResult {
  extension: ExtensionRecord;
  version: ExtensionVersionRecord;
  supergraph: Pick<SupergraphRecord, 'id' | 'hash' | 'members' | 'createdAt'>;
  hints: string[];
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
}

export class RegistryService {
  readonly #store: RegistryStore;
  readonly #host: SupergraphHost;
  readonly #runtime: ExtensionRuntimeTable;
  readonly #upstream: RegistryServiceOptions['upstream'];
  readonly #knownPolicies: ReadonlySet<string>;
  readonly #checkUrl: ((url: string) => Promise<void>) | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: RegistryServiceOptions) {
    this.#store = options.store;
    this.#host = options.host;
    this.#runtime = options.runtime;
    this.#upstream = options.upstream;
    this.#knownPolicies = options.knownPolicies;
    this.#checkUrl = options.checkUrl;
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
    if (foreign.length > 0 && !actor.scopes.has('graft:admin')) {
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
    await this.#refreshRuntime();
    const stored = await this.#store.getActiveSupergraph();
    if (!stored) return false;
    const snapshot = await this.#host.prepare({ hash: stored.hash, sdl: stored.sdl });
    await this.#host.activate(snapshot, stored.id);
    return true;
  }

  async register(input: { name: string; owner: string; description?: string }, actor: Actor): Promise<ExtensionRecord> {
    if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(input.name)) {
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
  async publish(input: { manifest: unknown; sdl: string; expectedName?: string }, actor: Actor): Promise<PublishResult> {
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

    return this.#serialize(async () => {
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
      const latest = (await this.#store.listVersions(name))[0];
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
      const hash = supergraphHash(composed.supergraphSdl);

      // Load the new supergraph in the gateway before storing it, so a version is never
      // stored that the gateway cannot serve.
      const snapshot = await this.#host.prepare({ hash, sdl: composed.supergraphSdl });
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
          },
        });
      } catch (error) {
        await this.#host.discard(snapshot);
        throw error;
      }
      this.#runtime.set(name, this.runtimeStateOf(manifest, extension.status, extension.tenants));
      await this.#host.activate(snapshot, stored.supergraph.id);
      const updated = (await this.#store.getExtension(name)) ?? extension;
      const { id, hash: storedHash, members, createdAt } = stored.supergraph;
      return { extension: updated, version: stored.version, supergraph: { id, hash: storedHash, members, createdAt }, hints: composed.hints };
    });
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
    return this.#serialize(async () => {
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
      const snapshot = await this.#host.prepare({ hash: supergraphHash(composed.supergraphSdl), sdl: composed.supergraphSdl });
      let stored: Awaited<ReturnType<RegistryStore['retireExtension']>>;
      try {
        stored = await this.#store.retireExtension(
          name,
          { sdl: composed.supergraphSdl, apiSdl: composed.apiSdl, members: others.map((o) => ({ extension: o.subgraph.name, version: o.version })) },
          actor.subject,
        );
      } catch (error) {
        await this.#host.discard(snapshot);
        throw error;
      }
      this.#runtime.setStatus(name, 'retired');
      await this.#host.activate(snapshot, stored.supergraph.id);
      const { id, hash, members, createdAt } = stored.supergraph;
      return { extension: stored.extension, supergraph: { id, hash, members, createdAt } };
    });
  }

  /** Per-tenant enablement: other tenants get EXTENSION_DISABLED on the extension's fields. */
  async setTenants(name: string, tenants: string[] | null, actor: Actor): Promise<ExtensionRecord> {
    return this.#serialize(async () => {
      const record = await this.#store.setTenants(name, tenants, actor.subject);
      this.#runtime.setTenants(name, record.tenants);
      return record;
    });
  }

  async #activeSubgraphs(except: string): Promise<Array<{ subgraph: SubgraphInput; version: string }>> {
    const result: Array<{ subgraph: SubgraphInput; version: string }> = [];
    for (const extension of await this.#store.listExtensions()) {
      if (extension.name === except || extension.status === 'retired' || !extension.activeVersion) continue;
      const version = await this.#store.getVersion(extension.name, extension.activeVersion);
      if (!version) continue;
      result.push({
        subgraph: { name: extension.name, url: version.manifest.subgraph.url, sdl: version.sdl },
        version: version.version,
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
