// Runs an extension's own codegen.ts (GraphQL Code Generator) programmatically, from
// Graft's installed @graphql-codegen/cli: what `graft init` does once so the scaffold
// typechecks immediately, and what `graft dev` does again when the SDL changes.
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CodegenConfig } from '@graphql-codegen/cli';
import { importUserModule } from '../config/index.js';

export const CODEGEN_CONFIG_FILE = 'codegen.ts';

export async function hasCodegenConfig(dir: string): Promise<boolean> {
  try {
    await access(join(dir, CODEGEN_CONFIG_FILE));
    return true;
  } catch {
    return false;
  }
}

/**
 * Generates the files `<dir>/codegen.ts` describes, with paths relative to `dir` and the
 * plugins loaded from Graft's own node_modules (so it works before any install).
 * Returns the written files, relative to `dir`.
 */
export async function generateTypes(dir: string): Promise<string[]> {
  // A fresh import each time: the config may have changed since the last run.
  const url = `${pathToFileURL(join(dir, CODEGEN_CONFIG_FILE)).href}?at=${Date.now()}`;
  const loaded = (await importUserModule(url)) as { default?: CodegenConfig };
  if (!loaded.default || typeof loaded.default !== 'object') {
    throw new Error(`${join(dir, CODEGEN_CONFIG_FILE)} must export default a CodegenConfig.`);
  }
  const { generate } = await import('@graphql-codegen/cli');
  const outputs = (await generate(
    {
      ...loaded.default,
      cwd: dir,
      silent: true,
      verbose: false,
      watch: false,
      pluginLoader: (name: string) => import(name),
    },
    true,
  )) as Array<{ filename: string }>;
  return outputs.map((output) => output.filename);
}
