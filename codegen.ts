// GraphQL Code Generator: resolver types for each example extension (from its own
// Federation SDL) and operation types for the persisted frontend operations (against
// the composed API schema that `graft compose` writes to schema/api.graphql).
// Run: npm run codegen
import type { CodegenConfig } from '@graphql-codegen/cli';

type ExtensionName = 'crm' | 'orders' | 'inventory';

/**
 * GraphQL type → the TypeScript type its resolvers receive as parent and may return.
 * Paths are relative to the generated file. Resolvers return seed records (an Order
 * carries customerId, not a Customer) and entities owned elsewhere are bare references.
 */
const SEED = '../../seed/index.js';
const MAPPERS: Record<ExtensionName, Record<string, string>> = {
  crm: {
    Customer: `${SEED}#CustomerRecord`,
  },
  orders: {
    Order: `${SEED}#OrderRecord`,
    OrderItem: `${SEED}#OrderItemRecord`,
    Customer: '{ id: string }',
    Product: '{ id: string }',
  },
  inventory: {
    Product: `${SEED}#ProductRecord`,
  },
};

function extensionResolverTypes(name: ExtensionName): CodegenConfig['generates'] {
  return {
    [`subgraphs/${name}/generated/resolvers-types.ts`]: {
      schema: `subgraphs/${name}/${name}.graphql`,
      plugins: ['typescript', 'typescript-resolvers'],
      config: {
        federation: true,
        contextType: '../../sdk/index.js#ExtensionContext',
        mappers: MAPPERS[name],
        useTypeImports: true,
        enumsAsTypes: true,
      },
    },
  };
}

const config: CodegenConfig = {
  overwrite: true,
  emitLegacyCommonJSImports: false,
  generates: {
    ...extensionResolverTypes('crm'),
    ...extensionResolverTypes('orders'),
    ...extensionResolverTypes('inventory'),
    'schema/operations/generated/operations.ts': {
      schema: 'schema/api.graphql',
      documents: 'schema/operations/*.graphql',
      plugins: ['typescript', 'typescript-operations'],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
      },
    },
  },
};

export default config;
