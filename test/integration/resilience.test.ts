// One bad extension never takes the graph down: timeouts, failures, retries, the circuit
// breaker and the bulkhead, each proven against a real loopback subgraph that misbehaves
// on purpose, next to a healthy one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { GraftServer } from '../../gateway/server/index.js';
import { graphql, publish, startGateway, startRecordingSubgraph, tempDir, tokenFor, type Intercept, type RecordingSubgraph } from '../helpers/index.js';

const HEALTHY_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { healthy: String! }`;

const FLAKY_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { flaky: Widget }
type Mutation { touch: Int }
type Widget { id: ID! label: String }`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Fixture {
  server: GraftServer;
  flaky: RecordingSubgraph;
  healthy: RecordingSubgraph;
  close(): Promise<void>;
}

async function startFixture(intercept: Intercept, options: { timeoutMs?: number; upstream?: Record<string, number> } = {}): Promise<Fixture> {
  const dir = await tempDir();
  const healthy = await startRecordingSubgraph(HEALTHY_SDL, { Query: { healthy: () => 'ok' } });
  const flaky = await startRecordingSubgraph(FLAKY_SDL, { Query: { flaky: () => ({ id: '1', label: 'w' }) }, Mutation: { touch: () => 1 } }, { intercept });
  const server = await startGateway(dir.path, { upstream: { breakerHalfOpenAfterMs: 60_000, ...options.upstream } });
  const admin = await tokenFor(server, 'admin', ['graft:admin']);
  const manifest = (name: string, url: string) => ({
    name,
    version: '1.0.0',
    owner: 'tests',
    subgraph: { url, schema: `${name}.graphql` },
    limits: { timeoutMs: options.timeoutMs ?? 2000 },
  });
  assert.equal((await publish(server, admin, { manifest: manifest('healthy', healthy.url), sdl: HEALTHY_SDL })).status, 201);
  assert.equal((await publish(server, admin, { manifest: manifest('flaky', flaky.url), sdl: FLAKY_SDL })).status, 201);
  flaky.received.length = 0;
  return {
    server,
    flaky,
    healthy,
    async close() {
      await server.close();
      await Promise.all([flaky.close(), healthy.close()]);
      await dir.remove();
    },
  };
}

function assertNoInternals(body: unknown): void {
  const text = JSON.stringify(body);
  assert.doesNotMatch(text, /127\.0\.0\.1|localhost|ECONNREFUSED|\n\s+at /, 'no hostnames, socket errors or stack traces');
}

describe('a slow extension', () => {
  let fixture: Fixture;
  before(async () => {
    fixture = await startFixture(async () => {
      await sleep(1500);
      return undefined;
    }, { timeoutMs: 200 });
  });
  after(async () => fixture?.close());

  test('times out with EXTENSION_TIMEOUT at its own path while the other extension answers', async () => {
    const { status, body } = await graphql(fixture.server, '{ healthy flaky { id label } }');
    assert.equal(status, 200);
    assert.deepEqual(body.data, { healthy: 'ok', flaky: null });
    assert.equal(body.errors?.length, 1);
    assert.deepEqual(body.errors?.[0]?.path, ['flaky']);
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'EXTENSION_TIMEOUT');
    assert.equal(body.errors?.[0]?.extensions?.['extension'], 'flaky');
    assertNoInternals(body);
  });
});

describe('an extension that sends its headers at once and then trickles its body', () => {
  let fixture: Fixture;
  before(async () => {
    // 40 bytes, one every 50 ms: each gap is far below the 300 ms timeout, the whole body
    // (2 s) far above it. Only a deadline on the whole exchange catches it.
    const answer = JSON.stringify({ data: { flaky: { id: '1', label: 'slow' } } }).padEnd(40, ' ');
    fixture = await startFixture((request) => (request.query.includes('flaky') ? { status: 200, body: answer, dripEveryMs: 50 } : undefined), { timeoutMs: 300 });
  });
  after(async () => fixture?.close());

  test('times out with EXTENSION_TIMEOUT: the timeout bounds the whole fetch, not each wait between bytes', async () => {
    const { status, body } = await graphql(fixture.server, '{ healthy flaky { id label } }');
    assert.equal(status, 200);
    assert.deepEqual(body.data, { healthy: 'ok', flaky: null });
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'EXTENSION_TIMEOUT');
    assert.equal(body.errors?.[0]?.extensions?.['extension'], 'flaky');
    assertNoInternals(body);
  });
});

describe('a failing extension', () => {
  let fixture: Fixture;
  let failing = true;
  before(async () => {
    fixture = await startFixture(() => (failing ? { status: 503, body: 'upstream down' } : undefined), {
      upstream: { retries: 1, breakerConsecutiveFailures: 3, breakerWindow: 1000 },
    });
  });
  after(async () => fixture?.close());

  test('queries are retried once on 503, then fail with EXTENSION_UNAVAILABLE; the breaker opens after consecutive failures', async () => {
    const first = await graphql(fixture.server, '{ healthy flaky { id } }');
    assert.deepEqual(first.body.data, { healthy: 'ok', flaky: null });
    assert.equal(first.body.errors?.[0]?.extensions?.['code'], 'EXTENSION_UNAVAILABLE');
    assert.deepEqual(first.body.errors?.[0]?.path, ['flaky']);
    assert.equal(fixture.flaky.received.length, 2, 'one retry');
    assertNoInternals(first.body);

    // 2 failures recorded; the third opens the circuit.
    await graphql(fixture.server, '{ flaky { id } }');
    const calls = fixture.flaky.received.length;
    const open = await graphql(fixture.server, '{ healthy flaky { id } }');
    assert.equal(open.body.errors?.[0]?.extensions?.['code'], 'EXTENSION_CIRCUIT_OPEN');
    assert.equal(open.body.errors?.[0]?.extensions?.['extension'], 'flaky');
    assert.equal((open.body.data as Record<string, unknown>)?.['healthy'], 'ok');
    assert.equal(fixture.flaky.received.length, calls, 'an open circuit does not call the extension');
    failing = false;
  });
});

describe('retries', () => {
  test('a query that fails once with 502 succeeds on the retry; a mutation is never retried', async () => {
    let failNext = true;
    const fixture = await startFixture(() => {
      if (!failNext) return undefined;
      failNext = false;
      return { status: 502, body: 'bad gateway' };
    });
    try {
      const query = await graphql(fixture.server, '{ flaky { id label } }');
      assert.deepEqual(query.body.data, { flaky: { id: '1', label: 'w' } });
      assert.equal(query.body.errors, undefined);
      assert.equal(fixture.flaky.received.length, 2);

      failNext = true;
      fixture.flaky.received.length = 0;
      const mutation = await graphql(fixture.server, 'mutation { touch }');
      assert.equal(mutation.body.errors?.[0]?.extensions?.['code'], 'EXTENSION_UNAVAILABLE');
      assert.equal(fixture.flaky.received.length, 1, 'a mutation is sent once');
    } finally {
      await fixture.close();
    }
  });
});

describe('the bulkhead', () => {
  test('caps the fetches in flight to one extension; the excess fails fast with EXTENSION_UNAVAILABLE', async () => {
    const fixture = await startFixture(
      async () => {
        await sleep(300);
        return undefined;
      },
      { upstream: { maxConcurrent: 2, retries: 0 } },
    );
    try {
      const results = await Promise.all(Array.from({ length: 10 }, () => graphql(fixture.server, '{ flaky { id } }')));
      const ok = results.filter((r) => r.body.errors === undefined).length;
      const rejected = results.filter((r) => r.body.errors?.[0]?.extensions?.['code'] === 'EXTENSION_UNAVAILABLE').length;
      assert.equal(ok + rejected, 10);
      assert.equal(ok, 4, '2 in flight + 2 queued');
      assert.ok(fixture.flaky.received.length <= 4);
    } finally {
      await fixture.close();
    }
  });
});

describe('a malformed extension', () => {
  test('a non-GraphQL or oversized answer becomes EXTENSION_BAD_RESPONSE; a redirect is not followed', async () => {
    let answer: { status: number; body: string } | undefined = { status: 200, body: '<html>oops</html>' };
    const fixture = await startFixture(() => answer);
    try {
      const html = await graphql(fixture.server, '{ healthy flaky { id } }');
      assert.equal(html.body.errors?.[0]?.extensions?.['code'], 'EXTENSION_BAD_RESPONSE');
      assert.equal((html.body.data as Record<string, unknown>)['healthy'], 'ok');
      answer = { status: 200, body: JSON.stringify({ data: { flaky: { id: 'x'.repeat(17 * 1024 * 1024) } } }) };
      const huge = await graphql(fixture.server, '{ flaky { id } }');
      assert.equal(huge.body.errors?.[0]?.extensions?.['code'], 'EXTENSION_BAD_RESPONSE');
      assert.match(huge.body.errors?.[0]?.message ?? '', /more than/);
      answer = { status: 307, body: '' };
      const redirect = await graphql(fixture.server, '{ flaky { id } }');
      assert.equal(redirect.body.errors?.[0]?.extensions?.['code'], 'EXTENSION_BAD_RESPONSE');
      assert.match(redirect.body.errors?.[0]?.message ?? '', /redirect/);
      answer = undefined;
      const fine = await graphql(fixture.server, '{ flaky { id } }');
      assert.deepEqual(fine.body.data, { flaky: { id: '1' } });
    } finally {
      await fixture.close();
    }
  });
});
