// orders owns Order and contributes Customer.orders. Customers and products belong to
// other extensions, so they are returned as bare `{ id }` references for the gateway
// to resolve there. Entity references and Customer.orders go through request loaders
// ('Order', 'OrdersByCustomer') so N parents cost one batch each.
import type { ExtensionContext } from '../sdk/index.js';
import { ordersByCustomerId, ordersById, freshCopy, type OrderRecord } from '../seed/index.js';
import type { Resolvers } from './generated/resolvers-types.js';

function orderLoader(context: ExtensionContext) {
  return context.loaders.get<string, OrderRecord | null>('Order', async (ids) =>
    ids.map((id) => freshCopy(ordersById.get(id))),
  );
}

function ordersByCustomerLoader(context: ExtensionContext) {
  return context.loaders.get<string, OrderRecord[]>('OrdersByCustomer', async (customerIds) =>
    customerIds.map((customerId) => [...(ordersByCustomerId.get(customerId) ?? [])]),
  );
}

export const resolvers: Resolvers = {
  Query: {
    order: (_root, { id }, context) => orderLoader(context).load(id),
  },
  Order: {
    __resolveReference: (reference, context) => orderLoader(context).load(reference.id),
    customer: (order) => ({ id: order.customerId }),
  },
  OrderItem: {
    product: (item) => ({ id: item.productId }),
  },
  Customer: {
    // No __resolveReference: the representation { __typename, id } is all `orders` needs.
    orders: (customer, _args, context) => ordersByCustomerLoader(context).load(customer.id),
  },
};
