// inventory owns Product. Single lookups and entity references go through the request's
// 'Product' loader, so a gateway fetch resolving N products reads them in one batch.
import { takeFirst, type ExtensionContext } from '../sdk/index.js';
import { products, productsById, freshCopy, type ProductRecord } from '../seed/index.js';
import type { Resolvers } from './generated/resolvers-types.js';

function productLoader(context: ExtensionContext) {
  return context.loaders.get<string, ProductRecord | null>('Product', async (ids) =>
    ids.map((id) => freshCopy(productsById.get(id))),
  );
}

export const resolvers: Resolvers = {
  Query: {
    products: (_root, { first }) => takeFirst(products, first),
    product: (_root, { id }, context) => productLoader(context).load(id),
  },
  Product: {
    __resolveReference: (reference, context) => productLoader(context).load(reference.id),
  },
};
