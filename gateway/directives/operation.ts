// Resolver directives in operations (`email @mask(keep: 2)`): Apollo Server validates the
// operation against the API schema extended with the FIELD directives (prepared.ts), so a
// misspelt directive or a wrong argument is a validation error like any other. The query
// planner must not see them (the supergraph's API schema does not define them and no
// subgraph implements them), so the document the gateway plans is rewritten: the
// directives are removed, and every selection set on an abstract type gets
// `__graft_typename: __typename` so the result step knows each object's concrete type
// (directives are declared on object fields). The result step reads the original document.
import { createHash } from 'node:crypto';
import {
  BREAK,
  GraphQLError,
  Kind,
  TypeInfo,
  isAbstractType,
  print,
  visit,
  visitWithTypeInfo,
  type DocumentNode,
  type FieldNode,
  type SelectionSetNode,
} from 'graphql';
import { GraftErrorCode } from '../errors/index.js';
import type { PreparedDirectives } from './prepared.js';

/** The alias of the `__typename` selections Graft adds (removed from the response). */
export const TYPENAME_ALIAS = '__graft_typename';

const TYPENAME_FIELD: FieldNode = {
  kind: Kind.FIELD,
  alias: { kind: Kind.NAME, value: TYPENAME_ALIAS },
  name: { kind: Kind.NAME, value: '__typename' },
};

/** Whether the document needs directive work at all (cached per document and supergraph). */
export function isRelevant(prepared: PreparedDirectives, document: DocumentNode): boolean {
  const cached = prepared.relevance.get(document);
  if (cached !== undefined) return cached;
  let relevant = false;
  if (prepared.schemaFieldNames.size > 0 || prepared.operationDirectives.size > 0) {
    visit(document, {
      Field(node) {
        if (prepared.schemaFieldNames.has(node.name.value) || node.directives?.some((d) => prepared.operationDirectives.has(d.name.value))) {
          relevant = true;
          return BREAK;
        }
        return undefined;
      },
    });
  }
  prepared.relevance.set(document, relevant);
  return relevant;
}

export interface RewrittenDocument {
  document: DocumentNode;
  source: string;
  queryHash: string;
}

const rewrites = new WeakMap<PreparedDirectives, WeakMap<DocumentNode, RewrittenDocument | GraphQLError>>();

/**
 * The document to plan, or a GraphQLError for a document that uses Graft's reserved alias.
 * Undefined when the document needs no rewriting.
 */
export function rewriteDocument(prepared: PreparedDirectives, document: DocumentNode): RewrittenDocument | GraphQLError | undefined {
  if (!isRelevant(prepared, document)) return undefined;
  let cache = rewrites.get(prepared);
  if (!cache) {
    cache = new WeakMap();
    rewrites.set(prepared, cache);
  }
  const cached = cache.get(document);
  if (cached) return cached;

  let reserved = false;
  const typeInfo = new TypeInfo(prepared.apiSchema);
  let edited = visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field: {
        enter(node) {
          if (node.alias?.value.startsWith('__graft')) {
            reserved = true;
            return BREAK;
          }
          return undefined;
        },
        leave(node) {
          if (!node.directives?.some((d) => prepared.operationDirectives.has(d.name.value))) return undefined;
          return { ...node, directives: node.directives.filter((d) => !prepared.operationDirectives.has(d.name.value)) };
        },
      },
      SelectionSet: {
        leave(node: SelectionSetNode) {
          const parent = typeInfo.getParentType();
          if (!parent || !isAbstractType(parent)) return undefined;
          return { ...node, selections: [...node.selections, TYPENAME_FIELD] };
        },
      },
    }),
  ) as DocumentNode;
  let outcome: RewrittenDocument | GraphQLError;
  if (!reserved) edited = withoutUnusedVariables(edited);
  if (reserved) {
    outcome = new GraphQLError('Aliases starting with "__graft" are reserved for the gateway: rename the alias.', {
      extensions: { code: GraftErrorCode.BAD_REQUEST },
    });
  } else {
    const source = print(edited);
    outcome = { document: edited, source, queryHash: createHash('sha256').update(source).digest('hex') };
  }
  cache.set(document, outcome);
  return outcome;
}

/**
 * Drops the variable definitions only the removed directives used: the planner coerces
 * every defined variable against the supergraph's API schema, which may not even have
 * their type (an Int used only by @mask(keep: $n)).
 */
function withoutUnusedVariables(document: DocumentNode): DocumentNode {
  const used = new Set<string>();
  visit(document, {
    VariableDefinition: () => false,
    Variable(node) {
      used.add(node.name.value);
    },
  });
  return visit(document, {
    VariableDefinition(node) {
      return used.has(node.variable.name.value) ? undefined : null;
    },
  });
}

