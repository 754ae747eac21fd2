// The Guild's federation scenario: subgraphs, supergraph composition and the two queries.
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from './subgraphs.js';

export { SUBGRAPHS, type GuildSubgraph } from './subgraphs.js';

/** The standard query of the benchmark (k6.js): ~87 KB of JSON per response. */
export const NESTED_QUERY = `fragment User on User {
  id
  username
  name
}

fragment Review on Review {
  id
  body
}

fragment Product on Product {
  inStock
  name
  price
  shippingEstimate
  upc
  weight
}

query TestQuery {
  users {
    ...User
    reviews {
      ...Review
      product {
        ...Product
        reviews {
          ...Review
          author {
            ...User
            reviews {
              ...Review
              product {
                ...Product
              }
            }
          }
        }
      }
    }
  }
  topProducts {
    ...Product
    reviews {
      ...Review
      author {
        ...User
        reviews {
          ...Review
          product {
            ...Product
          }
        }
      }
    }
  }
}`;

/** One subgraph (products), a few fields: the gateway's fixed overhead per request. */
export const SMALL_QUERY = 'query Small { topProducts(first: 3) { upc name price } }';

/** Composes the four subgraphs at the given URLs into a supergraph (@apollo/composition). */
export function composeGuildSupergraph(urls: Record<string, string>): { supergraphSdl: string; ms: number } {
  const started = performance.now();
  const result = composeServices(
    SUBGRAPHS.map((s) => {
      const url = urls[s.name];
      if (!url) throw new Error(`no URL for subgraph ${s.name}`);
      return { name: s.name, url, typeDefs: parse(s.sdl) };
    }),
  );
  const ms = performance.now() - started;
  if (result.errors) throw new Error(`the Guild subgraphs do not compose:\n${result.errors.map((e) => e.message).join('\n')}`);
  return { supergraphSdl: result.supergraphSdl, ms };
}
