// Request batching toward one extension. @apollo/gateway's query planner sends one HTTP
// request per fetch node: The Guild's nested benchmark query makes 16 subgraph requests,
// several of them to the same subgraph at the same moment (parallel branches of the plan).
// Fetches that one client operation starts in the same turn of the event loop, to the same
// extension, are sent as ONE GraphQL operation: each part's root fields are aliased with a
// `_b<i>_` prefix, its variables and fragments renamed the same way, and the answer is split
// back into one response per part. Hive Gateway batches the same way (7 requests for that
// query); the subgraph sees a plain, valid GraphQL query.
//
// Only queries are batched (a mutation's root fields run in order and must not move), only
// within one client operation (the parts share the principal, the scoped token and the cost
// budget), and only when the answer can be split exactly; otherwise the caller sends the
// parts one by one, as without batching.
import {
  Kind,
  parse,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLFormattedError,
  type OperationDefinitionNode,
  type VariableDefinitionNode,
} from 'graphql';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';

/** One fetch as @apollo/gateway hands it to a data source. */
export interface BatchPart {
  query: string;
  variables?: Record<string, unknown> | undefined;
  operationName?: string | undefined;
}

/** Several parts as one operation, and how to split its answer. */
export interface BatchedOperation {
  query: string;
  operationName: string;
  variables: Record<string, unknown>;
  /**
   * One response per part, in order; undefined when the answer cannot be split exactly
   * (no data, a part's root field missing): the caller then sends the parts one by one.
   */
  split(response: GatewayGraphQLResponse): GatewayGraphQLResponse[] | undefined;
}

/** What one part's query looks like, parsed once per distinct query string. */
interface PartShape {
  operation: OperationDefinitionNode;
  fragments: FragmentDefinitionNode[];
  /** Response keys of the root fields, in order. */
  rootKeys: string[];
}

const prefixOf = (index: number) => `_b${index}_`;

/**
 * A bounded memo: the distinct subgraph queries are those of the cached query plans, so a few
 * hundred entries cover a real graph; past the bound the oldest entry goes.
 */
class Memo<V> {
  readonly #entries = new Map<string, V>();
  constructor(readonly max: number) {}

  get(key: string, make: () => V): V {
    let value = this.#entries.get(key);
    if (value === undefined && !this.#entries.has(key)) {
      value = make();
      if (this.#entries.size >= this.max) this.#entries.delete(this.#entries.keys().next().value as string);
      this.#entries.set(key, value);
    }
    return value as V;
  }
}

const shapes = new Memo<PartShape | null>(1000);
const mergedQueries = new Memo<{ query: string; operationName: string }>(1000);

/** The part's shape, or null when it cannot be batched (not a single query, fragments at the root). */
function shapeOf(query: string): PartShape | null {
  return shapes.get(query, () => {
    let document: DocumentNode;
    try {
      document = parse(query, { noLocation: true });
    } catch {
      return null;
    }
    const operations = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
    const fragments = document.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
    if (operations.length !== 1 || fragments.length + operations.length !== document.definitions.length) return null;
    const operation = operations[0]!;
    // Operation-level directives would apply to every part once merged: not batched.
    if (operation.operation !== 'query' || (operation.directives?.length ?? 0) > 0) return null;
    const rootKeys: string[] = [];
    for (const selection of operation.selectionSet.selections) {
      // Root fragments would need their fields aliased inside them: rare in plans, not batched.
      if (selection.kind !== Kind.FIELD) return null;
      rootKeys.push((selection.alias ?? selection.name).value);
    }
    return { operation, fragments, rootKeys };
  });
}

/** True when the query can be part of a batch (a single query operation with plain root fields). */
export function isBatchable(query: string | undefined): boolean {
  return query !== undefined && shapeOf(query) !== null;
}

/** Renames a part's variables, fragments and root response keys with its prefix. */
function prefixed(shape: PartShape, prefix: string): { operation: OperationDefinitionNode; fragments: FragmentDefinitionNode[] } {
  // On leave, so that the replacement is not visited again.
  const rename = { leave: (node: { name: { value: string } }) => ({ ...node, name: { ...node.name, value: prefix + node.name.value } }) };
  const renamer = { [Kind.VARIABLE]: rename, [Kind.FRAGMENT_SPREAD]: rename };
  const operation = visit(shape.operation, renamer) as OperationDefinitionNode;
  const selections = operation.selectionSet.selections.map((selection) => {
    const field = selection as FieldNode;
    return { ...field, alias: { kind: Kind.NAME, value: prefix + (field.alias ?? field.name).value } } satisfies FieldNode;
  });
  const fragments = shape.fragments.map((fragment) => {
    const renamed = visit(fragment, renamer) as FragmentDefinitionNode;
    return { ...renamed, name: { ...renamed.name, value: prefix + renamed.name.value } };
  });
  return { operation: { ...operation, selectionSet: { ...operation.selectionSet, selections } }, fragments };
}

/**
 * Merges the parts into one operation, or returns undefined when one of them cannot be
 * batched. The merged text is memoized by the parts' texts (plans repeat); only the
 * variables are built per call.
 */
export function mergeParts(parts: readonly BatchPart[]): BatchedOperation | undefined {
  const partShapes: PartShape[] = [];
  for (const part of parts) {
    const shape = shapeOf(part.query);
    if (!shape) return undefined;
    partShapes.push(shape);
  }
  const { query, operationName } = mergedQueries.get(parts.map((p) => p.query).join('\u0000'), () => {
    const variableDefinitions: VariableDefinitionNode[] = [];
    const selections: FieldNode[] = [];
    const fragments: FragmentDefinitionNode[] = [];
    partShapes.forEach((shape, index) => {
      const renamed = prefixed(shape, prefixOf(index));
      variableDefinitions.push(...(renamed.operation.variableDefinitions ?? []));
      selections.push(...(renamed.operation.selectionSet.selections as FieldNode[]));
      fragments.push(...renamed.fragments);
    });
    const first = partShapes[0]!.operation.name?.value ?? 'Graft';
    const name = `${first}__batch_${parts.length}`;
    const document: DocumentNode = {
      kind: Kind.DOCUMENT,
      definitions: [
        {
          kind: Kind.OPERATION_DEFINITION,
          operation: 'query' as OperationDefinitionNode['operation'],
          name: { kind: Kind.NAME, value: name },
          variableDefinitions,
          directives: [],
          selectionSet: { kind: Kind.SELECTION_SET, selections },
        },
        ...fragments,
      ],
    };
    return { query: print(document), operationName: name };
  });

  const variables: Record<string, unknown> = {};
  parts.forEach((part, index) => {
    const prefix = prefixOf(index);
    for (const [name, value] of Object.entries(part.variables ?? {})) variables[prefix + name] = value;
  });

  return {
    query,
    operationName,
    variables,
    split(response) {
      const data = response.data;
      if (data === null || typeof data !== 'object') return undefined;
      const results: Array<GatewayGraphQLResponse & { errors?: GraphQLFormattedError[] }> = [];
      for (const [index, shape] of partShapes.entries()) {
        const prefix = prefixOf(index);
        const partData: Record<string, unknown> = {};
        for (const key of shape.rootKeys) {
          if (!(prefix + key in data)) return undefined;
          partData[key] = (data as Record<string, unknown>)[prefix + key];
        }
        results.push({ data: partData });
      }
      for (const error of response.errors ?? []) {
        const head = error.path?.[0];
        const owner = typeof head === 'string' && head.startsWith('_b') ? Number(head.slice(2, head.indexOf('_', 2))) : NaN;
        if (Number.isInteger(owner) && owner >= 0 && owner < results.length) {
          const key = (head as string).slice(prefixOf(owner).length);
          (results[owner]!.errors ??= []).push({ ...error, path: [key, ...error.path!.slice(1)] });
        } else {
          // An error about the request as a whole (no path): reported once, with the first part.
          (results[0]!.errors ??= []).push(error);
        }
      }
      if (response.extensions) results[0]!.extensions = response.extensions;
      return results;
    },
  };
}
