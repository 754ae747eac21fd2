// The Guild's federation-gateway-audit run against Graft (`npm run audit:federation`): what
// the harness (bench/federation-audit.ts) and the gateway recipe (recipe.ts, exec'd by the
// audit's runner once per suite) share. Pure: naming, the release body, and the verdict
// drawn from the runner's results and the answers the recipe recorded.

/** One subgraph of a suite, as `GET /<suite>/subgraphs` on the audit's server lists it. */
export interface AuditSubgraph {
  name: string;
  url: string;
  sdl: string;
}

/** One test of a suite, as `GET /<suite>/tests` lists it. `errors` absent: errors are not compared. */
export interface AuditTest {
  query: string;
  expected: { data?: unknown; errors?: boolean };
}

/** What the recipe wrote about loading a suite into Graft. */
export interface SuiteLoad {
  suite: string;
  loaded: boolean;
  /** The release (its supergraph id and members) or the refusal (status, code, message). */
  detail: string;
  /** Subgraph name → extension name, where they differ. */
  renamed: Record<string, string>;
}

/** One POST /graphql the runner sent through the recipe's pass-through, with Graft's answer. */
export interface RecordedAnswer {
  query: string;
  operationName: string | null;
  status: number;
  body: { data?: unknown; errors?: Array<{ message?: string; extensions?: { code?: unknown } }> } | null;
}

/** The score Apollo Gateway 2.14 reaches on the same machine (RUNNING-HERE.md): Graft must not do worse. */
export const AUDIT_SCORE_GOAL = 193;

/** The readiness probe the runner sends before a suite (cli.ts waitOnGraphQL): not a test. */
export const RUNNER_PING_OPERATION = 'ping';

const EXTENSION_NAME = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The extension name for an audit subgraph name. Extension names are DNS labels
 * (schema/manifest.schema.json) and become the subgraph names of the supergraph: a valid
 * name is kept as it is (all 46 suites today); otherwise lower-cased, every other character
 * turned into '-', prefixed with 'x-' unless it starts with a letter, cut to 63 characters.
 */
export function extensionNameFor(subgraphName: string): string {
  if (EXTENSION_NAME.test(subgraphName)) return subgraphName;
  let name = subgraphName.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  if (!/^[a-z]/.test(name)) name = `x-${name}`;
  name = name.slice(0, 63).replace(/-+$/, '');
  return name.length > 0 ? name : 'x';
}

/** Extension names for all subgraphs of a suite, distinct even when two map to the same name. */
export function extensionNames(subgraphs: readonly AuditSubgraph[]): Map<string, string> {
  const names = new Map<string, string>();
  const taken = new Set<string>();
  for (const { name } of subgraphs) {
    const base = extensionNameFor(name);
    let candidate = base;
    for (let n = 2; taken.has(candidate); n += 1) candidate = `${base.slice(0, 60)}-${n}`;
    taken.add(candidate);
    names.set(name, candidate);
  }
  return names;
}

/** The body of `POST /admin/releases`: every subgraph of the suite, published together. */
export function releaseBody(suite: string, subgraphs: readonly AuditSubgraph[]) {
  const names = extensionNames(subgraphs);
  return {
    reason: `federation-gateway-audit suite ${suite}`,
    extensions: subgraphs.map((subgraph) => {
      const name = names.get(subgraph.name)!;
      return {
        manifest: {
          name,
          version: '1.0.0',
          owner: 'federation-gateway-audit',
          description: `Subgraph "${subgraph.name}" of the audit suite ${suite}.`,
          subgraph: { url: subgraph.url, schema: `./${name}.graphql` },
        },
        sdl: subgraph.sdl,
      };
    }),
  };
}

/** The runner's results.txt: suite id lines, each followed by one '.' (pass) or 'X' (fail) per test. */
export function parseRunnerResults(text: string): Map<string, boolean[]> {
  const lines = text.split('\n');
  const end = lines.indexOf('---');
  const body = (end === -1 ? lines : lines.slice(0, end)).map((line) => line.trim());
  const results = new Map<string, boolean[]>();
  for (let i = 0; i < body.length; i += 1) {
    const suite = body[i]!;
    if (suite === '' || /^[.X]+$/.test(suite)) continue;
    const marks = body[i + 1] ?? '';
    // A suite whose test file could not run at all has an empty line of marks.
    const outcomes = /^[.X]*$/.test(marks) ? [...marks].map((mark) => mark === '.') : [];
    if (/^[.X]*$/.test(marks)) i += 1;
    results.set(suite, outcomes);
  }
  return results;
}

export type TestFlag =
  /** Passed, yet the answer carried errors where the expected answer has data and no errors. */
  | 'error-answer-where-data-expected'
  /** Passed on an expected error, but the error was one of Graft's own refusals, not the graph's. */
  | 'graft-refusal-as-expected-error';

export interface TestReport {
  index: number;
  passed: boolean;
  query: string;
  expected: AuditTest['expected'];
  /** Graft's answer as the runner received it, when the recipe recorded it. */
  received: RecordedAnswer | undefined;
  flags: TestFlag[];
}

export interface SuiteReport {
  suite: string;
  load: SuiteLoad | undefined;
  /** The runner reported an outcome for every test of the suite. */
  complete: boolean;
  tests: TestReport[];
}

/**
 * Codes Graft answers with on its own account (gateway/errors): edge policy, limits, cost, an
 * empty registry. A test that expects an error must not pass because of one of these.
 */
const GRAFT_REFUSAL_CODE = /^(NO_SUPERGRAPH|UNAUTHENTICATED|UNAUTHORIZED_FIELD_OR_TYPE|FORBIDDEN|COST_[A-Z_]+|QUERY_TOO_[A-Z_]+|TOO_MANY_[A-Z_]+|OPERATION_NOT_REGISTERED|EXTENSION_[A-Z_]+|RATE_LIMITED|PAYLOAD_TOO_LARGE)$/;

export function errorCodes(answer: RecordedAnswer | undefined): string[] {
  return (answer?.body?.errors ?? []).map((error) => String(error.extensions?.code ?? 'NO_CODE'));
}

function flagsOf(passed: boolean, expected: AuditTest['expected'], received: RecordedAnswer | undefined): TestFlag[] {
  if (!passed || !received) return [];
  const codes = errorCodes(received);
  if (codes.length === 0) return [];
  const flags: TestFlag[] = [];
  if (expected.errors !== true && expected.data !== undefined && expected.data !== null) flags.push('error-answer-where-data-expected');
  if (expected.errors === true && codes.some((code) => GRAFT_REFUSAL_CODE.test(code))) flags.push('graft-refusal-as-expected-error');
  return flags;
}

/**
 * Pairs the runner's outcome of each test with the answer Graft gave to it. The runner sends
 * the tests one after the other, in order, each once (its retries re-compare, they do not
 * re-send); the answer of test i is the i-th recorded one unless its query differs, then the
 * first unused one with the same query.
 */
export function judgeSuite(input: {
  suite: string;
  outcomes: readonly boolean[];
  tests: readonly AuditTest[];
  answers: readonly RecordedAnswer[];
  load: SuiteLoad | undefined;
}): SuiteReport {
  const answers = input.answers.filter((answer) => answer.operationName !== RUNNER_PING_OPERATION);
  const used = new Set<number>();
  // Without the suite's tests (the recipe failed before it read them) every outcome still counts.
  const known: AuditTest[] = [...input.tests];
  while (known.length < input.outcomes.length) known.push({ query: '(not recorded: the recipe did not read the suite\'s tests)', expected: {} });
  const tests = known.map((test, index): TestReport => {
    let at = index < answers.length && !used.has(index) && answers[index]!.query === test.query ? index : -1;
    if (at === -1) at = answers.findIndex((answer, i) => !used.has(i) && answer.query === test.query);
    if (at !== -1) used.add(at);
    const received = at === -1 ? undefined : answers[at];
    const passed = input.outcomes[index] === true;
    return { index, passed, query: test.query, expected: test.expected, received, flags: flagsOf(passed, test.expected, received) };
  });
  return { suite: input.suite, load: input.load, complete: input.tests.length > 0 && input.outcomes.length === input.tests.length, tests };
}

export interface AuditSummary {
  total: number;
  passed: number;
  failed: number;
  suites: number;
  /** Suites Graft could not load (no release, or the recipe never reported). */
  unloaded: string[];
  /** Suites whose runner results count fewer tests than the suite has (the runner could not run them). */
  incomplete: string[];
  flagged: Array<{ suite: string; index: number; flags: TestFlag[] }>;
}

export function summarize(reports: readonly SuiteReport[]): AuditSummary {
  const tests = reports.flatMap((report) => report.tests.map((test) => ({ suite: report.suite, test })));
  const passed = tests.filter(({ test }) => test.passed).length;
  return {
    total: tests.length,
    passed,
    failed: tests.length - passed,
    suites: reports.length,
    unloaded: reports.filter((report) => !report.load?.loaded).map((report) => report.suite),
    incomplete: reports.filter((report) => !report.complete).map((report) => report.suite),
    flagged: tests.filter(({ test }) => test.flags.length > 0).map(({ suite, test }) => ({ suite, index: test.index, flags: test.flags })),
  };
}

/** What keeps the audit from meeting its goals (issue 14); empty when it meets them all. */
export function goalFailures(summary: AuditSummary, scoreGoal = AUDIT_SCORE_GOAL): string[] {
  const failures: string[] = [];
  if (summary.passed < scoreGoal) failures.push(`score ${summary.passed}/${summary.total} is below the goal of ${scoreGoal}`);
  if (summary.unloaded.length > 0) failures.push(`suites Graft could not load: ${summary.unloaded.join(', ')}`);
  if (summary.incomplete.length > 0) failures.push(`suites the runner could not run in full: ${summary.incomplete.join(', ')}`);
  const fromErrors = summary.flagged.filter((entry) => entry.flags.includes('error-answer-where-data-expected'));
  if (fromErrors.length > 0) failures.push(`passes from an error answer where data was expected: ${fromErrors.map((e) => `${e.suite} #${e.index}`).join(', ')}`);
  const fromRefusals = summary.flagged.filter((entry) => entry.flags.includes('graft-refusal-as-expected-error'));
  if (fromRefusals.length > 0) failures.push(`passes from Graft's own refusal where the graph's error was expected: ${fromRefusals.map((e) => `${e.suite} #${e.index}`).join(', ')}`);
  return failures;
}

function oneLine(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function describeAnswer(answer: RecordedAnswer | undefined): string {
  if (!answer) return 'no answer recorded';
  const errors = answer.body?.errors ?? [];
  const data = answer.body?.data;
  const parts = [`HTTP ${answer.status}`, data === undefined || data === null ? 'data null' : `data ${oneLine(JSON.stringify(data), 200)}`];
  for (const error of errors.slice(0, 3)) parts.push(`error ${String(error.extensions?.code ?? 'NO_CODE')}: ${oneLine(error.message ?? '', 200)}`);
  if (errors.length > 3) parts.push(`and ${errors.length - 3} more errors`);
  return parts.join('; ');
}

/** bench/results/federation-audit.txt: the score, the goals, then every suite and every test. */
export function formatReport(input: { reports: readonly SuiteReport[]; summary: AuditSummary; seconds: number; node: string; graft: string }): string {
  const { reports, summary } = input;
  const failures = goalFailures(summary);
  const lines = [
    'federation-gateway-audit against Graft (npm run audit:federation)',
    `Graft ${input.graft}, Node ${input.node}; default settings (edge policy on, default limits and cost), each suite published as one release.`,
    `Score: ${summary.passed}/${summary.total} (${summary.failed} failed) over ${summary.suites} suites; goal >= ${AUDIT_SCORE_GOAL}, every suite loaded, no pass from an error answer.`,
    failures.length === 0 ? 'Goals: met.' : `Goals NOT met: ${failures.join('; ')}.`,
    `Audit run took ${Math.round(input.seconds)} s.`,
    '',
    'Per suite: pass marks as the audit runner prints them ("." pass, "X" fail), then each test that failed, carries a flag, or passed with errors in the answer.',
    '',
  ];
  for (const report of reports) {
    const marks = report.tests.map((test) => (test.passed ? '.' : 'X')).join('');
    const passed = report.tests.filter((test) => test.passed).length;
    lines.push(`${report.suite}  ${passed}/${report.tests.length}  ${marks}`);
    lines.push(`  load: ${report.load ? `${report.load.loaded ? 'loaded' : 'NOT LOADED'}, ${report.load.detail}` : 'NOT LOADED, the recipe reported nothing'}`);
    if (report.load && Object.keys(report.load.renamed).length > 0) {
      lines.push(`  renamed: ${Object.entries(report.load.renamed).map(([from, to]) => `${from} -> ${to}`).join(', ')}`);
    }
    for (const test of report.tests) {
      // Passes are listed too when Graft's answer carried errors, so the reader sees which ones.
      if (test.passed && test.flags.length === 0 && errorCodes(test.received).length === 0) continue;
      const verdict = test.passed ? (test.flags.length > 0 ? `pass [${test.flags.join(', ')}]` : 'pass, with errors') : 'FAIL';
      lines.push(`  #${test.index} ${verdict}: ${oneLine(test.query, 200)}`);
      lines.push(`     expected: ${test.expected.data === undefined || test.expected.data === null ? 'data null' : `data ${oneLine(JSON.stringify(test.expected.data), 200)}`}${test.expected.errors === true ? '; errors' : test.expected.errors === false ? '; no errors' : ''}`);
      lines.push(`     received: ${describeAnswer(test.received)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
