// crm owns Customer. Single lookups and entity references go through the request's
// 'Customer' loader, so a gateway fetch resolving N customers reads them in one batch.
import { takeFirst, type ExtensionContext } from '../sdk/index.js';
import { customers, customersById, freshCopy, type CustomerRecord } from '../seed/index.js';
import type { Resolvers } from './generated/resolvers-types.js';

function customerLoader(context: ExtensionContext) {
  return context.loaders.get<string, CustomerRecord | null>('Customer', async (ids) =>
    ids.map((id) => freshCopy(customersById.get(id))),
  );
}

export const resolvers: Resolvers = {
  Query: {
    customers: (_root, { first }) => takeFirst(customers, first),
    customer: (_root, { id }, context) => customerLoader(context).load(id),
  },
  Customer: {
    __resolveReference: (reference, context) => customerLoader(context).load(reference.id),
  },
};
