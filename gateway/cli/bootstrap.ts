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


/** Registers and publishes the examples that the registry does not know yet; returns "name@version" of each published. */
export async function bootstrapExamples(server: Pick<GraftServer, 'registry' | 'readiness'>, examples: readonly ExampleToPublish[]): Promise<string[]> {
  const published = await publishExamples(server, examples);
  server.readiness.done(BOOTSTRAP_WORK);
  return published;
}

async function publishExamples(server: Pick<GraftServer, 'registry'>, examples: readonly ExampleToPublish[]): Promise<string[]> {
  const published: string[] = [];
  const loaded = await Promise.all(examples.map(async (example) => ({ example, ...(await loadManifestFile(example.manifestPath)) })));
  // Extensions that implement resolver directives first: the others' SDL may use them.
  loaded.sort((a, b) => Number(!a.manifest.directives?.length) - Number(!b.manifest.directives?.length));
  for (const { example, manifest, sdl } of loaded) {
    const known = await server.registry.store.getExtension(example.name);
    if (known?.activeVersion) continue;
    const directiveModules = await loadDirectiveSources(example.manifestPath, manifest);
    // The example may run on another port than its manifest says (EXAMPLES_PORT_BASE).
    const withUrl = { ...manifest, subgraph: { ...manifest.subgraph, url: example.url } };
    if (!known) {
      await server.registry.register({ name: manifest.name, owner: manifest.owner, description: manifest.description ?? '' }, SYSTEM_ACTOR);
    }
    await server.registry.publish({ manifest: withUrl, sdl, directiveModules }, SYSTEM_ACTOR);
    published.push(`${manifest.name}@${manifest.version}`);
  }
  // Listed in the examples' order, whatever the publish order was.
  const position = (entry: string) => examples.findIndex((e) => entry.startsWith(`${e.name}@`));
  return published.sort((a, b) => position(a) - position(b));
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
