// The schema check: the part of "Flow of one publish" (DESIGN.md) between parsing the SDL
// and the semver rule — compose, diff, usage check, verdict. Pure: it reads nothing and
// writes nothing, so `graft check` in CI and the admin API's publish run the same code.
import { composeServices } from '@apollo/composition';
import { buildSchema, printSchema, type GraphQLSchema } from 'graphql';
import { composeSubgraphs, parseSubgraphSdl, type CompositionProblem, type SubgraphInput } from '../composition/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { diffApiSchemas, diffSubgraph, mostSevere } from './diff.js';
import { checkOperations, parseOperations } from './operations.js';
import type { SchemaChange, SchemaCheckInput, SchemaCheckReport, Verdict } from './types.js';

/** The subgraph set after a change: `replace` entries replace or add by name, `remove` names leave. */
export function applySubgraphChanges(
  base: readonly SubgraphInput[],
  change: { replace?: readonly SubgraphInput[]; remove?: readonly string[] },
): SubgraphInput[] {
  const byName = new Map(base.map((s) => [s.name, s]));
  for (const name of change.remove ?? []) {
    if (!byName.delete(name)) {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `Cannot remove subgraph "${name}": the base has no such subgraph (it has ${[...byName.keys()].join(', ') || 'none'}).`);
    }
  }
  for (const subgraph of change.replace ?? []) byName.set(subgraph.name, subgraph);
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Names of the subgraphs added, removed or with a different SDL between two subgraph sets. */
export function changedSubgraphNames(base: readonly SubgraphInput[], proposed: readonly SubgraphInput[]): string[] {
  const before = new Map(base.map((s) => [s.name, s.sdl]));
  const after = new Map(proposed.map((s) => [s.name, s.sdl]));
  return [...new Set([...before.keys(), ...after.keys()])].filter((name) => before.get(name) !== after.get(name)).sort();
}

/** The most severe of: a composition error, then the changes' criticalities, with a broken operation counting as breaking. */
export function verdictOf(report: Pick<SchemaCheckReport, 'compositionErrors' | 'changes' | 'affectedOperations'>): Verdict {
  if (report.compositionErrors.length > 0) return 'composition-error';
  return mostSevere([...report.changes.map((c) => c.criticality), ...(report.affectedOperations.length > 0 ? (['breaking'] as const) : [])]);
}

type BaseGraph = { ok: true; api: GraphQLSchema } | { ok: false; errors: CompositionProblem[] };

/**
 * The base graph's API schema. The base is the live graph, which passed the satisfiability
 * validation when it was published, and the check needs nothing from it but its API schema:
 * so it is merged without that validation (about half of composition's time). Should the
 * merge fail, composeSubgraphs runs in full for errors described like the proposed graph's.
 */
function composeBase(base: readonly SubgraphInput[]): BaseGraph {
  const services = base.map((s) => ({ name: s.name, url: s.url, typeDefs: parseSubgraphSdl(s.name, s.sdl) }));
  const merged = composeServices(services, { runSatisfiability: false });
  // Printed and rebuilt exactly as composeSubgraphs does for the proposed graph: the two API
  // schemas must carry the same directive applications, or the diff would report phantom ones.
  if (!merged.errors) return { ok: true, api: buildSchema(printSchema(merged.schema.toAPISchema().toGraphQLJSSchema())) };
  const full = composeSubgraphs(base);
  return full.ok ? { ok: true, api: buildSchema(full.apiSdl) } : full;
}

/**
 * Checks a proposed change to the graph against the current one:
 * - composes both with @apollo/composition (composition errors of the proposed graph are the
 *   verdict "composition-error"; the base skips the satisfiability validation, see composeBase);
 * - diffs each changed subgraph's own SDL (level "subgraph") and the composed API schema
 *   (level "api"), each change classified breaking / dangerous / safe by Graft's rule table;
 * - validates the operations against both API schemas and names those the change breaks;
 * - returns the verdict: the most severe of all that.
 * Asynchronous only because @graphql-inspector/core's diff is; it does no I/O. Throws
 * GraftError SDL_INVALID for an SDL that does not parse and BAD_REQUEST for an operation
 * document that does not parse: those are bad input, not check results.
 */
export async function runSchemaCheck(input: SchemaCheckInput): Promise<SchemaCheckReport> {
  const notes: string[] = [];
  const changedSubgraphs = [...new Set(input.changedSubgraphs ?? changedSubgraphNames(input.base, input.proposed))].sort();
  const operations = parseOperations(input.operations ?? []);

  const baseOutcome: BaseGraph | undefined =
    input.base.length === 0 ? undefined : input.baseApiSdl !== undefined ? { ok: true, api: buildSchema(input.baseApiSdl) } : composeBase(input.base);
  const proposedOutcome = input.proposedComposition ?? composeSubgraphs(input.proposed);
  const baseApi = baseOutcome?.ok ? baseOutcome.api : undefined;
  const proposedApi = proposedOutcome.ok ? buildSchema(proposedOutcome.apiSdl) : undefined;

  if (!baseOutcome) notes.push('The base has no subgraph (a first publish): there is no API schema to diff against.');
  else if (!baseOutcome.ok) notes.push('The base does not compose (see baseCompositionErrors): no API diff; operations are judged against the proposed graph alone.');
  if (!proposedOutcome.ok) notes.push('The proposed graph does not compose: no API diff and no operation check until the composition errors are fixed.');

  const apiChanges = baseApi && proposedApi ? await diffApiSchemas(baseApi, proposedApi) : undefined;

  const subgraphChanges: SchemaChange[] = [];
  for (const name of changedSubgraphs) {
    try {
      subgraphChanges.push(
        ...(await diffSubgraph({
          name,
          oldSdl: input.base.find((s) => s.name === name)?.sdl,
          newSdl: input.proposed.find((s) => s.name === name)?.sdl,
          apiChanges,
        })),
      );
    } catch (error) {
      // An SDL that parses but is not a valid subgraph; composition says why, so the
      // check still has its answer. A parse error stays bad input.
      if (error instanceof GraftError) throw error;
      const explained = !proposedOutcome.ok && proposedOutcome.errors.some((e) => e.subgraphs.includes(name));
      notes.push(
        explained
          ? `Subgraph "${name}" is not a valid subgraph (see the composition errors), so it was not diffed on its own.`
          : `Subgraph "${name}" could not be diffed on its own: ${(error as Error).message.split('\n')[0]}`,
      );
    }
  }

  const impact = proposedApi ? checkOperations(operations, baseApi, proposedApi) : { affected: [], failingOnBase: [] };
  if (!proposedApi && operations.length > 0) notes.push(`${operations.length} operations were not checked: the proposed graph does not compose.`);

  const report: SchemaCheckReport = {
    verdict: 'safe',
    changes: [...subgraphChanges, ...(apiChanges ?? [])],
    compositionErrors: proposedOutcome.ok ? [] : proposedOutcome.errors,
    affectedOperations: impact.affected,
    operationsFailingOnBase: impact.failingOnBase,
    baseCompositionErrors: baseOutcome && !baseOutcome.ok ? baseOutcome.errors : [],
    changedSubgraphs,
    operationsChecked: proposedApi ? operations.length : 0,
    notes,
  };
  report.verdict = verdictOf(report);
  return report;
}
