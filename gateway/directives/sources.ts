// Reading directive modules next to graft.json (the CLI's publish and `graft start`).
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionManifest } from '../manifest/index.js';

/** The source of every module graft.json names, by the path as written there. */
export async function loadDirectiveSources(manifestPath: string, manifest: ExtensionManifest): Promise<Record<string, string>> {
  const sources: Record<string, string> = {};
  for (const { module } of manifest.directives ?? []) {
    if (module in sources) continue;
    const path = resolve(dirname(resolve(manifestPath)), module);
    try {
      sources[module] = await readFile(path, 'utf8');
    } catch (cause) {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `Cannot read the directive module ${path} named in ${manifestPath}: check "directives[].module".`, {
        extension: manifest.name,
        cause,
      });
    }
  }
  return sources;
}
