// Where an extension comes from for the toolkit commands: an example's name (crm, orders,
// inventory), a graft.json, or the folder holding one. Its process is the server.ts
// beside graft.json (the layout of the examples and of `graft init`).
import { access, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { loadManifestFile, type ExtensionManifest } from '../manifest/index.js';
import { GRAFT_ROOT } from './scaffold.js';

export const SERVER_ENTRY = 'server.ts';

export interface ExtensionSource {
  name: string;
  manifest: ExtensionManifest;
  sdl: string;
  manifestPath: string;
  schemaPath: string;
  /** The folder of graft.json. */
  dir: string;
  /** Its server.ts. */
  entry: string;
  /** True for one of Graft's example extensions. */
  example: boolean;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export function exampleDir(name: string): string {
  return join(GRAFT_ROOT, 'subgraphs', name);
}

/** Resolves `reference` (example name, graft.json path, or folder) and reads its manifest and SDL. */
export async function resolveExtensionSource(reference: string): Promise<ExtensionSource> {
  let manifestPath: string | undefined;
  let example = false;
  const asPath = resolve(reference);
  if (await isFile(asPath)) manifestPath = asPath;
  else if (await isDirectory(asPath)) {
    if (await isFile(join(asPath, 'graft.json'))) manifestPath = join(asPath, 'graft.json');
  }
  if (!manifestPath && /^[a-z][a-z0-9-]*$/.test(reference) && (await isFile(join(exampleDir(reference), 'graft.json')))) {
    manifestPath = join(exampleDir(reference), 'graft.json');
    example = true;
  }
  if (!manifestPath) {
    throw new GraftError(
      GraftErrorCode.BAD_REQUEST,
      `"${reference}" is neither an example extension (crm, orders, inventory), nor a graft.json, nor a folder holding one.`,
    );
  }
  const loaded = await loadManifestFile(manifestPath);
  const dir = dirname(loaded.manifestPath);
  const entry = join(dir, SERVER_ENTRY);
  try {
    await access(entry);
  } catch {
    throw new GraftError(
      GraftErrorCode.BAD_REQUEST,
      `${entry} is missing: the toolkit starts an extension from the server.ts beside its graft.json (runExtensionProcess from the SDK; graft init writes one).`,
    );
  }
  return { name: loaded.manifest.name, manifest: loaded.manifest, sdl: loaded.sdl, manifestPath: loaded.manifestPath, schemaPath: loaded.schemaPath, dir, entry, example };
}
