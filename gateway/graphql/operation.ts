// Which operation of a document runs, with graphql-js's rules and messages (execute's
// buildExecutionContext): a name picks that operation; without one, the document must
// hold exactly one.
import { GraphQLError, Kind, type DocumentNode, type FragmentDefinitionNode, type OperationDefinitionNode } from 'graphql';

/** The operation to run, or the GraphQLError graphql-js would answer. */
export function selectOperation(document: DocumentNode, operationName?: string | null): OperationDefinitionNode | GraphQLError {
  let operation: OperationDefinitionNode | undefined;
  for (const definition of document.definitions) {
    if (definition.kind !== Kind.OPERATION_DEFINITION) continue;
    if (operationName === null || operationName === undefined) {
      if (operation) return new GraphQLError('Must provide operation name if query contains multiple operations.');
      operation = definition;
    } else if (definition.name?.value === operationName) {
      return definition;
    }
  }
  if (operation) return operation;
  return new GraphQLError(operationName ? `Unknown operation named "${operationName}".` : 'Must provide an operation.');
}

/** The fragment definitions of a document by name (graphql-js's ObjMap shape). */
export function fragmentsOf(document: DocumentNode): Record<string, FragmentDefinitionNode> {
  const fragments: Record<string, FragmentDefinitionNode> = Object.create(null);
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  return fragments;
}
