// `graft compose`: composes the example extensions (or any graft.json files) and writes
// the committed schema artefacts: schema/subgraphs/<name>.graphql, schema/supergraph.graphql
// and schema/api.graphql. `--check` writes nothing and fails when they are stale (CI).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { composeOrThrow } from '../composition/index.js';
import { loadManifestFile } from '../manifest/index.js';
import { CliError, ExitCode } from './exit.js';

export interface ComposeOptions {
  manifests: string[];
  outDir: string;
  check: boolean;
}

export interface ComposeReport {
  written: string[];
  stale: string[];
}

async function readOrEmpty(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

export async function composeArtefacts(options: ComposeOptions): Promise<ComposeReport> {
  if (options.manifests.length === 0) throw new CliError('No manifest to compose: pass --manifest <graft.json>.', ExitCode.USAGE);
  const loaded = await Promise.all(options.manifests.map((m) => loadManifestFile(m)));
  const composed = composeOrThrow(loaded.map(({ manifest, sdl }) => ({ name: manifest.name, url: manifest.subgraph.url, sdl })));
  const files = new Map<string, string>();
  for (const { manifest, sdl } of loaded) files.set(join(options.outDir, 'subgraphs', `${manifest.name}.graphql`), sdl);
  files.set(join(options.outDir, 'supergraph.graphql'), composed.supergraphSdl);
  files.set(join(options.outDir, 'api.graphql'), composed.apiSdl);

  const report: ComposeReport = { written: [], stale: [] };
  for (const [path, content] of files) {
    const normalized = content.endsWith('\n') ? content : `${content}\n`;
    if ((await readOrEmpty(path)) === normalized) continue;
    if (options.check) {
      report.stale.push(relative(process.cwd(), path));
    } else {
      await mkdir(join(path, '..'), { recursive: true });
      await writeFile(path, normalized);
      report.written.push(relative(process.cwd(), path));
    }
  }
  return report;
}
