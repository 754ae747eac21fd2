// What one operation is, for usage: Apollo's usage-reporting signature (the normalisation
// Apollo Studio groups operations by: unused definitions dropped, literals stripped,
// aliases removed, sorted, whitespace reduced), its sha256, and the schema coordinates it
// touches (the one GraphQL core's schemaCoordinatesOf).
import { createHash } from 'node:crypto';
import { usageReportingSignature } from '@apollo/utils.usagereporting';
import { GraphQLError, type DocumentNode, type GraphQLSchema } from 'graphql';
import { schemaCoordinatesOf, selectOperation } from '../graphql/index.js';
import type { UsageOperation } from '../registry/index.js';

/** The usage record of the operation of a validated document; undefined when there is no such operation. */
export function operationUsageOf(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): UsageOperation | undefined {
  const operation = selectOperation(document, operationName);
  if (operation instanceof GraphQLError) return undefined;
  const name = operation.name?.value ?? null;
  const signature = usageReportingSignature(document, name ?? '');
  return {
    hash: createHash('sha256').update(signature).digest('hex'),
    name,
    signature,
    coordinates: schemaCoordinatesOf(schema, document, operation),
  };
}
