// `graft init extension <name>`: writes a working extension on the SDK from the templates
// beside this file (graft.json, SDL, typed resolvers, mock data, a test over real HTTP, a
// README), links its dependencies to this Graft checkout, and generates its resolver
// types, so `npm test` and `npm run typecheck` pass right away, offline.
//
// How the scaffold reaches the SDK: Graft is not published to npm, so package.json
// depends on the checkout with `"graft": "file:<relative path>"`, and init makes the
// symlink npm would make for that dependency (node_modules/graft -> checkout), plus links
// to the checkout's installed tsx, typescript, graphql, @types/node and code generator
// (node_modules/.bin too). Nothing is downloaded; `npm install` later replaces the links
// with real installs of the same versions. Code imports 'graft/subgraphs/sdk/index.js'.
import { lstat, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { EXTENSION_NAME, validateManifest } from '../manifest/index.js';
import { generateTypes } from './typegen.js';

const TEMPLATES = fileURLToPath(new URL('./templates/', import.meta.url));
/** The checkout (package.json, node_modules, the sources): two folders up, or three from dist/ in a compiled start. */
export const GRAFT_ROOT = ((codeRoot) => (basename(codeRoot) === 'dist' ? dirname(codeRoot) : codeRoot))(fileURLToPath(new URL('../../', import.meta.url)));
/** What extension code imports (through the `graft` dependency). */
export const SDK_IMPORT = 'graft/subgraphs/sdk/index.js';

/** Packages the scaffold needs besides Graft itself, linked from the checkout's node_modules. */
const LINKED_PACKAGES = [
  'tsx',
  'typescript',
  'graphql',
  '@types/node',
  '@graphql-codegen/cli',
  '@graphql-codegen/typescript',
  '@graphql-codegen/typescript-resolvers',
] as const;

/** template file → path in the scaffold ({{name}} replaced). */
const FILES: ReadonlyArray<[string, string]> = [
  ['graft.json.tmpl', 'graft.json'],
  ['schema.graphql.tmpl', '{{name}}.graphql'],
  ['data.ts.tmpl', 'data.ts'],
  ['resolvers.ts.tmpl', 'resolvers.ts'],
  ['index.ts.tmpl', 'index.ts'],
  ['server.ts.tmpl', 'server.ts'],
  ['codegen.ts.tmpl', 'codegen.ts'],
  ['test/extension.test.ts.tmpl', 'test/{{name}}.test.ts'],
  ['package.json.tmpl', 'package.json'],
  ['tsconfig.json.tmpl', 'tsconfig.json'],
  ['README.md.tmpl', 'README.md'],
  ['gitignore.tmpl', '.gitignore'],
];

export interface ScaffoldOptions {
  name: string;
  /** Target folder; created; must not exist or be empty. */
  dir: string;
  owner?: string;
  /** Port of subgraph.url and server.ts's default. */
  port?: number;
  /** Link node_modules to the Graft checkout (default true); false: run npm install yourself. */
  link?: boolean;
  /** Generate the resolver types now (default true). */
  codegen?: boolean;
  /** The Graft checkout to depend on (default: this one). */
  graftRoot?: string;
}

export interface ScaffoldResult {
  dir: string;
  name: string;
  /** Written files, relative to dir, including the generated ones. */
  files: string[];
  /** node_modules entries linked to the checkout. */
  linked: string[];
  generated: string[];
}

function words(name: string): string[] {
  return name.split('-').filter(Boolean);
}

export function pascalCase(name: string): string {
  return words(name)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');
}

export function camelCase(name: string): string {
  const pascal = pascalCase(name);
  return pascal[0]!.toLowerCase() + pascal.slice(1);
}

function render(template: string, values: Record<string, string>): string {
  return template.replace(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

interface PackageJson {
  version?: string;
  bin?: string | Record<string, string>;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

async function readPackageJson(path: string): Promise<PackageJson> {
  return JSON.parse(await readFile(path, 'utf8')) as PackageJson;
}

/** A relative `file:` spec, as npm writes it (always with forward slashes). */
function fileSpec(from: string, to: string): string {
  const path = relative(from, to).split(sep).join('/');
  return `file:${path === '' ? '.' : path}`;
}

async function devDependencies(dir: string, graftRoot: string): Promise<Record<string, string>> {
  const graft = await readPackageJson(join(graftRoot, 'package.json'));
  const versions = { ...graft.dependencies, ...graft.devDependencies };
  const specs: Record<string, string> = { graft: fileSpec(dir, graftRoot) };
  for (const name of LINKED_PACKAGES) {
    const version = versions[name];
    if (version) specs[name] = version;
  }
  // Sorted, as npm writes them.
  return Object.fromEntries(Object.entries(specs).sort(([a], [b]) => (a < b ? -1 : 1)));
}

async function link(target: string, path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await symlink(relative(dirname(path), target), path, 'dir');
}

/** The symlinks `npm install` would create for the file: dependency and the tools, from the checkout. */
async function linkDependencies(dir: string, graftRoot: string): Promise<string[]> {
  const modules = join(dir, 'node_modules');
  const linked: string[] = [];
  const packages: Array<[string, string]> = [['graft', graftRoot]];
  for (const name of LINKED_PACKAGES) {
    const installed = join(graftRoot, 'node_modules', name);
    if (await exists(installed)) packages.push([name, installed]);
  }
  for (const [name, target] of packages) {
    await link(target, join(modules, name));
    linked.push(name);
    const { bin } = await readPackageJson(join(target, 'package.json'));
    const bins = typeof bin === 'string' ? { [name]: bin } : (bin ?? {});
    for (const [command, file] of Object.entries(bins)) {
      const binPath = join(modules, '.bin', command);
      if (await exists(binPath)) continue;
      await mkdir(dirname(binPath), { recursive: true });
      await symlink(relative(dirname(binPath), join(target, file)), binPath, 'file');
    }
  }
  return linked;
}

export function assertExtensionName(name: string): void {
  if (!EXTENSION_NAME.test(name)) {
    throw new GraftError(
      GraftErrorCode.BAD_REQUEST,
      `"${name}" is not a valid extension name: use a DNS label (lower-case letters, digits and '-', starting with a letter, at most 63 characters).`,
    );
  }
}

export async function scaffoldExtension(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const { name } = options;
  assertExtensionName(name);
  const dir = resolve(options.dir);
  const graftRoot = resolve(options.graftRoot ?? GRAFT_ROOT);
  if (!(await isEmptyOrMissing(dir))) {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, `${dir} exists and is not empty: choose another --dir (graft init never overwrites files).`);
  }
  const port = options.port ?? 4200;
  const values: Record<string, string> = {
    name,
    Pascal: pascalCase(name),
    camel: camelCase(name),
    owner: options.owner ?? `${safeUsername()}@localhost`,
    port: String(port),
    sdkImport: SDK_IMPORT,
    graftSpec: fileSpec(dir, graftRoot),
    devDependencies: JSON.stringify(await devDependencies(dir, graftRoot), null, 2).replace(/\n/g, '\n  '),
  };

  const files: string[] = [];
  for (const [template, target] of FILES) {
    const path = join(dir, render(target, values));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, render(await readFile(join(TEMPLATES, template), 'utf8'), values), { flag: 'wx' });
    files.push(relative(dir, path));
  }
  // The template is valid for any name; prove it before anyone publishes it.
  validateManifest(JSON.parse(await readFile(join(dir, 'graft.json'), 'utf8')));

  const linked = options.link === false ? [] : await linkDependencies(dir, graftRoot);
  const generated = options.codegen !== false ? await generateTypes(dir) : [];
  for (const file of generated) if (!files.includes(file)) files.push(file);
  return { dir, name, files, linked, generated };
}

function safeUsername(): string {
  try {
    const name = userInfo().username.toLowerCase().replace(/[^a-z0-9._-]/g, '');
    return name || 'me';
  } catch {
    return 'me';
  }
}
