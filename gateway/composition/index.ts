// Composition: turns the active extensions' subgraph SDLs into one supergraph with
// @apollo/composition, and derives what the gateway and the checks need from it.
import { createHash } from 'node:crypto';
import { composeServices } from '@apollo/composition';
import { GraphQLError, parse, printSchema, type DocumentNode } from 'graphql';
import { GraftError, GraftErrorCode } from '../errors/index.js';

export interface SubgraphInput {
  name: string;
  url: string;
  sdl: string;
}

export interface CompositionProblem {
  /** The composition error code of @apollo/composition, e.g. FIELD_TYPE_MISMATCH. */
  code: string;
  message: string;
  /** Subgraphs (extension names) involved. */
  subgraphs: string[];
  /** Schema coordinates named by the error, e.g. ["Customer.email"]. */
  coordinates: string[];
}

export interface ComposedSupergraph {
  supergraphSdl: string;
  /** The API schema frontends see (the contract checked for breaking changes). */
  apiSdl: string;
  hints: string[];
}

export type CompositionOutcome =
  | ({ ok: true } & ComposedSupergraph)
  | { ok: false; errors: CompositionProblem[] };

/** Parses one subgraph's SDL; a syntax error becomes SDL_INVALID naming the extension and the location. */
export function parseSubgraphSdl(name: string, sdl: string): DocumentNode {
  try {
    return parse(sdl, { noLocation: false });
  } catch (error) {
    const location = error instanceof GraphQLError && error.locations?.[0];
    const where = location ? ` at line ${location.line}, column ${location.column}` : '';
    throw new GraftError(
      GraftErrorCode.SDL_INVALID,
      `The SDL of extension "${name}" does not parse${where}: ${(error as Error).message.replace(/^Syntax Error: /, '')}. Fix the schema file and publish again.`,
      { extension: name, details: { ...(location ? { line: location.line, column: location.column } : {}) } },
    );
  }
}

const COORDINATE = /"([_A-Za-z][_0-9A-Za-z]*(?:\.[_A-Za-z][_0-9A-Za-z]*(?:\([^)]*\))?)?)"/g;

function describeProblem(error: GraphQLError, names: readonly string[]): CompositionProblem {
  const fromNodes = (error.nodes ?? [])
    .map((node) => (node as { subgraph?: unknown }).subgraph)
    .filter((s): s is string => typeof s === 'string');
  // Not every composition error carries subgraph-aware nodes; the message always names them.
  const fromMessage = names.filter((name) => error.message.includes(`"${name}"`) || error.message.startsWith(`[${name}]`));
  const subgraphs = [...new Set([...fromNodes, ...fromMessage])].sort();
  const coordinates = [...error.message.matchAll(COORDINATE)]
    .map((m) => m[1] ?? '')
    .filter((c) => c.includes('.') && !names.includes(c));
  return {
    code: typeof error.extensions['code'] === 'string' ? error.extensions['code'] : 'COMPOSITION_ERROR',
    message: error.message,
    subgraphs,
    coordinates: [...new Set(coordinates)],
  };
}

/** Composes subgraphs into a supergraph. Never throws for composition errors: they are data. */
export function composeSubgraphs(subgraphs: readonly SubgraphInput[]): CompositionOutcome {
  const names = subgraphs.map((s) => s.name);
  if (subgraphs.length === 0) {
    return {
      ok: false,
      errors: [{ code: 'NO_SUBGRAPHS', message: 'There is no active subgraph to compose.', subgraphs: [], coordinates: [] }],
    };
  }
  const services = subgraphs.map((s) => ({ name: s.name, url: s.url, typeDefs: parseSubgraphSdl(s.name, s.sdl) }));
  const result = composeServices(services);
  if (result.errors) {
    return { ok: false, errors: result.errors.map((e) => describeProblem(e, names)) };
  }
  return {
    ok: true,
    supergraphSdl: result.supergraphSdl,
    apiSdl: printSchema(result.schema.toAPISchema().toGraphQLJSSchema()),
    hints: result.hints.map((h) => h.toString()),
  };
}

/** Like composeSubgraphs, but a failure throws COMPOSITION_FAILED with every problem. */
export function composeOrThrow(subgraphs: readonly SubgraphInput[], culprit?: string): ComposedSupergraph {
  const outcome = composeSubgraphs(subgraphs);
  if (outcome.ok) return outcome;
  const summary = outcome.errors.map((e) => `${e.code}: ${e.message}`).join('\n');
  throw new GraftError(
    GraftErrorCode.COMPOSITION_FAILED,
    `${culprit ? `Extension "${culprit}" does not compose with the active extensions` : 'The subgraphs do not compose'}; nothing was changed and the current supergraph keeps serving. Fix these errors:\n${summary}`,
    { details: { compositionErrors: outcome.errors }, ...(culprit ? { extension: culprit } : {}) },
  );
}

export function supergraphHash(sdl: string): string {
  return createHash('sha256').update(sdl).digest('hex');
}

/**
 * @apollo/gateway 2.x refuses a supergraph that links authenticated, requiresScopes or
 * policy "for: SECURITY" (UNSUPPORTED_LINKED_FEATURE): enforcing them is Graft's job
 * (gateway/policy). The gateway gets a copy without that purpose; the stored supergraph
 * keeps it, and Graft reads the directives from there.
 */
const SECURITY_LINK = /(@link\(url: "https:\/\/specs\.apollo\.dev\/(?:authenticated|requiresScopes|policy)\/v[0-9.]+"(?:, import: \[[^\]]*\])?), for: SECURITY\)/g;

export function gatewayCompatibleSupergraph(supergraphSdl: string): string {
  return supergraphSdl.replace(SECURITY_LINK, '$1)');
}

export { extractFieldOwnership, type FieldOwnership } from './ownership.js';
