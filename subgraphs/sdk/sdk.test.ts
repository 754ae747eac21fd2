import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import {
  MAX_REQUEST_BODY_BYTES,
  defineExtension,
  testAuth,
  type ExtensionContext,
  type RunningExtension,
} from './index.js';

interface Thing {
  id: string;
  label: string;
}

const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])

  type Thing @key(fields: "id") {
    id: ID!
    label: String!
    "Which DataLoader instance loaded this Thing (1, 2, ... in creation order)."
    loaderSerial: Int!
  }

  type Query {
    thing(id: ID!): Thing
    fail: String
    viewer: String
  }
`;

// Numbers each DataLoader the first time a resolver sees it, so a response shows
// whether two fields (or two requests) used the same loader.
const loaderSerials = new WeakMap<object, number>();
let nextSerial = 1;
function serialOf(loader: object): number {
  let serial = loaderSerials.get(loader);
  if (serial === undefined) {
    serial = nextSerial++;
    loaderSerials.set(loader, serial);
  }
  return serial;
}

function thingLoader(context: ExtensionContext): DataLoader<string, Thing> {
  return context.loaders.get<string, Thing>('Thing', async (ids) => ids.map((id) => ({ id, label: `thing ${id}` })));
}

interface ViewerContext extends ExtensionContext {
  viewer: string;
}

const extension = defineExtension<ViewerContext>({
  name: 'sdk-test',
  typeDefs,
  // Reads a header (after the SDK verified the gateway token) and may refuse with a status.
  context: (base, request) => {
    const viewer = request.headers['x-viewer'];
    if (viewer === 'nobody') {
      throw new GraphQLError('No viewer.', { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
    }
    return { ...base, viewer: typeof viewer === 'string' ? viewer : 'anonymous' };
  },
  resolvers: {
    Query: {
      thing: (_root: unknown, args: { id: string }, context: ViewerContext) => thingLoader(context).load(args.id),
      fail: () => {
        throw new Error('database password is hunter2');
      },
      viewer: (_root: unknown, _args: unknown, context: ViewerContext) => context.viewer,
    },
    Thing: {
      __resolveReference: (reference: { id: string }, context: ViewerContext) => thingLoader(context).load(reference.id),
      loaderSerial: (_thing: Thing, _args: unknown, context: ViewerContext) => serialOf(thingLoader(context)),
    },
  },
});

const kit = await testAuth();
const running: RunningExtension = await extension.listen({ port: 0, auth: kit.auth });
after(() => running.close());
/** A fresh gateway token per request (they live 60 s). */
const gatewayHeaders = (): Promise<Record<string, string>> => kit.headers({ extension: 'sdk-test', subject: 'gateway-user' });

interface GraphQLResponseBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

async function graphql(
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: GraphQLResponseBody }> {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await gatewayHeaders()), ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: (await response.json()) as GraphQLResponseBody };
}

test('listen on port 0 binds an ephemeral loopback port and serves GraphQL at /graphql', async () => {
  assert.ok(running.port > 0);
  assert.equal(running.url, `http://127.0.0.1:${running.port}/graphql`);
  assert.equal(running.name, 'sdk-test');
  const { status, body } = await graphql('query($id: ID!) { thing(id: $id) { id label } }', { id: 't1' });
  assert.equal(status, 200);
  assert.deepEqual(body, { data: { thing: { id: 't1', label: 'thing t1' } } });
});

test('_service { sdl } returns the federation SDL the gateway composes', async () => {
  const { body } = await graphql('{ _service { sdl } }');
  const sdl = (body.data?.['_service'] as { sdl: string }).sdl;
  assert.match(sdl, /type Thing\s+@key\(fields: "id"\)/);
  assert.match(sdl, /specs\.apollo\.dev\/federation\/v2\.7/);
});

test('GET /health answers 200 with status ok and the extension name', async () => {
  const response = await fetch(new URL('/health', running.url));
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(await response.json(), { status: 'ok', name: 'sdk-test' });
});

test('unknown paths answer 404 with a JSON error naming the extension', async () => {
  const response = await fetch(new URL('/admin', running.url));
  assert.equal(response.status, 404);
  const body = (await response.json()) as GraphQLResponseBody;
  assert.equal(body.errors?.[0]?.extensions?.['code'], 'NOT_FOUND');
  assert.equal(body.errors?.[0]?.extensions?.['extension'], 'sdk-test');
});

test('a body over 1 MiB with Content-Length is refused with 413 and a JSON error', async () => {
  const padding = 'x'.repeat(MAX_REQUEST_BODY_BYTES);
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await gatewayHeaders()) },
    body: JSON.stringify({ query: '{ viewer }', variables: { padding } }),
  });
  assert.equal(response.status, 413);
  const body = (await response.json()) as GraphQLResponseBody;
  assert.equal(body.errors?.[0]?.extensions?.['code'], 'PAYLOAD_TOO_LARGE');
  assert.match(body.errors?.[0]?.message ?? '', /larger than 1048576 bytes/);
});

test('a chunked body that grows past 1 MiB is refused with 413 and a JSON error', async () => {
  const headers = { 'content-type': 'application/json', ...(await gatewayHeaders()) };
  const { status, text } = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = httpRequest(running.url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    const chunk = 'x'.repeat(64 * 1024);
    req.write('{"query":"{ viewer }","variables":{"padding":"');
    for (let sent = 0; sent <= MAX_REQUEST_BODY_BYTES; sent += chunk.length) req.write(chunk);
    req.end('"}}');
  });
  assert.equal(status, 413);
  assert.equal((JSON.parse(text) as GraphQLResponseBody).errors?.[0]?.extensions?.['code'], 'PAYLOAD_TOO_LARGE');
});

test('a body that is not valid JSON is refused with 400 BAD_REQUEST', async () => {
  const response = await fetch(running.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(await gatewayHeaders()) },
    body: '{"query":',
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as GraphQLResponseBody;
  assert.equal(body.errors?.[0]?.extensions?.['code'], 'BAD_REQUEST');
});

test('resolver errors reach the client without a stack trace', async () => {
  const { body } = await graphql('{ fail }');
  const error = body.errors?.[0];
  assert.ok(error);
  assert.equal(error.extensions?.['stacktrace'], undefined);
  assert.doesNotMatch(JSON.stringify(body), /at .*\.ts:\d+/);
});

test('loaders.get returns the same DataLoader for the same name within one request', async () => {
  const { body } = await graphql('{ a: thing(id: "1") { loaderSerial } b: thing(id: "2") { loaderSerial } }');
  const a = body.data?.['a'] as { loaderSerial: number };
  const b = body.data?.['b'] as { loaderSerial: number };
  assert.equal(a.loaderSerial, b.loaderSerial);
});

test('each request gets a fresh loader registry', async () => {
  const first = await graphql('{ thing(id: "1") { loaderSerial } }');
  const second = await graphql('{ thing(id: "1") { loaderSerial } }');
  const serial = (r: typeof first): number => (r.body.data?.['thing'] as { loaderSerial: number }).loaderSerial;
  assert.notEqual(serial(first), serial(second));
});

test('stats count requests, batches per loader name and keys per batch; reset clears them', async () => {
  running.stats.reset();
  await graphql('{ a: thing(id: "1") { id } b: thing(id: "2") { id } c: thing(id: "2") { id } }');
  await graphql(
    'query($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { id } } }',
    { r: ['4', '5', '6'].map((id) => ({ __typename: 'Thing', id })) },
  );
  assert.equal(running.stats.requests, 2);
  // Two requests, one batch each; DataLoader dedupes the repeated key "2".
  assert.deepEqual(running.stats.batches, { Thing: 2 });
  assert.deepEqual(running.stats.keys, { Thing: 5 });
  running.stats.reset();
  assert.equal(running.stats.requests, 0);
  assert.deepEqual(running.stats.batches, {});
  assert.deepEqual(running.stats.keys, {});
});

test('the context factory sees request headers and can add fields to the context', async () => {
  const { body } = await graphql('{ viewer }', undefined, { 'x-viewer': 'ada' });
  assert.deepEqual(body.data, { viewer: 'ada' });
});

test('a context factory that throws a GraphQLError with an http status refuses the request with it', async () => {
  const { status, body } = await graphql('{ viewer }', undefined, { 'x-viewer': 'nobody' });
  assert.equal(status, 401);
  assert.equal(body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
  assert.equal(body.data, undefined);
});

test('defineExtension refuses resolvers for types or fields the SDL does not declare', () => {
  assert.throws(
    () => defineExtension({ name: 'typo', typeDefs, resolvers: { Query: { thingz: () => null }, Widget: {} } }),
    /Query\.thingz is not in the SDL; type Widget is not in the SDL/,
  );
});

test('defineExtension refuses a name that is not a DNS label', () => {
  assert.throws(() => defineExtension({ name: 'My_Extension', typeDefs, resolvers: {} }), /DNS label/);
});

test('close() stops the server, frees the port and can be called twice', async () => {
  const extra = await extension.listen({ auth: kit.auth });
  await extra.close();
  await extra.close();
  await assert.rejects(fetch(new URL('/health', extra.url)));
  const again = await extension.listen({ port: extra.port, auth: kit.auth });
  assert.equal(again.port, extra.port);
  await again.close();
});
