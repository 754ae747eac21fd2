// `first`-style list arguments, checked the same way in every extension: a client
// cannot ask for a negative count or for an unbounded page.
import { GraphQLError } from 'graphql';

export const DEFAULT_MAX_PAGE_SIZE = 100;

/** The first `first` items; refuses values outside 0..maxPageSize with BAD_USER_INPUT. */
export function takeFirst<T>(items: readonly T[], first: number, maxPageSize = DEFAULT_MAX_PAGE_SIZE): T[] {
  if (!Number.isInteger(first) || first < 0 || first > maxPageSize) {
    throw new GraphQLError(`"first" must be an integer from 0 to ${maxPageSize}, got ${first}.`, {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return items.slice(0, first);
}
