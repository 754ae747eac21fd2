// `graft check`: the schema check CI runs on a pull request. It loads the base graph (a
// schema/ folder, or the running gateway's registry), applies the proposed subgraph files,
// runs gateway/checks' pipeline and prints the report. Exit codes: 0 safe or dangerous
// (1 for dangerous with --fail-on dangerous), 1 breaking or composition error, 2 bad usage
// or unreadable input.
import { Command, Option } from 'commander';
import type { SubgraphInput } from '../composition/index.js';
import {
  applySubgraphChanges,
  assertSubgraphName,
  formatReport,
  loadOperationDir,
  loadSubgraphDir,
  loadSubgraphFile,
  PLACEHOLDER_URL,
  REPORT_FORMATS,
  runSchemaCheck,
  type OperationDocument,
  type ReportFormat,
  type SchemaCheckReport,
  type SubgraphSource,
} from '../checks/index.js';
import { AdminApiError, AdminClient } from './admin-client.js';
import { CliError, ExitCode } from './exit.js';

export interface CheckCommandOptions {
  base?: string;
  subgraph: string[];
  delete: string[];
  operations?: string;
  registry?: string;
  token?: string;
  format: ReportFormat;
  failOn: 'breaking' | 'dangerous';
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--subgraph crm=path/to/crm.graphql` → ["crm", "path/to/crm.graphql"]. */
function parseSubgraphOption(value: string): { name: string; file: string } {
  const at = value.indexOf('=');
  if (at <= 0 || at === value.length - 1) {
    throw new CliError(`--subgraph takes <name>=<file.graphql>; got "${value}".`, ExitCode.USAGE);
  }
  const name = value.slice(0, at);
  assertSubgraphName(name);
  return { name, file: value.slice(at + 1) };
}

interface RegistryMember {
  extension: string;
  version: string;
}

/**
 * The live supergraph's members and their SDLs, from a running gateway's admin API, with
 * the API schema the gateway serves (so the check need not compose the base again).
 */
async function loadBaseFromRegistry(client: AdminClient): Promise<{ base: SubgraphInput[]; apiSdl?: string }> {
  let supergraph: { members: RegistryMember[]; apiSdl?: unknown };
  try {
    supergraph = await client.request<{ members: RegistryMember[]; apiSdl?: unknown }>('GET', '/supergraph');
  } catch (error) {
    // Nothing published yet: the proposed subgraphs are the first graph.
    if (error instanceof AdminApiError && error.body.code === 'NO_SUPERGRAPH') return { base: [] };
    throw error;
  }
  const base = await Promise.all(
    supergraph.members.map(async ({ extension, version }) => {
      const { sdl } = await client.request<{ sdl: string }>('GET', `/extensions/${encodeURIComponent(extension)}/versions/${encodeURIComponent(version)}`);
      return { name: extension, url: PLACEHOLDER_URL, sdl };
    }),
  );
  return typeof supergraph.apiSdl === 'string' ? { base, apiSdl: supergraph.apiSdl } : { base };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/**
 * Operations registered with the gateway. GET /admin/operations does not exist yet on
 * every gateway: a 404 means "no registered operations", not a failure.
 */
async function loadRegisteredOperations(client: AdminClient): Promise<OperationDocument[]> {
  let body: unknown;
  try {
    body = await client.request<unknown>('GET', '/operations');
  } catch (error) {
    if (error instanceof AdminApiError && error.status === 404) return [];
    throw error;
  }
  const list = isRecord(body) && Array.isArray(body['operations']) ? (body['operations'] as unknown[]) : [];
  return list.flatMap((entry, i) => {
    if (!isRecord(entry)) return [];
    const source = [entry['document'], entry['query'], entry['source'], entry['body']].find((v): v is string => typeof v === 'string');
    const name = typeof entry['name'] === 'string' ? entry['name'] : typeof entry['id'] === 'string' ? entry['id'] : `#${i + 1}`;
    return source === undefined ? [] : [{ file: `registry:${name}`, source }];
  });
}

function exitCodeForVerdict(report: SchemaCheckReport, failOn: CheckCommandOptions['failOn']): number {
  if (report.verdict === 'composition-error' || report.verdict === 'breaking') return ExitCode.REFUSED;
  if (report.verdict === 'dangerous' && failOn === 'dangerous') return ExitCode.REFUSED;
  return ExitCode.OK;
}

/** Waits until stdout has taken the whole report: the exit that may follow must not cut it. */
function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

export async function runCheckCommand(options: CheckCommandOptions): Promise<void> {
  if ((options.base === undefined) === (options.registry === undefined)) {
    throw new CliError('Pass the base graph with exactly one of --base <dir> (a folder laid out like schema/) or --registry <url> (a running gateway).', ExitCode.USAGE);
  }
  const replacements = options.subgraph.map(parseSubgraphOption);
  for (const name of options.delete) assertSubgraphName(name);
  const names = [...replacements.map((r) => r.name), ...options.delete];
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new CliError(`Subgraph "${duplicate}" is named more than once in --subgraph / --delete.`, ExitCode.USAGE);
  if (names.length === 0) throw new CliError('Nothing to check: pass at least one --subgraph <name>=<file.graphql> or --delete <name>.', ExitCode.USAGE);

  let base: SubgraphInput[];
  let baseApiSdl: string | undefined;
  const operations: OperationDocument[] = [];
  if (options.registry !== undefined) {
    if (!options.token) throw new CliError('--registry needs --token (or GRAFT_TOKEN): an extension key with scope check, or a JWT with graft:publish:<name> or graft:admin.', ExitCode.USAGE);
    const client = new AdminClient(options.registry, options.token);
    ({ base, apiSdl: baseApiSdl } = await loadBaseFromRegistry(client));
    operations.push(...(await loadRegisteredOperations(client)));
  } else {
    base = await loadSubgraphDir(options.base!);
  }
  if (options.operations !== undefined) operations.push(...(await loadOperationDir(options.operations)));

  const proposedFiles = await Promise.all(replacements.map(async ({ name, file }) => ({ file, subgraph: await loadSubgraphFile(name, file) })));
  const proposed = applySubgraphChanges(base, { replace: proposedFiles.map((p) => p.subgraph), remove: options.delete });
  const report = await runSchemaCheck({ base, proposed, changedSubgraphs: names, operations, ...(baseApiSdl === undefined ? {} : { baseApiSdl }) });

  const sources = new Map<string, SubgraphSource>(proposedFiles.map(({ file, subgraph }) => [subgraph.name, { file, sdl: subgraph.sdl }]));
  await writeStdout(formatReport(report, options.format, sources));
  const code = exitCodeForVerdict(report, options.failOn);
  if (code !== ExitCode.OK) {
    throw new CliError(`schema check failed: verdict ${report.verdict}${report.verdict === 'dangerous' ? ' (--fail-on dangerous)' : ''}.`, code);
  }
}

/** Adds `graft check` to the CLI. */
export function registerCheckCommand(program: Command): Command {
  return program
    .command('check')
    .description('Check a proposed subgraph change against the current graph: composition, breaking changes, affected operations')
    .option('--base <dir>', 'the current graph: a folder laid out like schema/ (subgraphs/<name>.graphql)')
    .option('--subgraph <name=file>', 'a changed or added subgraph and its proposed SDL (repeatable)', collect, [])
    .option('--delete <name>', 'a subgraph the change removes (repeatable)', collect, [])
    .option('--operations <dir>', 'client operations (*.graphql, searched recursively) to check against the change')
    .option('--registry <url>', 'take the current graph and registered operations from a running gateway instead of --base')
    .addOption(new Option('--token <token>', 'for --registry: an extension key with scope check, or a JWT with graft:publish:<name> or graft:admin').env('GRAFT_TOKEN'))
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('text'))
    .addOption(new Option('--fail-on <level>', 'lowest verdict that exits 1').choices(['breaking', 'dangerous']).default('breaking'))
    .action((options: CheckCommandOptions) => runCheckCommand(options));
}
