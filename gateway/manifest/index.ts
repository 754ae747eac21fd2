// The extension manifest (graft.json): its JSON Schema ships in schema/manifest.schema.json
// and is the single source of truth; this module validates against it and loads a
// manifest with the SDL beside it.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { GraftError, GraftErrorCode } from '../errors/index.js';

const require = createRequire(import.meta.url);
export const manifestJsonSchema = require('../../schema/manifest.schema.json') as Record<string, unknown>;

export interface ExtensionManifest {
  $schema?: string;
  name: string;
  version: string;
  owner: string;
  description?: string;
  subgraph: { url: string; schema: string };
  grants?: string[];
  limits?: { timeoutMs?: number; maxCost?: number };
  directives?: Array<{ definition: string; module: string }>;
}

/**
 * An extension's name: a DNS label (lower-case letters, digits and '-', starting with a
 * letter), as the manifest's JSON Schema says; the one definition every check uses.
 */
export const EXTENSION_NAME_PATTERN = (manifestJsonSchema as { properties: { name: { pattern: string } } }).properties.name.pattern;
export const EXTENSION_NAME = new RegExp(EXTENSION_NAME_PATTERN);

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile<ExtensionManifest>(manifestJsonSchema);

function describe(error: ErrorObject): string {
  const at = error.instancePath === '' ? 'manifest' : `manifest${error.instancePath.replaceAll('/', '.')}`;
  if (error.keyword === 'additionalProperties') {
    return `${at}: unknown field "${String(error.params['additionalProperty'])}" (remove it; see schema/manifest.schema.json)`;
  }
  if (error.keyword === 'pattern' && error.instancePath === '/name') {
    return `${at}: must be a DNS label (lower-case letters, digits and '-', starting with a letter, at most 63 characters)`;
  }
  if (error.keyword === 'pattern' && error.instancePath === '/version') {
    return `${at}: must be a semantic version such as 1.2.0`;
  }
  return `${at} ${error.message ?? 'is invalid'}`;
}

/** Checks an untrusted value against the manifest schema; throws MANIFEST_INVALID listing every problem. */
export function validateManifest(value: unknown): ExtensionManifest {
  if (validate(value)) return value;
  const problems = (validate.errors ?? []).map(describe);
  throw new GraftError(
    GraftErrorCode.MANIFEST_INVALID,
    `The manifest is invalid: ${problems.join('; ')}.`,
    { details: { problems } },
  );
}

export interface LoadedManifest {
  manifest: ExtensionManifest;
  sdl: string;
  manifestPath: string;
  schemaPath: string;
}

/** Reads graft.json and the SDL file it names (relative to graft.json). */
export async function loadManifestFile(manifestPath: string): Promise<LoadedManifest> {
  const absolute = resolve(manifestPath);
  let raw: string;
  try {
    raw = await readFile(absolute, 'utf8');
  } catch (cause) {
    throw new GraftError(GraftErrorCode.BAD_REQUEST, `Cannot read the manifest at ${absolute}: check the path.`, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (cause) {
    throw new GraftError(
      GraftErrorCode.MANIFEST_INVALID,
      `The manifest at ${absolute} is not valid JSON: ${(cause as Error).message}.`,
    );
  }
  const manifest = validateManifest(json);
  const schemaPath = resolve(dirname(absolute), manifest.subgraph.schema);
  let sdl: string;
  try {
    sdl = await readFile(schemaPath, 'utf8');
  } catch (cause) {
    throw new GraftError(
      GraftErrorCode.BAD_REQUEST,
      `Cannot read the subgraph schema ${schemaPath} named by subgraph.schema in ${absolute}.`,
      { cause },
    );
  }
  return { manifest, sdl, manifestPath: absolute, schemaPath };
}
