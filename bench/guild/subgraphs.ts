// The four subgraphs of The Guild's federation benchmark (accounts, inventory, products,
// reviews) as Federation 2 SDL + resolvers for @apollo/subgraph. The SDL matches the public
// scenario's supergraph: same types, fields, keys, @requires and @provides.
//
// One behaviour is kept on purpose from the reference implementation: inventory resolves a
// Product from its own records only (it ignores the price and weight the gateway sends for
// @requires), so `shippingEstimate` is always null, as in the reference's expected response.
// The gateway still has to fetch price and weight first and send them: the work is the same.
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { parse, type GraphQLSchema } from 'graphql';
import { INVENTORY, PRODUCTS, REVIEWS, USERS, type Review } from './data.js';

const LINK = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable", "@external", "@requires", "@provides"])';

export interface GuildSubgraph {
  name: 'accounts' | 'inventory' | 'products' | 'reviews';
  sdl: string;
  resolvers: GraphQLResolverMap<unknown>;
}

const byId = <T extends { id: string }>(list: readonly T[], id: unknown) => list.find((item) => item.id === String(id)) ?? null;

const reviewsOfUser = (): readonly Review[] => REVIEWS.slice(0, 2);

export const SUBGRAPHS: readonly GuildSubgraph[] = [
  {
    name: 'accounts',
    sdl: `${LINK}

type Query {
  me: User
  user(id: ID!): User
  users: [User]
}

type User @key(fields: "id") {
  id: ID!
  name: String
  username: String @shareable
  birthday: Int
}
`,
    resolvers: {
      Query: {
        me: () => USERS[0],
        user: (_: unknown, args: { id: string }) => byId(USERS, args.id),
        users: () => USERS,
      },
      User: {
        __resolveReference: (ref: { id: string }) => byId(USERS, ref.id),
      },
    },
  },
  {
    name: 'inventory',
    sdl: `${LINK}

type Product @key(fields: "upc") {
  upc: String!
  weight: Int @external
  price: Int @external
  inStock: Boolean
  shippingEstimate: Int @requires(fields: "price weight")
}
`,
    resolvers: {
      Product: {
        // Its own record only (see the note at the top): price and weight stay unknown here.
        __resolveReference: (ref: { upc: string }) => {
          const stock = INVENTORY.find((item) => item.upc === ref.upc);
          return stock ? { upc: stock.upc, inStock: stock.inStock, price: null, weight: null } : null;
        },
        shippingEstimate: (product: { price: number | null; weight: number | null }) => {
          if (product.price === null) return null;
          if (product.price > 1000) return 0;
          return product.weight === null ? null : Math.trunc(product.weight / 2);
        },
      },
    },
  },
  {
    name: 'products',
    sdl: `${LINK}

type Query {
  topProducts(first: Int = 5): [Product]
}

type Product @key(fields: "upc") {
  upc: String!
  name: String
  price: Int
  weight: Int
}
`,
    resolvers: {
      Query: {
        topProducts: (_: unknown, args: { first?: number | null }) => PRODUCTS.slice(0, Math.max(0, args.first ?? 5)),
      },
      Product: {
        __resolveReference: (ref: { upc: string }) => PRODUCTS.find((product) => product.upc === ref.upc) ?? null,
      },
    },
  },
  {
    name: 'reviews',
    sdl: `${LINK}

type Review @key(fields: "id") {
  id: ID!
  body: String
  product: Product
  author: User @provides(fields: "username")
}

type User @key(fields: "id") {
  id: ID!
  username: String @external
  reviews: [Review]
}

type Product @key(fields: "upc") {
  upc: String!
  reviews: [Review]
}
`,
    resolvers: {
      Review: {
        __resolveReference: (ref: { id: string }) => byId(REVIEWS, ref.id),
        product: (review: Review) => ({ upc: review.productUpc }),
        // Every review is by the first user, whose username is provided here.
        author: () => ({ id: '1', username: 'urigo' }),
      },
      User: {
        __resolveReference: (ref: { id: string }) => ({ id: ref.id, username: 'user' }),
        reviews: () => reviewsOfUser(),
      },
      Product: {
        __resolveReference: (ref: { upc: string }) => ({ upc: ref.upc }),
        reviews: (product: { upc: string }) => REVIEWS.filter((review) => review.productUpc === product.upc),
      },
    },
  },
];

export function subgraphSchema(subgraph: GuildSubgraph): GraphQLSchema {
  return buildSubgraphSchema([{ typeDefs: parse(subgraph.sdl), resolvers: subgraph.resolvers }]);
}
