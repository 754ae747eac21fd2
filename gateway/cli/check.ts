// `graft check`: what publish would say about a proposed change, before anything is
// published (DESIGN.md, "Direction" 2: one pipeline, two front doors). It loads the base
// graph (a schema/ folder, or the running gateway's registry), the proposed subgraphs
// (graft.json manifests, or SDL files with an optional --version), runs the publish
// pipeline's very steps (gateway/publish: grants, composition, diff, usage, versioning,
// deprecation, directives) without storing, and prints the report. What it cannot judge
// without the registry's history it lists as not checked. Exit codes: 1 when publish would
// refuse (or, where the versioning rule could not run, on a breaking change or a
// composition error; dangerous too with --fail-on dangerous), 0 otherwise, 2 bad usage or
// unreadable input.
import { Command, Option } from 'commander';
import {
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
import { loadManifestFile, type ExtensionManifest } from '../manifest/index.js';
import { errorsOf, runPipeline, type ActiveMember, type DirectiveChecker, type ExtensionHistory, type ProposedMember, type UsageCheckInput } from '../publish/index.js';
import type { UsageSummary } from '../registry/index.js';
import { AdminApiError, AdminClient } from './admin-client.js';
import { validateLintConfig, type LintConfig } from '../lint/index.js';
import { CliError, ExitCode } from './exit.js';

export interface CheckCommandOptions {
  base?: string;
  subgraph: string[];
  manifest: string[];
  version?: string;
  delete: string[];
  operations?: string;
  registry?: string;
  token?: string;
  asAdmin?: boolean;
  deprecationDays?: string;
  format: ReportFormat;
  failOn: 'breaking' | 'dangerous';
  usageDays?: string;
  minCount?: string;
  excludeClient: string[];
  strict?: boolean;
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

interface RegistryBase {
  active: ActiveMember[];
  apiSdl?: string;
  knownPolicies?: string[];
  deprecationDays?: number;
  /** The gateway's schema lint policy, as GET /admin/supergraph gives it. */
  lint?: unknown;
  usage?: { windowDays: number; strict: boolean };
}

/**
 * The live supergraph's members with their manifests and SDLs, from a running gateway's
 * admin API, with the API schema it serves (so the check need not compose the base again)
 * and the @policy names its config registers.
 */
async function loadBaseFromRegistry(client: AdminClient): Promise<RegistryBase> {
  type Supergraph = { members: RegistryMember[]; apiSdl?: unknown; knownPolicies?: unknown; deprecationDays?: unknown; lint?: unknown; usage?: unknown };
  let supergraph: Supergraph;
  try {
    supergraph = await client.request<Supergraph>('GET', '/supergraph');
  } catch (error) {
    // Nothing published yet: the proposed subgraphs are the first graph.
    if (error instanceof AdminApiError && error.body.code === 'NO_SUPERGRAPH') return { active: [] };
    throw error;
  }
  const active = await Promise.all(
    supergraph.members.map(async ({ extension, version }) => {
      const record = await client.request<{ sdl: string; manifest: ExtensionManifest }>('GET', `/extensions/${encodeURIComponent(extension)}/versions/${encodeURIComponent(version)}`);
      return { name: extension, version, url: PLACEHOLDER_URL, sdl: record.sdl, manifest: record.manifest };
    }),
  );
  return {
    active,
    ...(typeof supergraph.apiSdl === 'string' ? { apiSdl: supergraph.apiSdl } : {}),
    ...(Array.isArray(supergraph.knownPolicies) ? { knownPolicies: supergraph.knownPolicies.filter((p): p is string => typeof p === 'string') } : {}),
    ...(typeof supergraph.deprecationDays === 'number' ? { deprecationDays: supergraph.deprecationDays } : {}),
    ...(supergraph.lint === undefined ? {} : { lint: supergraph.lint }),
    ...(isRecord(supergraph.usage) && typeof supergraph.usage['windowDays'] === 'number'
      ? { usage: { windowDays: supergraph.usage['windowDays'], strict: supergraph.usage['strict'] === true } }
      : {}),
  };
}

/** The usage step's lookup over the gateway's admin API (GET /admin/usage). */
function usageLookupOver(client: AdminClient, days: number): UsageCheckInput['lookup'] {
  return async ({ coordinates, excludeClients }) => {
    const query = new URLSearchParams({ days: String(days) });
    for (const coordinate of coordinates) query.append('coordinate', coordinate);
    for (const name of excludeClients) query.append('excludeClient', name);
    const body = await client.request<{ operations: UsageSummary[] }>('GET', `/usage?${query.toString()}`);
    return body.operations;
  };
}

function wholeNumber(value: string | undefined, option: string, min: number): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isInteger(number) || number < min) throw new CliError(`${option} takes a whole number from ${min}; got "${value}".`, ExitCode.USAGE);
  return number;
}

/**
 * Every published version of an extension, newest first, with SDL and date: none for an
 * extension not registered yet; undefined when the gateway does not answer the route (then
 * the rules that need history are reported as not checked).
 */
async function loadHistory(client: AdminClient, name: string): Promise<ExtensionHistory | undefined> {
  let list: { versions: Array<{ version: string }> };
  try {
    list = await client.request<{ versions: Array<{ version: string }> }>('GET', `/extensions/${encodeURIComponent(name)}/versions`);
  } catch (error) {
    if (error instanceof AdminApiError && error.body.code === 'EXTENSION_NOT_FOUND') return { versions: [] };
    if (error instanceof AdminApiError && error.status === 404) return undefined;
    throw error;
  }
  const versions = await Promise.all(
    list.versions.map((v) =>
      client.request<{ version: string; sdl: string; publishedAt: string; manifest: ExtensionManifest }>('GET', `/extensions/${encodeURIComponent(name)}/versions/${encodeURIComponent(v.version)}`),
    ),
  );
  return { versions };
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

/**
 * What publish would do decides, when the check could run the versioning rule for every
 * proposed version (the registry's history and a known version); otherwise the verdict
 * stands in for it (a breaking change or a composition error exits 1), as it always did.
 */
function exitCodeOf(report: SchemaCheckReport, options: CheckCommandOptions, versioningJudged: boolean): number {
  if (report.publish?.outcome === 'refused') return ExitCode.REFUSED;
  if (!versioningJudged && (report.verdict === 'composition-error' || report.verdict === 'breaking')) return ExitCode.REFUSED;
  if (report.verdict === 'dangerous' && options.failOn === 'dangerous') return ExitCode.REFUSED;
  return ExitCode.OK;
}

/** Waits until stdout has taken the whole report: the exit that may follow must not cut it. */
function writeStdout(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

/** What `graft check` found and the exit code it means, without printing (the CLI prints it). */
export interface CheckOutcome {
  report: SchemaCheckReport;
  sources: Map<string, SubgraphSource>;
  exitCode: number;
  /** Why the exit code is not 0. */
  failure?: string;
}

export async function runCheckCommand(options: CheckCommandOptions): Promise<void> {
  const outcome = await checkProposal(options);
  await writeStdout(formatReport(outcome.report, options.format, outcome.sources));
  if (outcome.exitCode !== ExitCode.OK) throw new CliError(`schema check failed: ${outcome.failure}.`, outcome.exitCode);
}

/** The check itself: loads the base and the proposal, runs the publish pipeline, judges the exit code. */
export async function checkProposal(options: CheckCommandOptions): Promise<CheckOutcome> {
  if ((options.base === undefined) === (options.registry === undefined)) {
    throw new CliError('Pass the base graph with exactly one of --base <dir> (a folder laid out like schema/) or --registry <url> (a running gateway).', ExitCode.USAGE);
  }
  const replacements = options.subgraph.map(parseSubgraphOption);
  for (const name of options.delete) assertSubgraphName(name);
  const manifests = await Promise.all(options.manifest.map(async (path) => ({ path, ...(await loadManifestFile(path)) })));
  const names = [...manifests.map((m) => m.manifest.name), ...replacements.map((r) => r.name), ...options.delete];
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate) throw new CliError(`Subgraph "${duplicate}" is named more than once in --manifest / --subgraph / --delete.`, ExitCode.USAGE);
  if (names.length === 0) throw new CliError('Nothing to check: pass at least one --manifest <graft.json>, --subgraph <name>=<file.graphql> or --delete <name>.', ExitCode.USAGE);
  if (options.version !== undefined && (replacements.length !== 1 || !SEMVER.test(options.version))) {
    throw new CliError('--version X.Y.Z goes with exactly one --subgraph (a graft.json given with --manifest has its own version).', ExitCode.USAGE);
  }
  let deprecationDays = options.deprecationDays === undefined ? 14 : Number(options.deprecationDays);
  if (!Number.isInteger(deprecationDays) || deprecationDays < 0) throw new CliError('--deprecation-days takes a whole number of days.', ExitCode.USAGE);

  const usageDays = wholeNumber(options.usageDays, '--usage-days', 1);
  const minCount = wholeNumber(options.minCount, '--min-count', 1);
  if (options.registry === undefined && (usageDays !== undefined || minCount !== undefined || options.excludeClient.length > 0 || options.strict)) {
    throw new CliError('--usage-days, --min-count, --exclude-client and --strict judge changes by the gateway\'s traffic: they need --registry <url>.', ExitCode.USAGE);
  }
  let usage: UsageCheckInput | undefined;
  let active: ActiveMember[];
  let baseApiSdl: string | undefined;
  let knownPolicies: ReadonlySet<string> | undefined;
  let lint: LintConfig | undefined;
  let history: Map<string, ExtensionHistory> | undefined;
  const registeredOperations: OperationDocument[] = [];
  // Who publishes decides whether grants outside the extension's namespace pass: an owner
  // unless --as-admin says a platform admin will (the --registry token only reads).
  const publisherIsAdmin = options.asAdmin === true;
  if (options.registry !== undefined) {
    if (!options.token) throw new CliError('--registry needs --token (or GRAFT_TOKEN): an extension key with scope check, or a JWT with graft:publish:<name> or graft:admin.', ExitCode.USAGE);
    const client = new AdminClient(options.registry, options.token);
    const base = await loadBaseFromRegistry(client);
    active = base.active;
    baseApiSdl = base.apiSdl;
    if (base.knownPolicies) knownPolicies = new Set(base.knownPolicies);
    // The gateway's own lint policy, so that the check refuses what publish would (LINT_FAILED).
    if (base.lint !== undefined) {
      try {
        lint = validateLintConfig(base.lint);
      } catch (error) {
        throw new CliError(`The registry sent a lint policy this graft cannot read (${(error as Error).message}): use the graft version of the gateway.`, ExitCode.REFUSED);
      }
    }
    // The gateway's own deprecation period, unless the option overrides it.
    if (options.deprecationDays === undefined && base.deprecationDays !== undefined) deprecationDays = base.deprecationDays;
    registeredOperations.push(...(await loadRegisteredOperations(client)));
    // Usage: the gateway's window and strictness unless the options say otherwise; a gateway with usage off (or older) has none.
    if (base.usage || usageDays !== undefined) {
      const days = usageDays ?? base.usage?.windowDays ?? 7;
      usage = { days, minCount: minCount ?? 1, excludeClients: options.excludeClient, strict: options.strict === true || base.usage?.strict === true, lookup: usageLookupOver(client, days) };
    }
    history = new Map();
    for (const name of [...manifests.map((m) => m.manifest.name), ...replacements.map((r) => r.name)]) {
      const known = await loadHistory(client, name);
      if (known === undefined) {
        history = undefined;
        break;
      }
      history.set(name, known);
    }
  } else {
    active = (await loadSubgraphDir(options.base!)).map((s) => ({ name: s.name, version: 'base', url: s.url, sdl: s.sdl }));
  }
  for (const name of options.delete) {
    if (!active.some((a) => a.name === name)) {
      throw new CliError(`Cannot remove subgraph "${name}": the base has no such subgraph (it has ${active.map((a) => a.name).join(', ') || 'none'}).`, ExitCode.USAGE);
    }
  }
  const operationFiles = options.operations === undefined ? undefined : await loadOperationDir(options.operations);

  const proposedFiles = await Promise.all(replacements.map(async ({ name, file }) => ({ file, subgraph: await loadSubgraphFile(name, file) })));
  const members: ProposedMember[] = [
    ...(await Promise.all(
      manifests.map(async ({ path, manifest, sdl }) => {
        const directiveModules = manifest.directives?.length ? await (await import('../directives/index.js')).loadDirectiveSources(path, manifest) : undefined;
        return { manifest, sdl, known: 'full' as const, ...(directiveModules ? { directiveModules } : {}) };
      }),
    )),
    ...proposedFiles.map(({ file, subgraph }) => ({
      manifest: { name: subgraph.name, version: options.version ?? '0.0.0', owner: 'unknown', subgraph: { url: active.find((a) => a.name === subgraph.name)?.url ?? PLACEHOLDER_URL, schema: file } },
      sdl: subgraph.sdl,
      known: options.version === undefined ? ('sdl-only' as const) : ('version-only' as const),
    })),
  ];

  // Resolver directives are checked in the sandbox, as publish does, when a manifest declares some.
  let directives: (DirectiveChecker & { close(): void }) | undefined;
  if (members.some((m) => m.manifest.directives?.length)) directives = await (await import('../directives/index.js')).DirectiveRuntime.create();
  let report: SchemaCheckReport;
  try {
    const result = await runPipeline({
      members,
      retire: options.delete,
      active,
      ...(baseApiSdl === undefined ? {} : { baseApiSdl }),
      ...(history ? { history } : {}),
      registeredOperations,
      ...(operationFiles ? { operationFiles } : {}),
      alwaysReport: true,
      publisherIsAdmin,
      ...(knownPolicies ? { knownPolicies } : {}),
      ...(directives ? { directives } : {}),
      deprecationDays,
      ...(lint ? { lint } : {}),
      now: new Date(),
      ...(usage ? { usage } : {}),
    });
    report =
      result.check ??
      // The pipeline stopped before the schema check (an SDL that does not parse): the check of the rest still reports.
      (await runSchemaCheck({ base: active, proposed: result.proposed, changedSubgraphs: names }));
    const errors = errorsOf(result);
    report.publish = {
      outcome: errors.length > 0 ? 'refused' : 'accepted',
      findings: result.findings.map(({ code, severity, extension, step, path, message }) => ({ code, severity, extension, step, ...(path ? { path } : {}), message })),
      notChecked: result.notChecked,
    };
  } finally {
    directives?.close();
  }

  const sources = new Map<string, SubgraphSource>([
    ...manifests.map(({ manifest, sdl, schemaPath }): [string, SubgraphSource] => [manifest.name, { file: schemaPath, sdl }]),
    ...proposedFiles.map(({ file, subgraph }): [string, SubgraphSource] => [subgraph.name, { file, sdl: subgraph.sdl }]),
  ]);
  const versioningJudged = history !== undefined && options.delete.length + members.length > 0 && members.every((m) => m.known !== 'sdl-only');
  const exitCode = exitCodeOf(report, options, versioningJudged);
  if (exitCode === ExitCode.OK) return { report, sources, exitCode };
  const refusals = [...new Set((report.publish?.findings ?? []).filter((f) => f.severity === 'error').map((f) => f.code))];
  const failure = refusals.length > 0 ? `publish would refuse it (${refusals.join(', ')})` : `verdict ${report.verdict}${report.verdict === 'dangerous' ? ' (--fail-on dangerous)' : ''}`;
  return { report, sources, exitCode, failure };
}

/** Adds `graft check` to the CLI. */
export function registerCheckCommand(program: Command): Command {
  return program
    .command('check')
    .description('Check a proposed change against the current graph with the publish pipeline: composition, breaking changes, affected operations, grants, versioning, deprecation, directives')
    .option('--base <dir>', 'the current graph: a folder laid out like schema/ (subgraphs/<name>.graphql)')
    .option('--manifest <graft.json>', 'a proposed extension version: its graft.json (name, version, grants, directives) and the SDL it names (repeatable)', collect, [])
    .option('--subgraph <name=file>', 'a changed or added subgraph and its proposed SDL (repeatable)', collect, [])
    .option('--version <X.Y.Z>', 'the version the one --subgraph would be published as (for the semver rule)')
    .option('--delete <name>', 'a subgraph the change removes (repeatable)', collect, [])
    .option('--operations <dir>', 'client operations (*.graphql, searched recursively) to check against the change')
    .option('--registry <url>', 'take the current graph and registered operations from a running gateway instead of --base')
    .addOption(new Option('--token <token>', 'for --registry: an extension key with scope check, or a JWT with graft:publish:<name> or graft:admin').env('GRAFT_TOKEN'))
    .option('--as-admin', 'judge grants as for a publisher with graft:admin (default: an extension owner with graft:publish:<name>)')
    .option('--deprecation-days <days>', 'the deprecation period of the gateway (GRAFT_DEPRECATION_DAYS)')
    .addOption(new Option('--format <format>', 'output format').choices(REPORT_FORMATS).default('text'))
    .addOption(new Option('--fail-on <level>', 'lowest verdict that exits 1').choices(['breaking', 'dangerous']).default('breaking'))
    .option('--usage-days <days>', 'with --registry: the window of traffic that decides whether a breaking change is used (default: the gateway\'s GRAFT_USAGE_DAYS, 7)')
    .option('--min-count <n>', 'with --registry: operations that ran fewer times in the window do not count')
    .option('--exclude-client <name>', 'with --registry: requests of this client (graphql-client-name) do not count (repeatable)', collect, [])
    .option('--strict', 'with --registry: a breaking change no operation used stays breaking (default: it passes, labelled breaking-unused)')
    .action((options: CheckCommandOptions) => runCheckCommand(options));
}
