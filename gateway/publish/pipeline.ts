// The publish pipeline as a list of steps (DESIGN.md, "Direction" 2: one pipeline, two
// front doors). Each step reads what the pipeline was given and what earlier steps found,
// and returns findings `{ code, severity, extension, path?, message }` with the codes
// publish refuses with. The steps store nothing: the registry service (service.ts) runs
// them against the registry and stores the release when no step found an error; `graft
// check` runs the very same steps against a schema folder or a running gateway and prints
// the findings. What a step cannot judge without history it was not given (the previous
// version, deprecation dates, the gateway's @policy names) it lists in `notChecked`: never
// a silent pass.
//
// Steps, in the order their refusals take precedence (the order publish refused in before
// releases): manifest → grants → network → version order → composition → schema check
// (diff and usage) → versioning (semver) → registered operations → deprecation → directives
// → lint (the operator's schema lint policy: style, descriptions, list sizes, sensitive fields).
import semver from 'semver';
import { buildSchema, Kind, type OperationDefinitionNode } from 'graphql';
import {
  checkOperations,
  parseOperations,
  runSchemaCheck,
  verdictOf,
  type NotChecked,
  type OperationDocument,
  type ParsedOperation,
  type PipelineFinding,
  type PipelineStepName,
  type SchemaChange,
  type SchemaCheckReport,
  type UsedOperation,
} from '../checks/index.js';
import { schemaCoordinatesOf } from '../graphql/index.js';
import type { UsageSummary } from '../registry/index.js';
import { composeSubgraphs, parseSubgraphSdl, type ComposedSupergraph, type CompositionProblem, type SubgraphInput } from '../composition/index.js';
import { modulesOfVersion, type DirectiveDeclaration, type DirectiveModule, type DirectivePublishCheck, type DirectivePublishInput } from '../directives/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { lintEnabled, lintSubgraph, type LintConfig } from '../lint/index.js';
import { EXTENSION_NAME, type ExtensionManifest } from '../manifest/index.js';
import { authorizationUsageOf } from '../policy/index.js';
import {
  bumpOf,
  definedTypeNames,
  describeBump,
  describeRemoval,
  judgeRemovals,
  newlyDeprecated,
  requiredBumpOf,
  satisfiesBump,
  suggestVersion,
  summarizeChanges,
  type Removal,
  type VersionReport,
} from './versioning.js';

export type StepName = PipelineStepName;
export type { NotChecked };

/** Every step, in order: what `graft check` reports on and what publish runs. */
export const PIPELINE_STEPS: readonly StepName[] = ['manifest', 'grants', 'network', 'version-order', 'composition', 'schema-check', 'versioning', 'usage', 'deprecation', 'directives', 'lint'];

/** A finding with its GraftErrorCode and what publish puts in the refusal's details. */
export interface Finding extends PipelineFinding {
  code: GraftErrorCode;
  /** e.g. compositionErrors, the semver rule's verdict and suggested version. */
  details?: Record<string, unknown>;
}

/** One extension version proposed in a release. */
export interface ProposedMember {
  manifest: ExtensionManifest;
  sdl: string;
  /** Sources of the resolver directive modules graft.json declares, by the path it names. */
  directiveModules?: Readonly<Record<string, unknown>>;
  /**
   * What the caller knows of the manifest: `full` (graft.json); `version-only` (`graft check
   * --subgraph ... --version X.Y.Z`: grants and directives unknown); `sdl-only` (`graft check
   * --subgraph` alone: the version too).
   */
  known?: 'full' | 'version-only' | 'sdl-only';
}

/** An extension version of the graph in service. */
export interface ActiveMember {
  name: string;
  version: string;
  url: string;
  sdl: string;
  /** Unknown for a schema folder (graft check --base). */
  manifest?: ExtensionManifest;
  directiveModules?: Readonly<Record<string, string>>;
}

/** What the registry knows of one extension: every version, newest first. */
export interface ExtensionHistory {
  versions: ReadonlyArray<{ version: string; sdl: string; publishedAt: string; manifest?: ExtensionManifest }>;
}

/** The traffic the gateway served (gateway/usage), for the usage step. */
export interface UsageCheckInput {
  /** The window, in days back from `now`. */
  days: number;
  /** Operations that ran fewer times in the window do not count. */
  minCount: number;
  /** Clients whose requests do not count (load tests, internal tools). */
  excludeClients: readonly string[];
  /** A breaking change nothing used stays breaking (GRAFT_USAGE_STRICT, --strict). */
  strict: boolean;
  /** The operations that touched any of these coordinates since `since` (excluded clients left out). */
  lookup(query: { since: string; coordinates: string[]; excludeClients: string[] }): Promise<UsageSummary[]>;
}

/** Checks resolver directives (gateway/directives' DirectiveRuntime). */
export interface DirectiveChecker {
  checkPublish(input: DirectivePublishInput): Promise<DirectivePublishCheck>;
  linkHints(sdl: string, modules: readonly DirectiveModule[]): string[];
}

export interface PipelineInput {
  members: readonly ProposedMember[];
  /** Extensions the release retires. */
  retire: readonly string[];
  /** The graph in service (every active, unretired extension). */
  active: readonly ActiveMember[];
  /** The API schema of exactly `active`, when the caller has it (saves composing the base). */
  baseApiSdl?: string;
  /** Per extension; undefined: no history at all (a schema folder). An extension absent from a given map has none (never published). */
  history?: ReadonlyMap<string, ExtensionHistory>;
  /** Operations registered with the gateway: each document stands alone (its own fragments). */
  registeredOperations?: readonly OperationDocument[];
  /** Operation files (graft check --operations): pooled, fragments shared across files. */
  operationFiles?: readonly OperationDocument[];
  /** Run the schema check even when the proposed graph does not compose (graft check reports it). */
  alwaysReport?: boolean;
  /** Whether the publisher holds graft:admin (grants outside the extension's namespace need it). */
  publisherIsAdmin: boolean;
  /** The @policy names the gateway knows; undefined: unknown (reported as not checked). */
  knownPolicies?: ReadonlySet<string>;
  /** The SSRF check of subgraph URLs; undefined: not checked here. */
  checkUrl?: (url: string) => Promise<void>;
  /** undefined: directives are not checked (publish stores them unchecked; graft check says so). */
  directives?: DirectiveChecker;
  deprecationDays: number;
  /** The gateway's schema lint policy (config `lint`); undefined: not known here (reported as not checked). */
  lint?: LintConfig;
  now: Date;
  /** An admin's override of the deprecation and registered-operation rules. */
  force?: { reason: string; by: string };
  /** The gateway's traffic; undefined: changes are judged without it (graft check --base). */
  usage?: UsageCheckInput;
}

/** What the pipeline found, and what publish stores when nothing refused. */
export interface PipelineResult {
  findings: Finding[];
  notChecked: NotChecked[];
  /** The subgraphs of the proposed graph. */
  proposed: SubgraphInput[];
  composed?: ComposedSupergraph;
  check?: SchemaCheckReport;
  /** The change report to store with each member's version. */
  reports: Map<string, VersionReport>;
  /** Directive modules the proposed graph serves, and the sources to store with each member. */
  directives: { served: DirectiveModule[]; sources: Map<string, Record<string, string>> };
  hints: string[];
}

/** What each step reads and adds to. */
interface PipelineState {
  input: PipelineInput;
  result: PipelineResult;
  names: string[];
}

type Step = (state: PipelineState) => Promise<void>;

function add(state: PipelineState, finding: Omit<Finding, 'severity'> & { severity?: Finding['severity'] }): void {
  state.result.findings.push({ severity: 'error', ...finding });
}

function notChecked(state: PipelineState, step: StepName, extension: string, message: string): void {
  state.result.notChecked.push({ step, extension, message });
}

/** A GraftError a checker threw, as a finding of the step. */
function findingOf(step: StepName, extension: string, error: unknown): Omit<Finding, 'severity'> {
  if (!(error instanceof GraftError)) throw error;
  return { code: error.code, extension: error.extension ?? extension, step, message: error.message, ...(error.details ? { details: error.details } : {}) };
}

function erred(state: PipelineState, step: StepName): boolean {
  return state.result.findings.some((f) => f.step === step && f.severity === 'error');
}

// ---------------------------------------------------------------- the steps

/** Each extension once, a valid name and version, an SDL that parses. */
const manifestStep: Step = async (state) => {
  const seen = new Set<string>();
  for (const { manifest, sdl, known } of state.input.members) {
    const { name } = manifest;
    if (seen.has(name)) add(state, { code: GraftErrorCode.BAD_REQUEST, extension: name, step: 'manifest', message: `Extension "${name}" appears more than once in the release: send each extension once.` });
    seen.add(name);
    if (!EXTENSION_NAME.test(name)) add(state, { code: GraftErrorCode.BAD_REQUEST, extension: name, step: 'manifest', message: `"${name}" is not a valid extension name: use a DNS label (lower-case letters, digits and '-', starting with a letter).` });
    if (known !== 'sdl-only' && semver.valid(manifest.version) !== manifest.version) {
      add(state, { code: GraftErrorCode.VERSION_INVALID, extension: name, step: 'manifest', message: `"${manifest.version}" is not a semantic version: use the form MAJOR.MINOR.PATCH, e.g. 1.2.0.`, details: { version: manifest.version } });
    }
    if (typeof sdl !== 'string' || sdl.trim() === '') {
      add(state, { code: GraftErrorCode.SDL_INVALID, extension: name, step: 'manifest', message: `The SDL of extension "${name}" is empty: send the subgraph schema as "sdl".` });
      continue;
    }
    try {
      parseSubgraphSdl(name, sdl);
    } catch (error) {
      add(state, findingOf('manifest', name, error));
    }
  }
  for (const name of state.input.retire) {
    if (seen.has(name)) add(state, { code: GraftErrorCode.BAD_REQUEST, extension: name, step: 'manifest', message: `Extension "${name}" is both published and retired by the release: do one or the other.` });
    seen.add(name);
  }
  if (seen.size === 0) add(state, { code: GraftErrorCode.BAD_REQUEST, extension: '', step: 'manifest', message: 'The release is empty: send at least one extension ("extensions": [{ "manifest", "sdl" }]).' });
};

/**
 * Least privilege toward extensions: @requiresScopes only with scopes the extension is
 * granted, grants outside its own "name:" namespace only from a graft:admin publisher,
 * and only @policy names the gateway config registers.
 */
const grantsStep: Step = async (state) => {
  const { knownPolicies, publisherIsAdmin } = state.input;
  for (const { manifest, sdl, known } of state.input.members) {
    const { name } = manifest;
    if (known === 'version-only' || known === 'sdl-only') {
      notChecked(state, 'grants', name, 'grants and @policy names were not checked: pass --manifest graft.json (the grants are in it).');
      continue;
    }
    const grants = new Set(manifest.grants ?? []);
    const usage = authorizationUsageOf(sdl);
    const ungranted = [...usage.scopes].filter((scope) => !grants.has(scope));
    if (ungranted.length > 0) {
      add(state, {
        code: GraftErrorCode.GRANT_NOT_ALLOWED,
        extension: name,
        step: 'grants',
        message: `Extension "${name}" uses scopes it is not granted in @requiresScopes: ${ungranted.join(', ')}. Add them to "grants" in graft.json.`,
        details: { ungrantedScopes: ungranted },
      });
    }
    const foreign = [...grants].filter((scope) => !scope.startsWith(`${name}:`));
    if (foreign.length > 0 && !publisherIsAdmin) {
      add(state, {
        code: GraftErrorCode.GRANT_NOT_ALLOWED,
        extension: name,
        step: 'grants',
        message: `Grants outside the "${name}:" namespace (${foreign.join(', ')}) need a publisher with scope graft:admin; ask a platform admin to publish this version or remove them.`,
        details: { foreignGrants: foreign },
      });
    }
    if (knownPolicies === undefined) {
      if (usage.policies.size > 0) notChecked(state, 'grants', name, `@policy names (${[...usage.policies].join(', ')}) were not checked against the gateway config: needs --registry.`);
      continue;
    }
    const unknown = [...usage.policies].filter((policy) => !knownPolicies.has(policy));
    if (unknown.length > 0) {
      add(state, {
        code: GraftErrorCode.UNKNOWN_POLICY,
        extension: name,
        step: 'grants',
        message: `Extension "${name}" uses @policy names the gateway does not know: ${unknown.join(', ')}. Register them in the gateway config (authorization.policies) or fix the names.`,
        details: { unknownPolicies: unknown, knownPolicies: [...knownPolicies] },
      });
    }
  }
};

/** The SSRF policy on subgraph URLs (gateway/netpolicy), when the front door has one. */
const networkStep: Step = async (state) => {
  const { checkUrl } = state.input;
  for (const { manifest, known } of state.input.members) {
    if (!checkUrl) {
      if (known === undefined || known === 'full') notChecked(state, 'network', manifest.name, `the subgraph URL ${manifest.subgraph.url} was not checked against the gateway's network policy, which applies at publish.`);
      continue;
    }
    try {
      await checkUrl(manifest.subgraph.url);
    } catch (error) {
      add(state, findingOf('network', manifest.name, error));
    }
  }
};

/** Versions are immutable and increase (semver order against every stored version). */
const versionOrderStep: Step = async (state) => {
  const { history } = state.input;
  for (const { manifest, known } of state.input.members) {
    const { name, version } = manifest;
    if (known === 'sdl-only') {
      notChecked(state, 'version-order', name, `the proposed version of "${name}" is unknown: pass --manifest graft.json or --version X.Y.Z.`);
      continue;
    }
    if (!history) {
      notChecked(state, 'version-order', name, `whether ${version} is greater than every published version of "${name}" was not checked: needs --registry.`);
      continue;
    }
    const latest = history.get(name)?.versions[0];
    if (!latest || semver.valid(version) !== version || semver.gt(version, latest.version)) continue;
    add(state, {
      code: latest.version === version ? GraftErrorCode.VERSION_EXISTS : GraftErrorCode.VERSION_NOT_GREATER,
      extension: name,
      step: 'version-order',
      message: `Version ${version} of "${name}" is not greater than the latest published version ${latest.version}: published versions are immutable, bump "version" in graft.json.`,
      details: { latestVersion: latest.version },
    });
  }
};

/** The culprits of a composition error: the members it names, else every member. */
function culpritsOf(problem: CompositionProblem, names: readonly string[]): string[] {
  const named = problem.subgraphs.filter((s) => names.includes(s));
  return named.length > 0 ? named : [...names];
}

/** Composes the release with the rest of the graph in service. */
const compositionStep: Step = async (state) => {
  const { result, names } = state;
  if (result.proposed.length === 0) {
    const last = state.input.retire[0] ?? '';
    add(state, { code: GraftErrorCode.PUBLISH_REJECTED, extension: last, step: 'composition', message: `"${state.input.retire.join('", "')}" ${state.input.retire.length === 1 ? 'is' : 'are'} the last active extension${state.input.retire.length === 1 ? '' : 's'}: the graph cannot be empty. Publish another extension first.` });
    return;
  }
  if (state.result.findings.some((f) => f.step === 'manifest' && f.code === GraftErrorCode.SDL_INVALID)) return;
  const outcome = composeSubgraphs(result.proposed);
  if (outcome.ok) {
    result.composed = outcome;
    result.hints.push(...outcome.hints);
    return;
  }
  const culprits = names.length > 0 ? names : [...state.input.retire];
  for (const name of culprits) {
    const errors = outcome.errors.filter((e) => culpritsOf(e, culprits).includes(name));
    if (errors.length === 0) continue;
    add(state, {
      code: GraftErrorCode.COMPOSITION_FAILED,
      extension: name,
      step: 'composition',
      ...(errors[0]!.coordinates[0] ? { path: errors[0]!.coordinates[0] } : {}),
      message: `${state.input.members.length > 0 ? `Extension "${name}" does not compose with the active extensions` : `The other extensions do not compose without "${name}"`}: ${errors.map((e) => `${e.code}: ${e.message}`).join('\n')}`,
      details: { compositionErrors: errors },
    });
  }
};

/** The base graph's API schema: given (the active supergraph's) or composed. */
function baseApiSdlOf(input: PipelineInput): string | undefined {
  if (input.active.length === 0) return undefined;
  if (input.baseApiSdl !== undefined) return input.baseApiSdl;
  const outcome = composeSubgraphs(input.active.map((a) => ({ name: a.name, url: a.url, sdl: a.sdl })));
  return outcome.ok ? outcome.apiSdl : undefined;
}

/**
 * The schema check (gateway/checks: subgraph and API diff, verdict) of the proposed graph
 * against the one in service, and the usage check against the client operations.
 * Registered operations each stand alone (their own fragments), so each is parsed on its
 * own; a folder of operation files is pooled the way `graft check` always read it.
 */
const schemaCheckStep: Step = async (state) => {
  const { input, result } = state;
  if (!result.composed && !input.alwaysReport) return;
  if (state.result.findings.some((f) => f.code === GraftErrorCode.SDL_INVALID)) return;
  const base = input.active.map((a) => ({ name: a.name, url: a.url, sdl: a.sdl }));
  const baseApiSdl = baseApiSdlOf(input);
  const check = await runSchemaCheck({
    base,
    proposed: result.proposed,
    // Composed once, by the composition step.
    ...(result.composed ? { proposedComposition: { ...result.composed, ok: true as const } } : {}),
    changedSubgraphs: [...state.names, ...input.retire],
    ...(input.operationFiles ? { operations: input.operationFiles } : {}),
    ...(baseApiSdl === undefined ? {} : { baseApiSdl }),
  });
  const registered = input.registeredOperations ?? [];
  if (registered.length > 0 && baseApiSdl !== undefined && result.composed) {
    const parsed: ParsedOperation[] = [];
    for (const document of registered) {
      try {
        parsed.push(...parseOperations([document]));
      } catch {
        check.notes.push(`Registered operation ${document.file.replace(/^registry:/, '')} does not parse and was not checked.`);
      }
    }
    const impact = checkOperations(parsed, buildSchema(baseApiSdl), buildSchema(result.composed.apiSdl));
    check.affectedOperations.push(...impact.affected);
    check.operationsFailingOnBase.push(...impact.failingOnBase);
    check.operationsChecked += parsed.length;
    check.verdict = verdictOf(check);
  }
  result.check = check;
};

/**
 * The coordinate whose users a change affects: what it names, or for an addition that
 * breaks (a required argument or input field) the field or input type it is added to.
 */
function affectedCoordinateOf(change: SchemaChange): string {
  if (!change.type.endsWith('_ADDED') || !change.path.includes('.')) return change.path;
  return change.path.slice(0, change.path.lastIndexOf('.'));
}

/**
 * The usage step (issue 17): which operations of the traffic in the window touch what the
 * breaking and dangerous API changes change, and a breaking change nothing touched (no
 * operation of the window with at least minCount requests, no registered operation) is
 * labelled breaking-unused; unless strict, it then weighs as dangerous in the verdict (and
 * so in the semver rule). Registered operations always count, whatever the traffic.
 */
const usageStep: Step = async (state) => {
  const { input, result } = state;
  const check = result.check;
  const usage = input.usage;
  if (!check || !result.composed || !usage) return;
  const judged = check.changes.filter((c) => c.level === 'api' && c.criticality !== 'safe');
  const since = new Date(input.now.getTime() - usage.days * 24 * 60 * 60 * 1000).toISOString();
  const coordinates = [...new Set(judged.map(affectedCoordinateOf))];
  const traffic = coordinates.length === 0 ? [] : (await usage.lookup({ since, coordinates, excludeClients: [...usage.excludeClients] })).filter((o) => o.count >= usage.minCount);
  const operations: UsedOperation[] = traffic.map(({ hash, name, signature, count, lastSeen, clients, coordinates: touched }) => ({
    hash,
    name,
    signature,
    count,
    lastSeen,
    clients,
    touches: coordinates.filter((c) => touched.includes(c)),
  }));
  const used = new Set(operations.flatMap((o) => o.touches));
  const breaking = judged.filter((c) => c.criticality === 'breaking');
  if (breaking.some((c) => !used.has(affectedCoordinateOf(c)))) {
    for (const coordinate of registeredCoordinates(input)) used.add(coordinate);
  }
  const unused: string[] = [];
  const unusedPaths = new Set(breaking.filter((c) => !used.has(affectedCoordinateOf(c))).map((c) => c.path));
  // The same change as one subgraph's SDL states it weighs like its API change.
  const mirrored = check.changes.filter((c) => c.level === 'subgraph' && c.criticality === 'breaking' && unusedPaths.has(c.path));
  for (const change of [...breaking, ...mirrored]) {
    const coordinate = affectedCoordinateOf(change);
    if (used.has(coordinate)) continue;
    unused.push(coordinate);
    change.label = 'breaking-unused';
    const why = `no operation used ${coordinate} in the last ${usage.days} days${usage.minCount > 1 ? ` (at least ${usage.minCount} requests)` : ''} and no registered operation uses it`;
    if (usage.strict) {
      change.reason = `${change.reason ? `${change.reason}; ` : ''}${why}, but the check is strict`;
    } else {
      change.criticality = 'dangerous';
      change.reason = `${change.reason ? `${change.reason}; ` : ''}breaking-unused: ${why} (--strict or GRAFT_USAGE_STRICT=1 treats it as breaking)`;
    }
  }
  check.usage = { days: usage.days, since, minCount: usage.minCount, excludedClients: [...usage.excludeClients], strict: usage.strict, operations, unusedBreaking: [...new Set(unused)] };
  check.verdict = verdictOf(check);
};

/** The coordinates the registered operations touch, on the API schema in service. */
function registeredCoordinates(input: PipelineInput): Set<string> {
  const coordinates = new Set<string>();
  const registered = input.registeredOperations ?? [];
  const baseApiSdl = registered.length > 0 ? baseApiSdlOf(input) : undefined;
  if (baseApiSdl === undefined) return coordinates;
  const schema = buildSchema(baseApiSdl);
  for (const document of registered) {
    let parsed: ParsedOperation[];
    try {
      parsed = parseOperations([document]);
    } catch {
      continue; // the schema check notes it already
    }
    for (const { document: operationDocument } of parsed) {
      const operation = operationDocument.definitions.find((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
      if (operation) for (const c of schemaCoordinatesOf(schema, operationDocument, operation)) coordinates.add(c);
    }
  }
  return coordinates;
}

/**
 * The changes a member answers for. A release of one answers for every change; in a
 * release of several, a member answers for its own SDL's changes and the API changes to
 * the types its SDL (new or in service) defines, and an API change no member defines is
 * everyone's.
 */
function changesOf(state: PipelineState, name: string): SchemaChange[] {
  const changes = state.result.check?.changes ?? [];
  if (state.names.length <= 1) return changes;
  const typesOf = (member: string) => {
    const proposed = state.input.members.find((m) => m.manifest.name === member)?.sdl;
    const active = state.input.active.find((a) => a.name === member)?.sdl;
    return new Set([...definedTypeNames(proposed ?? ''), ...definedTypeNames(active ?? '')]);
  };
  const types = new Map(state.names.map((n) => [n, typesOf(n)]));
  return changes.filter((change) => {
    if (change.level === 'subgraph') return change.subgraph === name;
    const typeName = change.path.split('.')[0] ?? '';
    const owners = state.names.filter((n) => types.get(n)!.has(typeName));
    return owners.length === 0 || owners.includes(name);
  });
}

/** The verdict of a member's own changes, with the release's broken operations. */
function memberVerdict(state: PipelineState, changes: SchemaChange[]) {
  const check = state.result.check!;
  return verdictOf({ compositionErrors: check.compositionErrors, changes, affectedOperations: check.affectedOperations });
}

const FORCE_HINT = 'or have a platform admin (scope graft:admin) publish it with "force": { "reason": "..." }, which is recorded in the audit log and the changelog';

/**
 * The versioning rules (versioning.ts) per member: the semver rule, the registered
 * operations the release breaks, and the deprecation period of removals. Writes each
 * member's change report. The three rules are three steps of the list, run here together
 * because they read one judgment per member.
 */
const versioningSteps: Step = async (state) => {
  const { input, result } = state;
  const check = result.check;
  if (!check || !result.composed) return;
  const days = input.deprecationDays;
  const force = input.force;
  for (const { manifest, sdl, known } of input.members) {
    const { name, version } = manifest;
    const versionKnown = known !== 'sdl-only';
    const history = input.history?.get(name)?.versions;
    const latest = history?.[0];
    const changes = changesOf(state, name);
    const verdict = memberVerdict(state, changes);
    const requiredBump = requiredBumpOf(verdict);
    const bump = versionKnown && latest && semver.valid(version) === version && semver.gt(version, latest.version) ? bumpOf(latest.version, version) : 'initial';
    const removals = history && latest ? judgeRemovals(changes, history, days, input.now) : [];
    const refusedRemovals = removals.filter((r) => !r.allowed);
    const broken = check.affectedOperations.map((o) => o.name);
    const summary = { ...check, changes };
    const details = (rule: string, extra: Record<string, unknown> = {}) => ({
      rule,
      verdict,
      changes,
      affectedOperations: check.affectedOperations,
      ...(latest ? { latestVersion: latest.version } : {}),
      version,
      ...extra,
    });
    const removalText = (list: Removal[]) => list.map((r) => describeRemoval(r, days, latest?.version ?? '')).join('; ');

    // semver
    if (!versionKnown) {
      if (requiredBump !== 'patch') notChecked(state, 'versioning', name, `the change is ${verdict} and needs a ${requiredBump} version bump: pass --manifest graft.json or --version X.Y.Z to check the proposed version.`);
    } else if (!history) {
      if (requiredBump !== 'patch') notChecked(state, 'versioning', name, `the change is ${verdict}: whether ${version} is a big enough bump (${requiredBump}) over the previous version was not checked: needs --registry.`);
    } else if (latest && bump !== 'initial' && !satisfiesBump(bump, requiredBump)) {
      const suggested = suggestVersion(latest.version, requiredBump);
      const also: string[] = [];
      if (broken.length > 0) also.push(`it breaks registered operations (${broken.join(', ')}), which even a new major version may not do`);
      if (refusedRemovals.length > 0) also.push(`removals need a deprecation period first (${removalText(refusedRemovals)})`);
      add(state, {
        code: GraftErrorCode.PUBLISH_REJECTED,
        extension: name,
        step: 'versioning',
        message:
          `Version ${version} of "${name}" is a ${bump} bump over ${latest.version}, but the change is ${verdict} (${summarizeChanges(summary, ['breaking', 'dangerous'])}). ` +
          `Publish ${suggested} (${describeBump(latest.version, requiredBump)}) instead.${also.length > 0 ? ` Note that ${also.join('; and ')}.` : ''}`,
        details: details('semver', { bump, requiredBump, suggestedVersion: suggested, removals }),
      });
    }

    // registered operations: a release breaks them as a whole; each member whose changes break something answers.
    if (broken.length > 0 && !force && (verdict === 'breaking' || state.names.length === 1)) {
      add(state, {
        code: GraftErrorCode.PUBLISH_REJECTED,
        extension: name,
        step: 'usage',
        message:
          `Version ${version} of "${name}" breaks ${broken.length} registered operation${broken.length === 1 ? '' : 's'} that frontends use: ` +
          `${check.affectedOperations.map((o) => `${o.name} (${o.errors[0] ?? 'no longer validates'})`).join('; ')}. ` +
          `A registered operation may not break, even in a new major version: keep the schema compatible with it, get the frontend to change it first (then update or DELETE /admin/operations/<name>), ${FORCE_HINT}.`,
        details: details('registered-operations', { removals }),
      });
    }

    // deprecation
    const apiRemovals = changes.filter((c) => c.level === 'api' && ['FIELD_REMOVED', 'INPUT_FIELD_REMOVED', 'ENUM_VALUE_REMOVED'].includes(c.type));
    if (!history) {
      if (apiRemovals.length > 0) notChecked(state, 'deprecation', name, `whether ${[...new Set(apiRemovals.map((c) => c.path))].join(', ')} ${apiRemovals.length === 1 ? 'was' : 'were'} @deprecated for ${days} days first was not checked: needs --registry.`);
    } else if (refusedRemovals.length > 0 && !force) {
      add(state, {
        code: GraftErrorCode.DEPRECATION_REQUIRED,
        extension: name,
        step: 'deprecation',
        ...(refusedRemovals[0] ? { path: refusedRemovals[0].coordinate } : {}),
        message:
          `Version ${version} of "${name}" removes what must be @deprecated for ${days} days first: ${removalText(refusedRemovals)}. ` +
          `Publish a version that marks ${refusedRemovals.length === 1 ? 'it' : 'them'} @deprecated(reason: "..."), remove ${refusedRemovals.length === 1 ? 'it' : 'them'} once the period is over, ${FORCE_HINT}.`,
        details: details('deprecation', { deprecationDays: days, removals: refusedRemovals }),
      });
    }

    const forced = force ? { by: force.by, reason: force.reason, overrode: { removals: refusedRemovals, operations: broken } } : null;
    result.reports.set(name, {
      reportVersion: 1,
      previousVersion: latest?.version ?? null,
      bump,
      requiredBump,
      verdict,
      changes,
      affectedOperations: check.affectedOperations,
      operationsChecked: check.operationsChecked,
      removals,
      deprecations: newlyDeprecated(latest?.sdl, sdl),
      deprecationDays: days,
      forced,
      notes: check.notes,
    });
  }
};

/**
 * Resolver directives (gateway/directives, catalog.ts): unique names across extensions,
 * the module loads in the sandbox, breaking definition changes need a major version.
 * Collects the modules the proposed graph serves and the sources to store per member.
 */
const directivesStep: Step = async (state) => {
  const { input, result } = state;
  const leaving = new Set([...state.names, ...input.retire]);
  const others = input.active.filter((a) => !leaving.has(a.name));
  const served: DirectiveModule[] = others.flatMap((a) => (a.manifest ? modulesOfVersion({ extension: a.name, version: a.version, manifest: a.manifest, ...(a.directiveModules ? { directiveModules: a.directiveModules } : {}) }) : []));
  const declarationsOf = (manifest: ExtensionManifest | undefined): DirectiveDeclaration[] => manifest?.directives ?? [];
  for (const member of input.members) {
    const { manifest } = member;
    const { name } = manifest;
    const declarations = declarationsOf(manifest);
    const given = member.directiveModules ?? {};
    const sources: Record<string, string> = {};
    for (const { module } of declarations) if (typeof given[module] === 'string') sources[module] = given[module] as string;
    result.directives.sources.set(name, sources);
    if (member.known === 'version-only' || member.known === 'sdl-only') continue;
    if (!input.directives) {
      if (declarations.length > 0) notChecked(state, 'directives', name, 'resolver directives were not checked in the sandbox.');
      served.push(...modulesOfVersion({ extension: name, version: manifest.version, manifest, directiveModules: sources }));
      continue;
    }
    const previous = input.active.find((a) => a.name === name);
    const othersDeclarations = [
      ...others.map((o) => ({ extension: o.name, declarations: declarationsOf(o.manifest) })),
      ...input.members.filter((m) => m !== member).map((m) => ({ extension: m.manifest.name, declarations: declarationsOf(m.manifest) })),
    ];
    if (others.some((o) => !o.manifest)) notChecked(state, 'directives', name, 'directive names were not checked against the other extensions (their graft.json is not in a schema folder): needs --registry.');
    try {
      const checked = await input.directives.checkPublish({
        extension: name,
        version: manifest.version,
        declarations,
        sources: given,
        sdl: member.sdl,
        previous: previous?.manifest ? { version: previous.version, declarations: declarationsOf(previous.manifest) } : undefined,
        others: othersDeclarations,
      });
      served.push(...checked.modules);
      result.hints.push(...checked.hints);
    } catch (error) {
      add(state, findingOf('directives', name, error));
    }
  }
  if (input.directives) for (const member of input.members) result.hints.push(...input.directives.linkHints(member.sdl, served));
  result.directives.served = served;
};

/**
 * The operator's schema lint policy (gateway/lint) on each member's SDL: `error` findings
 * refuse with LINT_FAILED, `warn` ones are reported; each names its schema coordinate.
 */
const lintStep: Step = async (state) => {
  const { lint } = state.input;
  for (const { manifest, sdl } of state.input.members) {
    if (lint === undefined) {
      notChecked(state, 'lint', manifest.name, "the gateway's schema lint policy was not applied: needs --registry (it is in the gateway's config).");
      continue;
    }
    if (!lintEnabled(lint)) continue;
    for (const finding of lintSubgraph(sdl, lint)) {
      add(state, {
        code: GraftErrorCode.LINT_FAILED,
        severity: finding.severity === 'error' ? 'error' : 'warning',
        extension: manifest.name,
        step: 'lint',
        path: finding.path,
        message: finding.message,
        details: { rule: finding.rule },
      });
    }
  }
};

const STEPS: ReadonlyArray<{ name: StepName | 'versioning'; run: Step; after?: StepName }> = [
  { name: 'manifest', run: manifestStep },
  { name: 'grants', run: grantsStep },
  { name: 'network', run: networkStep },
  { name: 'version-order', run: versionOrderStep },
  { name: 'composition', run: compositionStep },
  { name: 'schema-check', run: schemaCheckStep },
  { name: 'usage', run: usageStep },
  { name: 'versioning', run: versioningSteps },
  { name: 'directives', run: directivesStep },
  { name: 'lint', run: lintStep },
];

/**
 * Runs every step over a proposed release and returns all they found: publish refuses when
 * there is an error finding and stores the rest; `graft check` prints it. Steps after a
 * malformed manifest or SDL do not run (they would only repeat it).
 */
export async function runPipeline(input: PipelineInput): Promise<PipelineResult> {
  const names = input.members.map((m) => m.manifest.name);
  const leaving = new Set([...names, ...input.retire]);
  const proposed = [
    ...input.active.filter((a) => !leaving.has(a.name)).map((a) => ({ name: a.name, url: a.url, sdl: a.sdl })),
    ...input.members.map((m) => ({ name: m.manifest.name, url: m.manifest.subgraph.url, sdl: m.sdl })),
  ];
  const state: PipelineState = {
    input,
    names,
    result: { findings: [], notChecked: [], proposed, reports: new Map(), directives: { served: [], sources: new Map() }, hints: [] },
  };
  for (const step of STEPS) {
    await step.run(state);
    if (step.name === 'manifest' && erred(state, 'manifest')) break;
  }
  return state.result;
}

/** The error findings, in step order (the first is what a refusal of one is about). */
export function errorsOf(result: Pick<PipelineResult, 'findings'>): Finding[] {
  const order = (f: Finding) => PIPELINE_STEPS.indexOf(f.step);
  return result.findings.filter((f) => f.severity === 'error').sort((a, b) => order(a) - order(b));
}

/**
 * The refusal publish answers with: the first error's code (its HTTP status), a message
 * that lists every finding of every member, each naming its extension, and in `details`
 * the first finding's details (what a publish of one always answered) plus `findings`.
 */
export function refusalOf(errors: readonly Finding[]): GraftError {
  const [first] = errors;
  if (!first) throw new Error('refusalOf needs at least one error finding');
  const extensions = [...new Set(errors.map((e) => e.extension))];
  const compositionErrors = errors.flatMap((e) => (e.code === GraftErrorCode.COMPOSITION_FAILED ? ((e.details?.['compositionErrors'] as CompositionProblem[] | undefined) ?? []) : []));
  const uniqueCompositionErrors = [...new Map(compositionErrors.map((e) => [`${e.code} ${e.message}`, e])).values()];
  const message =
    errors.length === 1
      ? first.code === GraftErrorCode.COMPOSITION_FAILED
        ? `${first.message.split(':')[0]}; nothing was changed and the current supergraph keeps serving. Fix these errors:\n${uniqueCompositionErrors.map((e) => `${e.code}: ${e.message}`).join('\n')}`
        : first.message
      : `Nothing was stored: ${errors.length} problems in ${extensions.map((e) => `"${e}"`).join(', ')}; the current supergraph keeps serving.\n${errors.map((e) => `- [${e.extension}] ${e.code}: ${e.message}`).join('\n')}`;
  return new GraftError(first.code, message, {
    ...(extensions.length === 1 && first.extension !== '' ? { extension: first.extension } : {}),
    details: {
      ...first.details,
      ...(uniqueCompositionErrors.length > 0 ? { compositionErrors: uniqueCompositionErrors } : {}),
      findings: errors.map(({ code, severity, extension, step, path, message: text }) => ({ code, severity, extension, step, ...(path ? { path } : {}), message: text })),
    },
  });
}
