// The only I/O of gateway/checks: reading subgraph SDLs and operation documents from disk,
// for `graft check` and the benchmarks. Every failure is BAD_REQUEST naming the path, which
// the CLI maps to exit code 2 (unreadable input).
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, relative } from 'node:path';
import type { SubgraphInput } from '../composition/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { OperationDocument } from './types.js';

/** Subgraph URLs do not matter to a check; composition only needs one that parses. */
export const PLACEHOLDER_URL = 'http://subgraph.invalid/graphql';

const SUBGRAPH_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;

function unreadable(what: string, error: unknown): GraftError {
  const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'it does not exist' : (error as Error).message;
  return new GraftError(GraftErrorCode.BAD_REQUEST, `Cannot read ${what}: ${reason}.`, { cause: error });
}

export function assertSubgraphName(name: string): void {
  if (!SUBGRAPH_NAME.test(name)) {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, `"${name}" is not a subgraph name: use letters, digits, "-" and "_", starting with a letter.`);
  }
}

export async function loadSubgraphFile(name: string, path: string): Promise<SubgraphInput> {
  assertSubgraphName(name);
  try {
    return { name, url: PLACEHOLDER_URL, sdl: await readFile(path, 'utf8') };
  } catch (error) {
    throw unreadable(`the SDL of subgraph "${name}" at ${path}`, error);
  }
}

/** Reads a folder laid out like schema/: `subgraphs/<name>.graphql` for every subgraph. */
export async function loadSubgraphDir(dir: string): Promise<SubgraphInput[]> {
  const folder = join(dir, 'subgraphs');
  let entries: string[];
  try {
    entries = await readdir(folder);
  } catch (error) {
    throw unreadable(`the base schema folder ${folder} (expected subgraphs/<name>.graphql files, as in schema/)`, error);
  }
  const files = entries.filter((f) => f.endsWith('.graphql')).sort();
  if (files.length === 0) throw new GraftError(GraftErrorCode.BAD_REQUEST, `The base schema folder ${folder} has no <name>.graphql file.`);
  return Promise.all(files.map((f) => loadSubgraphFile(basename(f, '.graphql'), join(folder, f))));
}

/** Every *.graphql file under `dir` (recursively), in path order, named relative to `cwd`. */
export async function loadOperationDir(dir: string, cwd = process.cwd()): Promise<OperationDocument[]> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new Error('it is not a folder');
  } catch (error) {
    throw unreadable(`the operations folder ${dir}`, error);
  }
  const files: string[] = [];
  const walk = async (folder: string): Promise<void> => {
    for (const entry of (await readdir(folder, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && entry.name.endsWith('.graphql')) files.push(path);
    }
  };
  await walk(dir);
  return Promise.all(
    files.map(async (path) => {
      try {
        return { file: relative(cwd, path) || path, source: await readFile(path, 'utf8') };
      } catch (error) {
        throw unreadable(`the operation file ${path}`, error);
      }
    }),
  );
}
