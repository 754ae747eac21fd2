// Query limits: each limit at its boundary with graphql-js `validate` / `parse`, how
// fragments count, and one request through a real ApolloServer showing the rule runs and
// its code reaches the client.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApolloServer } from '@apollo/server';
import {
  buildSchema,
  getIntrospectionQuery,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type GraphQLFormattedError,
} from 'graphql';
import {
  DEFAULT_QUERY_LIMITS,
  formatQueryLimitError,
  measureOperation,
  QueryLimitError,
  queryLimitParseOptions,
  queryLimitValidationRules,
  type QueryLimits,
} from './index.js';

const typeDefs = `
  type Query { node: Node a: Int b: Int }
  type Node { child: Node name: String }
`;
const schema = buildSchema(typeDefs);

/** Errors of our rules alone, as `{ code, found }`. */
function refusals(query: string, limits: Partial<QueryLimits> = {}): { code: unknown; found: unknown }[] {
  const errors = validate(schema, parse(query), queryLimitValidationRules({ ...DEFAULT_QUERY_LIMITS, ...limits }));
  return errors.map((e) => ({ code: e.extensions.code, found: e.extensions.found }));
}

/** `{ node { child { child ... { name } } } }` with `depth` field levels. */
function nested(depth: number): string {
  let body = 'name';
  for (let level = 1; level < depth - 1; level++) body = `child { ${body} }`;
  return `{ node { ${body} } }`;
}

describe('max depth', () => {
  it('accepts the default limit (12) and refuses one level more', () => {
    assert.deepEqual(refusals(nested(12)), []);
    assert.deepEqual(refusals(nested(13)), [{ code: 'QUERY_TOO_DEEP', found: 13 }]);
  });

  it('counts fields only: fragments, named or inline, are transparent', () => {
    // node(1) child(2) child(3) name(4), the same whichever way it is written.
    const inline = '{ node { ... on Node { child { ... { child { name } } } } } }';
    const named = '{ node { ...A } } fragment A on Node { child { ...B } } fragment B on Node { child { name } }';
    assert.deepEqual(refusals(inline, { maxDepth: 4 }), []);
    assert.deepEqual(refusals(named, { maxDepth: 4 }), []);
    assert.deepEqual(refusals(named, { maxDepth: 3 }), [{ code: 'QUERY_TOO_DEEP', found: 4 }]);
  });

  it('lets the standard introspection query through; graphql-js bounds introspection depth itself', () => {
    const introspection = parse(getIntrospectionQuery({ descriptions: true, inputValueDeprecation: true }));
    assert.deepEqual(validate(schema, introspection, [...specifiedRules, ...queryLimitValidationRules(DEFAULT_QUERY_LIMITS)]), []);
    // MaxIntrospectionDepthRule (in specifiedRules, which Apollo Server always runs) refuses nested __Type lists.
    const deep = parse('{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }');
    const errors = validate(schema, deep, [...specifiedRules, ...queryLimitValidationRules(DEFAULT_QUERY_LIMITS)]);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /introspection/i);
  });
});

describe('max aliases', () => {
  const aliased = (n: number): string => `{ node { ${Array.from({ length: n }, (_, i) => `n${i}: name`).join(' ')} } }`;

  it('accepts the default limit (30) and refuses one more', () => {
    assert.deepEqual(refusals(aliased(30)), []);
    assert.deepEqual(refusals(aliased(31)), [{ code: 'TOO_MANY_ALIASES', found: 31 }]);
  });

  it('counts aliases in fragments once per spread', () => {
    const query = '{ node { ...F child { ...F } } } fragment F on Node { x: name y: name }';
    assert.deepEqual(refusals(query, { maxAliases: 3 }), [{ code: 'TOO_MANY_ALIASES', found: 4 }]);
  });
});

describe('max root fields', () => {
  const roots = (n: number): string => `{ ${Array.from({ length: n }, (_, i) => `r${i}: a`).join(' ')} }`;

  it('accepts the default limit (20) and refuses one more; each aliased use counts', () => {
    assert.deepEqual(refusals(roots(20)), []);
    assert.deepEqual(refusals(roots(21)), [{ code: 'TOO_MANY_ROOT_FIELDS', found: 21 }]);
  });

  it('counts root fields inside fragments, and only root fields', () => {
    const query = '{ a ...R ... { b } node { child { name } } } fragment R on Query { a b }';
    // a, R's a and b, the inline b, node = 5; child and name are not root fields.
    assert.deepEqual(refusals(query, { maxRootFields: 4 }), [{ code: 'TOO_MANY_ROOT_FIELDS', found: 5 }]);
  });
});

describe('max directives', () => {
  it('accepts the default limit (50) and refuses one more, counting every node that can carry one', () => {
    const fields = (n: number): string =>
      Array.from({ length: n }, (_, i) => `d${i}: name @include(if: true)`).join(' ');
    const fifty = `{ node { ${fields(25)} } other: node { ${fields(25)} } }`;
    assert.deepEqual(refusals(fifty, { maxAliases: Number.POSITIVE_INFINITY }), []);
    const withOperationDirective = `query Q @skip(if: false) { node { ${fields(25)} } other: node { ${fields(25)} } }`;
    assert.deepEqual(refusals(withOperationDirective, { maxAliases: Number.POSITIVE_INFINITY }), [{ code: 'TOO_MANY_DIRECTIVES', found: 51 }]);
  });

  it('counts directives of a fragment once per spread, with the definition\'s own', () => {
    const query = '{ node { ...F ...F @include(if: true) } } fragment F on Node { name @skip(if: false) }';
    // spread 1: F's field directive 1; spread 2: its own 1 + F's 1 = 3
    assert.deepEqual(refusals(query, { maxDirectives: 2 }), [{ code: 'TOO_MANY_DIRECTIVES', found: 3 }]);
  });
});

describe('max tokens', () => {
  const options = queryLimitParseOptions(DEFAULT_QUERY_LIMITS);
  /** `{ a a a ... }`: 2 braces + n fields = n + 2 tokens. */
  const tokens = (n: number): string => `{ ${'a '.repeat(n - 2)}}`;

  it('is enforced by the parser: 2000 tokens parse, 2001 do not', () => {
    assert.doesNotThrow(() => parse(tokens(2000), options));
    assert.throws(() => parse(tokens(2001), options), (error: unknown) => error instanceof GraphQLError && /2000 tokens/.test(error.message));
  });

  it('formatQueryLimitError turns the parse refusal into TOO_MANY_TOKENS with a message that says what to do', () => {
    const formatted: GraphQLFormattedError = {
      message: 'Syntax Error: Document contains more that 2000 tokens. Parsing aborted.',
      extensions: { code: 'GRAPHQL_PARSE_FAILED' },
    };
    const result = formatQueryLimitError(formatted, new Error('unused'));
    assert.equal(result.extensions?.code, 'TOO_MANY_TOKENS');
    assert.equal(result.extensions?.limit, 2000);
    assert.match(result.message, /more than 2000 tokens.*smaller document/);
  });
});

describe('the rules stay cheap and the configuration strict', () => {
  it('measures each fragment once: a chain of fragments spreading the previous one twice', () => {
    const fragments = ['fragment F0 on Query { x: a }'];
    for (let k = 1; k <= 40; k++) fragments.push(`fragment F${k} on Query { ...F${k - 1} ...F${k - 1} }`);
    const document = parse(`{ ...F40 } ${fragments.join(' ')}`);
    const started = performance.now();
    const operation = document.definitions[0];
    assert.ok(operation?.kind === 'OperationDefinition');
    const byName = new Map(document.definitions.flatMap((d) => (d.kind === 'FragmentDefinition' ? [[d.name.value, d] as const] : [])));
    const shape = measureOperation(operation, (name) => byName.get(name));
    assert.equal(shape.aliases, 2 ** 40);
    assert.equal(shape.depth, 1);
    assert.ok(performance.now() - started < 200);
  });

  it('refuses limits that are not positive integers', () => {
    assert.throws(() => queryLimitValidationRules({ ...DEFAULT_QUERY_LIMITS, maxDepth: 0 }), RangeError);
    assert.throws(() => queryLimitParseOptions({ ...DEFAULT_QUERY_LIMITS, maxTokens: 1.5 }), RangeError);
  });

  it('messages say the limit and what to do', () => {
    const [error] = validate(schema, parse(nested(13)), queryLimitValidationRules(DEFAULT_QUERY_LIMITS));
    assert.ok(error instanceof QueryLimitError);
    assert.equal(
      error.message,
      'The operation nests fields 13 levels deep; the limit is 12. Select fewer nested levels, or fetch the deeper data with a separate operation.',
    );
    assert.deepEqual(error.extensions, { code: 'QUERY_TOO_DEEP', limit: 12, found: 13 });
  });
});

describe('through Apollo Server', () => {
  const resolvers = { Query: { a: () => 1, node: () => ({ name: 'n' }) }, Node: { child: () => ({ name: 'n' }) } };
  const startServer = async (formatError?: (f: GraphQLFormattedError, e: unknown) => GraphQLFormattedError): Promise<ApolloServer> => {
    const server = new ApolloServer({
      typeDefs,
      resolvers,
      validationRules: queryLimitValidationRules(DEFAULT_QUERY_LIMITS),
      parseOptions: queryLimitParseOptions(DEFAULT_QUERY_LIMITS),
      ...(formatError ? { formatError } : {}),
    });
    await server.start();
    return server;
  };
  const firstError = (response: Awaited<ReturnType<ApolloServer['executeOperation']>>): GraphQLFormattedError | undefined =>
    response.body.kind === 'single' ? response.body.singleResult.errors?.[0] : undefined;

  it('refuses a too deep operation with QUERY_TOO_DEEP and HTTP 400, and runs the rest', async () => {
    const server = await startServer(formatQueryLimitError);
    try {
      const refused = await server.executeOperation({ query: nested(13) });
      assert.equal(refused.http.status, 400);
      assert.equal(firstError(refused)?.extensions?.code, 'QUERY_TOO_DEEP');
      assert.equal(firstError(refused)?.extensions?.limit, 12);
      assert.match(firstError(refused)?.message ?? '', /13 levels deep; the limit is 12/);

      const tooManyTokens = await server.executeOperation({ query: `{ ${'a '.repeat(2000)}}` });
      assert.equal(tooManyTokens.http.status, 400);
      assert.equal(firstError(tooManyTokens)?.extensions?.code, 'TOO_MANY_TOKENS');

      const fine = await server.executeOperation({ query: nested(12) });
      assert.equal(fine.body.kind === 'single' && fine.body.singleResult.errors, undefined);
    } finally {
      await server.stop();
    }
  });

  it('without formatQueryLimitError Apollo Server replaces the code (why the gateway must chain it)', async () => {
    const server = await startServer();
    try {
      const refused = await server.executeOperation({ query: nested(13) });
      assert.equal(firstError(refused)?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
    } finally {
      await server.stop();
    }
  });
});
