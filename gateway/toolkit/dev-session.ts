// One author extension inside `graft dev`: its process, its dev versions, its reloads.
//
// Reload is blue/green: on a change the new process starts beside the old one (another
// ephemeral port), the new version is published pointing at it, and only then is the old
// process stopped. The gateway never restarts and never points at a dead port; if the new
// process does not start or the publish is refused (say the SDL no longer composes), the
// old version keeps serving and the reason is printed.
//
// Versions: published versions are immutable and must grow (semver), so each publish in a
// dev session is `<major.minor.patch of graft.json>-dev.<n>` (0.1.0-dev.0, 0.1.0-dev.1, ...):
// a pre-release, so it sorts below the real 0.1.0 you will publish, and it lives in the dev
// gateway's throwaway registry only. The registry's versioning rules still apply, and
// graft dev tells you what a real publish would need: a change the semver rule calls
// breaking moves the dev line to the next major (0.2.0-dev.<n> in 0.y.z), and a removal
// without a deprecation period is forced through (dev publishes as an admin) with a note.
import { relative } from 'node:path';
import { GraphQLError, parse } from 'graphql';
import semver from 'semver';
import type { ExtensionManifest } from '../manifest/index.js';
import { startExtensionProcess, type ExtensionProcess } from './process.js';
import { resolveExtensionSource, type ExtensionSource } from './source.js';
import { generateTypes, hasCodegenConfig } from './typegen.js';

/** major.minor.patch of a version (its pre-release and build dropped). */
function baseOf(version: string): string {
  const parsed = semver.parse(version);
  return parsed ? `${parsed.major}.${parsed.minor}.${parsed.patch}` : '0.0.0';
}

/** The next major as the registry counts it (in 0.y.z the y is the major, as npm's caret ranges). */
function nextMajor(base: string): string {
  return semver.major(base) === 0 ? `0.${semver.minor(base) + 1}.0` : `${semver.major(base) + 1}.0.0`;
}

export function devVersion(manifestVersion: string, n: number): string {
  return `${baseOf(manifestVersion)}-dev.${n}`;
}

function refusalOf(error: unknown): { code?: string; rule?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const code = (error as { code?: unknown }).code;
  const rule = (error as { details?: { rule?: unknown } }).details?.rule;
  return { ...(typeof code === 'string' ? { code } : {}), ...(typeof rule === 'string' ? { rule } : {}) };
}

/**
 * Publishes one dev version in the dev gateway. `force` (an admin override of the
 * deprecation and registered-operation rules) is passed on when a reload needs it.
 */
export interface DevPublish {
  (input: { manifest: ExtensionManifest; sdl: string; force?: { reason: string } }): Promise<{ supergraphId: number }>;
}

export interface DevExtensionOptions {
  source: ExtensionSource;
  gatewayAuth: { jwksUrl: string; issuer: string };
  publish: DevPublish;
  /** Progress lines for the author. */
  log: (line: string) => void;
  /** The extension's own output. */
  onOutput?: (line: string, stream: 'stdout' | 'stderr') => void;
}

export class DevExtension {
  readonly name: string;
  #source: ExtensionSource;
  readonly #options: DevExtensionOptions;
  #process: ExtensionProcess | undefined;
  #next = 0;
  #base: string | undefined;
  #version: string | undefined;
  #sdl: string;
  #queue: Promise<void> = Promise.resolve();
  #queued = false;
  #changes = new Set<string>();
  #stopped = false;

  constructor(options: DevExtensionOptions) {
    this.#options = options;
    this.#source = options.source;
    this.name = options.source.name;
    this.#sdl = options.source.sdl;
  }

  get url(): string | undefined {
    return this.#process?.url;
  }

  /** The version the gateway serves, once published. */
  get version(): string | undefined {
    return this.#version;
  }

  get dir(): string {
    return this.#source.dir;
  }

  get manifest(): ExtensionManifest {
    return this.#source.manifest;
  }

  /** Starts the process and publishes the first dev version; throws when either fails. */
  async start(): Promise<void> {
    const started = await this.#spawn();
    try {
      await this.#publish(started, this.#source.manifest, this.#source.sdl);
    } catch (error) {
      await started.stop();
      throw error;
    }
    this.#process = started;
  }

  /** Queues a reload for these changed files; bursts while one runs become one more reload. */
  changed(files: readonly string[]): Promise<void> {
    for (const file of files) this.#changes.add(file);
    if (this.#queued) return this.#queue;
    this.#queued = true;
    this.#queue = this.#queue.then(async () => {
      this.#queued = false;
      const changes = [...this.#changes];
      this.#changes.clear();
      if (!this.#stopped) await this.#reload(changes);
    });
    return this.#queue;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#queue.catch(() => undefined);
    await this.#process?.stop();
  }

  async #reload(files: string[]): Promise<void> {
    const { log } = this.#options;
    const what = files.length > 3 ? `${files.slice(0, 3).join(', ')} and ${files.length - 3} more` : files.join(', ');
    const keep = this.#version ? `; still serving ${this.name}@${this.#version}` : '';
    let source: ExtensionSource;
    try {
      source = await resolveExtensionSource(this.#source.manifestPath);
    } catch (error) {
      log(`✗ ${this.name}: ${what} changed, but ${messageOf(error)}${keep}`);
      return;
    }
    if (source.name !== this.name) {
      log(`✗ ${this.name}: graft.json now names "${source.name}"; restart graft dev to rename an extension${keep}`);
      return;
    }
    try {
      parse(source.sdl);
    } catch (error) {
      const at = error instanceof GraphQLError && error.locations?.[0] ? `:${error.locations[0].line}:${error.locations[0].column}` : '';
      log(`✗ ${this.name}: ${relative(source.dir, source.schemaPath)}${at}: ${messageOf(error)}${keep}`);
      return;
    }
    if (source.sdl !== this.#sdl && (await hasCodegenConfig(source.dir))) {
      try {
        const written = await generateTypes(source.dir);
        log(`  ${this.name}: SDL changed, regenerated ${written.join(', ')}`);
      } catch (error) {
        log(`  ${this.name}: SDL changed, but codegen failed (the extension still restarts): ${messageOf(error).split('\n').slice(0, 3).join(' ')}`);
      }
    }
    let started: ExtensionProcess;
    try {
      started = await this.#spawn();
    } catch (error) {
      log(`✗ ${this.name}: ${what} changed, but the new process did not start: ${messageOf(error)}${keep}`);
      return;
    }
    let supergraphId: number;
    try {
      supergraphId = await this.#publish(started, source.manifest, source.sdl);
    } catch (error) {
      await started.stop();
      log(`✗ ${this.name}: ${what} changed, but publishing it was refused: ${messageOf(error)}${keep}`);
      return;
    }
    const previous = this.#process;
    this.#process = started;
    this.#source = source;
    this.#sdl = source.sdl;
    await previous?.stop();
    log(`↻ ${this.name}: ${what} changed; restarted and published ${this.name}@${this.#version} (supergraph #${supergraphId}) at ${started.url}, gateway not restarted`);
  }

  async #publish(target: ExtensionProcess, manifest: ExtensionManifest, sdl: string): Promise<number> {
    const manifestBase = baseOf(manifest.version);
    // graft.json's version moved (say to 0.2.0): follow it if it is ahead of the dev line.
    if (this.#base === undefined || semver.gt(manifestBase, this.#base)) this.#base = manifestBase;
    let force: { reason: string } | undefined;
    let bumped = false;
    for (;;) {
      const version = `${this.#base}-dev.${this.#next}`;
      this.#next += 1;
      const withVersion = { ...manifest, version, subgraph: { ...manifest.subgraph, url: target.url } };
      try {
        const { supergraphId } = await this.#options.publish({ manifest: withVersion, sdl, ...(force ? { force } : {}) });
        this.#version = version;
        return supergraphId;
      } catch (error) {
        const { code, rule } = refusalOf(error);
        if (code === 'PUBLISH_REJECTED' && rule === 'semver' && !bumped) {
          // The registry wants a bigger bump for this change: move the dev line to the next major.
          bumped = true;
          const previous: string = this.#base;
          this.#base = nextMajor(this.#base);
          this.#options.log(`  ${this.name}: this change needs a new major version when you publish it for real (${messageOf(error).split('. ')[0]}); dev versions continue at ${this.#base}-dev`);
          if (previous !== this.#base) continue;
        }
        if ((code === 'DEPRECATION_REQUIRED' || (code === 'PUBLISH_REJECTED' && rule === 'registered-operations')) && !force) {
          // A throwaway dev registry: note what a real publish would need, and go ahead.
          force = { reason: 'graft dev: local reload' };
          this.#options.log(`  ${this.name}: a real publish of this change would be refused: ${messageOf(error)}`);
          continue;
        }
        throw error;
      }
    }
  }

  #spawn(): Promise<ExtensionProcess> {
    const source = this.#source;
    return startExtensionProcess({
      name: this.name,
      entry: source.entry,
      cwd: source.dir,
      gatewayAuth: this.#options.gatewayAuth,
      ...(this.#options.onOutput ? { onOutput: this.#options.onOutput } : {}),
      onExit: (code) => {
        // Only when the process serving now died (a replaced one is stopped on purpose).
        const current = this.#process?.child;
        if (!this.#stopped && current && (current.exitCode !== null || current.signalCode !== null)) {
          this.#options.log(`✗ ${this.name}: the process exited (code ${code}); its fields answer EXTENSION_UNAVAILABLE until the next change`);
        }
      },
    });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
