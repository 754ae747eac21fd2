// `graft start`'s bootstrap: registers and publishes the example extensions the registry
// does not know yet. Run by the only process, or in multi-process mode by the leader
// worker when the primary asks (the examples are the primary's child processes).
import { loadDirectiveSources } from '../directives/index.js';
import { loadManifestFile } from '../manifest/index.js';
import { SYSTEM_ACTOR } from '../publish/index.js';
import type { GraftServer } from '../server/index.js';
import type { RunningExample } from './examples.js';

/** A started example as the bootstrap needs it (what the primary sends the leader). */
export type ExampleToPublish = Pick<RunningExample, 'name' | 'url' | 'manifestPath'>;

/** The leader task's name in multi-process mode. */
export const BOOTSTRAP_TASK = 'bootstrap-examples';
/**
 * The start-up work /readiness waits for in single-process mode while the examples are
 * registered (gateway/readiness). Workers (GRAFT_WORKERS) are ready once they serve a
 * supergraph: a worker restarted later could not tell that the bootstrap is long done.
 */
export const BOOTSTRAP_WORK = 'the example extensions to be registered';

/** Registers and publishes the examples that the registry does not serve yet; returns "name@version" of each published. */
export async function bootstrapExamples(server: Pick<GraftServer, 'registry' | 'readiness'>, examples: readonly ExampleToPublish[]): Promise<string[]> {
  const published = await publishExamples(server, examples);
  server.readiness.done(BOOTSTRAP_WORK);
  return published;
}

/**
 * Registers and publishes, as one release, the examples that the registry does not serve
 * yet (so examples that need each other need no order); returns "name@version" of each.
 */
async function publishExamples(server: Pick<GraftServer, 'registry'>, examples: readonly ExampleToPublish[]): Promise<string[]> {
  const loaded = await Promise.all(examples.map(async (example) => ({ example, ...(await loadManifestFile(example.manifestPath)) })));
  const missing: typeof loaded = [];
  for (const entry of loaded) if (!(await server.registry.findExtension(entry.example.name))?.activeVersion) missing.push(entry);
  if (missing.length === 0) return [];
  const extensions = await Promise.all(
    missing.map(async ({ example, manifest, sdl }) => ({
      // The example may run on another port than its manifest says (EXAMPLES_PORT_BASE).
      manifest: { ...manifest, subgraph: { ...manifest.subgraph, url: example.url } },
      sdl,
      directiveModules: await loadDirectiveSources(example.manifestPath, manifest),
    })),
  );
  await server.registry.release({ extensions, registerMissing: true, reason: 'graft start: the example extensions' }, SYSTEM_ACTOR);
  // Listed in the examples' order.
  return missing.map(({ manifest }) => `${manifest.name}@${manifest.version}`);
}

/** The bootstrap task's payload, checked: it crosses a process boundary. */
export function examplesToPublish(payload: unknown): ExampleToPublish[] {
  const valid = (item: unknown): item is ExampleToPublish =>
    typeof item === 'object' &&
    item !== null &&
    ['name', 'url', 'manifestPath'].every((key) => typeof (item as Record<string, unknown>)[key] === 'string');
  if (!Array.isArray(payload) || !payload.every(valid)) throw new Error(`${BOOTSTRAP_TASK}: expected [{ name, url, manifestPath }], got ${JSON.stringify(payload)}`);
  return payload.map(({ name, url, manifestPath }) => ({ name, url, manifestPath }));
}
