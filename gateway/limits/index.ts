// Query limits beside the cost budget: how deep, how many aliases, root fields and
// directives an operation may have, and how many tokens its document may have.
//
// Semantics follow Apollo Router's operation limits (docs: routing/security/request-limits):
// fragments are transparent (their fields count where they are spread, once per spread),
// depth counts fields only, every use of a root field counts. The token limit is graphql-js's
// own parser limit, so an oversized document is refused while it is being parsed, before it
// costs a full parse and validation.
//
// Why not graphql-armor (max-depth 2.4.2, max-aliases 2.6.2, max-directives 2.3.1,
// max-tokens 2.5.1, read from their published dist): its rules do plug into Apollo Server
// as validation rules, but by default they throw a GraphQLError with no extensions.code
// ("Syntax Error: Query depth limit of 6 exceeded, found 7."), and max-depth counts a
// fragment spread as extra levels, so moving fields into a fragment makes a query "deeper".
// Its Apollo max-tokens protection parses every document a second time in a parsingDidStart
// plugin; graphql-js 16 has the limit built into the one real parse (maxLexicalTokens).
// Its defaults are cited below.
import {
  GraphQLError,
  Kind,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type ParseOptions,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { type QueryLimits } from '../config/index.js';
import { isIncluded } from '../graphql/index.js';


export { DEFAULT_QUERY_LIMITS, type QueryLimits } from '../config/index.js';

/** The `extensions.code` of each refusal (to be added to GraftErrorCode). */
export const QueryLimitCode = {
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  TOO_MANY_ROOT_FIELDS: 'TOO_MANY_ROOT_FIELDS',
  TOO_MANY_TOKENS: 'TOO_MANY_TOKENS',
  TOO_MANY_DIRECTIVES: 'TOO_MANY_DIRECTIVES',
} as const;
export type QueryLimitCode = (typeof QueryLimitCode)[keyof typeof QueryLimitCode];

/** A refused operation. `extensions` carries `code`, `limit` and `found`. */
export class QueryLimitError extends GraphQLError {
  readonly code: QueryLimitCode;
  constructor(code: QueryLimitCode, message: string, details: { limit: number; found?: number; node?: OperationDefinitionNode }) {
    super(message, {
      ...(details.node ? { nodes: [details.node] } : {}),
      extensions: { code, limit: details.limit, ...(details.found === undefined ? {} : { found: details.found }) },
    });
    this.name = 'QueryLimitError';
    this.code = code;
  }
}

/** What the limits measure in one operation. */
export interface OperationShape {
  depth: number;
  aliases: number;
  rootFields: number;
  directives: number;
}

/** Validation rules enforcing the limits; pass them to `new ApolloServer({ validationRules })`. */
export function queryLimitValidationRules(limits: QueryLimits): ValidationRule[] {
  checkLimits(limits);
  const frozen = Object.freeze({ ...limits });
  return [(context) => queryLimitsVisitor(context, frozen)];
}

/**
 * Parse options enforcing `maxTokens` while parsing: pass them to
 * `new ApolloServer({ parseOptions })`. Apollo Server reports the refusal as
 * GRAPHQL_PARSE_FAILED; `formatQueryLimitError` turns it into TOO_MANY_TOKENS.
 */
export function queryLimitParseOptions(limits: QueryLimits): ParseOptions {
  checkLimits(limits);
  return Object.freeze({ maxLexicalTokens: limits.maxTokens });
}

const TOKEN_LIMIT_REFUSAL = /Document contains more tha[nt] (\d+) tokens/;

/**
 * For Apollo Server's `formatError(formatted, error)`: gives limit refusals their own
 * code. Apollo Server wraps validation errors as GRAPHQL_VALIDATION_FAILED and parse errors
 * as GRAPHQL_PARSE_FAILED, overwriting the rule's extensions.code, but keeps the rule's error
 * as originalError. Returns every other error unchanged; chain it with the gateway's own.
 */
export function formatQueryLimitError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const refusal = findQueryLimitError(error);
  if (refusal) {
    return { ...formatted, message: refusal.message, extensions: { ...formatted.extensions, ...refusal.extensions, code: refusal.code } };
  }
  const tokens = TOKEN_LIMIT_REFUSAL.exec(formatted.message);
  if (tokens && formatted.extensions?.code === 'GRAPHQL_PARSE_FAILED') {
    const limit = Number(tokens[1]);
    return {
      ...formatted,
      message: tooManyTokensMessage(limit),
      extensions: { ...formatted.extensions, code: QueryLimitCode.TOO_MANY_TOKENS, limit },
    };
  }
  return formatted;
}

function tooManyTokensMessage(limit: number): string {
  return `The document has more than ${limit} tokens, the limit. Send a smaller document: remove unused fields and fragments, or split it into several operations.`;
}

/** Depth, aliases, root fields and directives of one operation, fragments expanded (each fragment measured once). */
export function measureOperation(operation: OperationDefinitionNode, fragment: (name: string) => FragmentDefinitionNode | undefined): OperationShape {
  const measurer = new ShapeMeasurer(fragment);
  const shape = measurer.measure(operation.selectionSet);
  return {
    depth: shape.depth,
    aliases: shape.aliases,
    rootFields: shape.fields,
    directives: shape.directives + (operation.directives?.length ?? 0) + countVariableDirectives(operation),
  };
}

function checkLimits(limits: QueryLimits): void {
  for (const [name, value] of Object.entries(limits)) {
    if (!(Number.isInteger(value) && value >= 1) && value !== Number.POSITIVE_INFINITY) {
      throw new RangeError(`Query limit ${name} must be a positive integer (or Infinity to turn it off), got ${String(value)}.`);
    }
  }
}

function queryLimitsVisitor(context: ValidationContext, limits: Readonly<QueryLimits>): ASTVisitor {
  // One measurer per validation: fragments spread by several operations are measured once.
  const measurer = new ShapeMeasurer((name) => context.getFragment(name) ?? undefined);
  return {
    OperationDefinition(operation) {
      const selection = measurer.measure(operation.selectionSet);
      const directives = selection.directives + (operation.directives?.length ?? 0) + countVariableDirectives(operation);
      const named = operation.name ? ` "${operation.name.value}"` : '';
      const refuse = (code: QueryLimitCode, limit: number, found: number, message: string): void =>
        context.reportError(new QueryLimitError(code, message, { limit, found, node: operation }));
      if (selection.depth > limits.maxDepth) {
        refuse(QueryLimitCode.QUERY_TOO_DEEP, limits.maxDepth, selection.depth,
          `The operation${named} nests fields ${selection.depth} levels deep; the limit is ${limits.maxDepth}. Select fewer nested levels, or fetch the deeper data with a separate operation.`);
      }
      if (selection.aliases > limits.maxAliases) {
        refuse(QueryLimitCode.TOO_MANY_ALIASES, limits.maxAliases, selection.aliases,
          `The operation${named} uses ${selection.aliases} aliases; the limit is ${limits.maxAliases}. Fetch a list with one field and its arguments instead of one alias per item, or split the operation.`);
      }
      if (selection.fields > limits.maxRootFields) {
        refuse(QueryLimitCode.TOO_MANY_ROOT_FIELDS, limits.maxRootFields, selection.fields,
          `The operation${named} selects ${selection.fields} root fields; the limit is ${limits.maxRootFields}. Split it into several operations.`);
      }
      if (directives > limits.maxDirectives) {
        refuse(QueryLimitCode.TOO_MANY_DIRECTIVES, limits.maxDirectives, directives,
          `The operation${named} uses ${directives} directives; the limit is ${limits.maxDirectives}. Put @skip/@include on a fragment instead of on each of its fields, or split the operation.`);
      }
      return false; // measured; this rule has nothing to do inside
    },
    FragmentDefinition: () => false, // measured where spread
  };
}

function countVariableDirectives(operation: OperationDefinitionNode): number {
  let count = 0;
  for (const definition of operation.variableDefinitions ?? []) count += definition.directives?.length ?? 0;
  return count;
}

interface SelectionShape {
  /** Deepest field below (1 for a selection set of leaves, 0 for an empty one). */
  readonly depth: number;
  readonly aliases: number;
  readonly directives: number;
  /** Fields at this level, through fragments: the root fields when this is the operation's set. */
  readonly fields: number;
}

const NOTHING: SelectionShape = Object.freeze({ depth: 0, aliases: 0, directives: 0, fields: 0 });

class ShapeMeasurer {
  private readonly fragmentShapes = new Map<string, SelectionShape>();
  private readonly inProgress = new Set<string>();

  constructor(private readonly fragment: (name: string) => FragmentDefinitionNode | undefined) {}

  measure(selectionSet: SelectionSetNode): SelectionShape {
    let depth = 0;
    let aliases = 0;
    let directives = 0;
    let fields = 0;
    for (const selection of selectionSet.selections) {
      directives += selection.directives?.length ?? 0;
      // Left out by a literal @skip/@include: never executed, so it adds no depth, alias or
      // field (its own directives were sent, and count). A condition on a variable counts as
      // included: validation is cached per document and never sees the variables.
      if (!isIncluded(selection)) continue;
      let inner: SelectionShape;
      if (selection.kind === Kind.FIELD) {
        fields++;
        if (selection.alias) aliases++;
        inner = selection.selectionSet ? this.measure(selection.selectionSet) : NOTHING;
        // __schema / __type: introspection's own depth rule bounds them (see DEFAULT_QUERY_LIMITS).
        const name = selection.name.value;
        const fieldDepth = name === '__schema' || name === '__type' ? 1 : 1 + inner.depth;
        if (fieldDepth > depth) depth = fieldDepth;
        aliases += inner.aliases;
        directives += inner.directives;
        continue;
      }
      inner = selection.kind === Kind.INLINE_FRAGMENT ? this.measure(selection.selectionSet) : this.spread(selection.name.value);
      if (inner.depth > depth) depth = inner.depth;
      aliases += inner.aliases;
      directives += inner.directives;
      fields += inner.fields;
    }
    return { depth, aliases, directives, fields };
  }

  /** A fragment's shape, directives on its definition included; unknown or cyclic spreads are other rules' errors. */
  private spread(name: string): SelectionShape {
    const known = this.fragmentShapes.get(name);
    if (known) return known;
    const definition = this.fragment(name);
    if (!definition || this.inProgress.has(name)) return NOTHING;
    this.inProgress.add(name);
    const body = this.measure(definition.selectionSet);
    this.inProgress.delete(name);
    const shape = { ...body, directives: body.directives + (definition.directives?.length ?? 0) };
    this.fragmentShapes.set(name, shape);
    return shape;
  }
}

function findQueryLimitError(error: unknown): QueryLimitError | undefined {
  let current: unknown = error;
  // Apollo Server's ValidationError keeps the rule's error as originalError; a few levels suffice.
  for (let level = 0; level < 4 && current instanceof Error; level++) {
    if (current instanceof QueryLimitError) return current;
    current = current instanceof GraphQLError ? current.originalError : current.cause;
  }
  return undefined;
}
