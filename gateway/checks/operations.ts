// Usage check: which client operations a schema change breaks. Each operation is validated
// (graphql-js `validate`, the spec's rules) against the base and the proposed API schema;
// only an operation valid before and invalid after is blamed on the change.
import {
  GraphQLError,
  Kind,
  parse,
  validate,
  visit,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { OperationDocument, OperationFailure } from './types.js';

export interface ParsedOperation {
  name: string;
  file: string;
  line: number;
  /** The operation with every fragment it uses, from any of the documents. */
  document: DocumentNode;
}

function fragmentsUsedBy(root: OperationDefinitionNode | FragmentDefinitionNode, pool: ReadonlyMap<string, FragmentDefinitionNode>): FragmentDefinitionNode[] {
  const used = new Map<string, FragmentDefinitionNode>();
  const pending: Array<OperationDefinitionNode | FragmentDefinitionNode> = [root];
  while (pending.length > 0) {
    visit(pending.pop()!, {
      FragmentSpread(node) {
        const fragment = pool.get(node.name.value);
        // An unknown fragment is left out: validation reports it against both schemas alike.
        if (fragment && !used.has(fragment.name.value)) {
          used.set(fragment.name.value, fragment);
          pending.push(fragment);
        }
      },
    });
  }
  return [...used.values()];
}

/**
 * Splits documents into operations. Fragments are shared across documents (a fragment
 * file used by several operation files is common). A document that does not parse is bad
 * input: BAD_REQUEST naming the file and position.
 */
export function parseOperations(documents: readonly OperationDocument[]): ParsedOperation[] {
  const parsed = documents.map(({ file, source }) => {
    try {
      return { file, document: parse(source) };
    } catch (error) {
      const location = error instanceof GraphQLError ? error.locations?.[0] : undefined;
      throw new GraftError(
        GraftErrorCode.BAD_REQUEST,
        `Operation file ${file}${location ? `:${location.line}:${location.column}` : ''} does not parse: ${(error as Error).message.replace(/^Syntax Error: /, '')}`,
        { details: { file, ...(location ? { line: location.line, column: location.column } : {}) } },
      );
    }
  });
  const pool = new Map<string, FragmentDefinitionNode>();
  for (const { document } of parsed) {
    for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION && !pool.has(d.name.value)) pool.set(d.name.value, d);
  }
  const operations: ParsedOperation[] = [];
  for (const { file, document } of parsed) {
    let anonymous = 0;
    for (const definition of document.definitions) {
      if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
      const name = definition.name?.value ?? `<anonymous ${definition.operation} #${++anonymous}>`;
      operations.push({
        name,
        file,
        line: definition.loc?.startToken.line ?? 1,
        document: { kind: Kind.DOCUMENT, definitions: [definition, ...fragmentsUsedBy(definition, pool)] },
      });
    }
  }
  return operations;
}

export interface OperationImpact {
  /** Valid against the base, invalid against the proposed schema: broken by the change. */
  affected: OperationFailure[];
  /** Invalid against the base already: not the change's doing. */
  failingOnBase: OperationFailure[];
}

/**
 * Validates each operation against the proposed API schema, and an operation it rejects
 * against the base too: valid there, the change broke it; invalid there as well, it was
 * already broken (an operation the change fixes is not reported). Without a base schema
 * (the base did not compose, or there is none yet) every rejected operation counts as
 * affected: a check must not pass silently because it could not compare.
 */
export function checkOperations(operations: readonly ParsedOperation[], baseApi: GraphQLSchema | undefined, proposedApi: GraphQLSchema): OperationImpact {
  const impact: OperationImpact = { affected: [], failingOnBase: [] };
  for (const operation of operations) {
    const failure = (errors: readonly GraphQLError[]): OperationFailure => ({
      name: operation.name,
      file: operation.file,
      line: operation.line,
      errors: errors.map((e) => e.message),
    });
    const onProposed = validate(proposedApi, operation.document);
    if (onProposed.length === 0) continue;
    const onBase = baseApi ? validate(baseApi, operation.document) : [];
    if (onBase.length > 0) impact.failingOnBase.push(failure(onBase));
    else impact.affected.push(failure(onProposed));
  }
  return impact;
}
