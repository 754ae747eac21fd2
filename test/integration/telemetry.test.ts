// Observability through a real gateway: Prometheus metrics after real requests (labels,
// cardinality bound, breaker gauge, supergraph version), the /admin/stats window, traces
// with an in-memory exporter (operation, policy, fetch and result-step spans; traceparent
// at the subgraph; the SDK continuing the trace), and one redacted log line per request.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { loadConfig } from '../../gateway/config/index.js';
import { startGraftServer, type GraftServer } from '../../gateway/server/index.js';
import { REDACTED, createGraftLogger, startTracing, type TracingHandle } from '../../gateway/telemetry/index.js';
import {
  CROSS_EXTENSION_QUERY,
  exampleUserToken,
  graphql,
  http,
  publish,
  startGraftWithExamples,
  startRecordingSubgraph,
  tempDir,
  tokenFor,
  type RecordingSubgraph,
} from '../helpers/index.js';

// Tracing for this whole process, as OTEL_* would turn it on, but into memory.
const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;

/** Samples of one metric, as `name{labels}` → value. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

async function scrape(server: GraftServer, token?: string): Promise<Map<string, number>> {
  const response = await fetch(`${server.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parseMetrics(await response.text());
}

/** Telemetry is recorded when the response is done, which can be a moment after the client read it. */
async function eventually<T>(probe: () => Promise<T> | T, check: (value: T) => boolean, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (check(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

before(() => {
  tracing = startTracing({ exporter, simple: true });
});
after(async () => {
  await tracing.stop();
});

describe('metrics, traces and stats through the example extensions', () => {
  let fixture: Awaited<ReturnType<typeof startGraftWithExamples>>;
  let user: string;
  before(async () => {
    fixture = await startGraftWithExamples();
    user = await exampleUserToken(fixture.server);
  });
  after(async () => fixture?.close());

  test('GET /metrics counts real requests with operation, outcome, extension and code labels', async () => {
    const { server } = fixture;
    const ok = await graphql(server, `query CustomerOrders ${CROSS_EXTENSION_QUERY}`, { token: user });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.errors, undefined);
    assert.match(ok.headers.get('x-request-id') ?? '', /^[\w-]+$/);
    const refused = await graphql(server, '{ customers(first: 1) { id } }', { token: 'not-a-jwt' });
    assert.equal(refused.status, 401);
    const tooExpensive = await graphql(server, 'query Huge { customers(first: 1000) { id orders { id items { product { name } } } } }', { token: user });
    assert.equal(tooExpensive.body.errors?.[0]?.extensions?.['code'], 'COST_ESTIMATED_TOO_EXPENSIVE');

    const metrics = await eventually(
      () => scrape(server),
      (m) => m.get('graft_requests_total{operation="Huge",outcome="error"}') === 1,
    );
    assert.equal(metrics.get('graft_requests_total{operation="CustomerOrders",outcome="ok"}'), 1);
    assert.equal(metrics.get('graft_requests_total{operation="unknown",outcome="error"}'), 1, 'refused before its operation was known');
    assert.equal(metrics.get('graft_requests_total{operation="Huge",outcome="error"}'), 1);
    assert.equal(metrics.get('graft_request_duration_seconds_count{operation="CustomerOrders"}'), 1);
    assert.ok((metrics.get('graft_request_duration_seconds_sum{operation="CustomerOrders"}') ?? 0) > 0);
    assert.equal(metrics.get('graft_errors_total{code="UNAUTHENTICATED"}'), 1);
    assert.equal(metrics.get('graft_errors_total{code="COST_ESTIMATED_TOO_EXPENSIVE"}'), 1);
    for (const extension of ['crm', 'orders', 'inventory']) {
      assert.ok((metrics.get(`graft_extension_fetch_duration_seconds_count{extension="${extension}",outcome="ok"}`) ?? 0) >= 1, extension);
      assert.equal(metrics.get(`graft_extension_breaker_state{extension="${extension}"}`), 0, `${extension} breaker closed`);
    }
    assert.equal(metrics.get('graft_operation_estimated_cost_count'), 2, 'the executed and the refused operation');
    assert.ok((metrics.get('graft_operation_estimated_cost_sum') ?? 0) > 10_000, 'the refused one is over the limit');

    const health = await http<{ supergraph: { id: number; hash: string } }>(`${server.url}/health`);
    const { id, hash } = health.body.supergraph;
    assert.equal(metrics.get(`graft_supergraph_info{id="${id}",hash="${hash}"}`), 1);
    assert.equal(metrics.get('graft_supergraph_version'), id);
    assert.ok(metrics.has('process_cpu_user_seconds_total'), 'default process metrics');
  });

  test('a trace per operation: policy, gateway and fetch spans (graft.extension), a result step, the SDK continuing it', async () => {
    exporter.reset();
    const { status } = await graphql(fixture.server, `query Traced ${CROSS_EXTENSION_QUERY}`, { token: user });
    assert.equal(status, 200);
    const spans = await eventually(
      () => exporter.getFinishedSpans(),
      (all) => all.some((s) => s.name === 'graft.operation' && s.attributes['graphql.operation.name'] === 'Traced'),
    );
    const operation = spans.find((s) => s.name === 'graft.operation' && s.attributes['graphql.operation.name'] === 'Traced');
    assert.ok(operation, 'the operation span');
    const traceId = operation.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    assert.equal(operation.parentSpanContext, undefined, 'the root of its trace');
    assert.equal(operation.attributes['graphql.operation.type'], 'query');
    assert.equal(operation.attributes['graft.outcome'], 'ok');
    assert.deepEqual(operation.attributes['graft.extensions'], ['crm', 'inventory', 'orders']);
    assert.equal(typeof operation.attributes['graft.estimated_cost'], 'number');

    const byId = new Map(inTrace.map((s) => [s.spanContext().spanId, s]));
    const ancestors = (span: ReadableSpan): string[] => {
      const names: string[] = [];
      for (let parent = span.parentSpanContext; parent; parent = byId.get(parent.spanId)?.parentSpanContext) {
        names.push(byId.get(parent.spanId)?.name ?? '?');
      }
      return names;
    };
    const policy = inTrace.find((s) => s.name === 'graft.policy');
    assert.ok(policy, 'a span around the edge guard');
    assert.equal(policy.attributes['graft.policy.decision'], 'allowed');
    assert.deepEqual(ancestors(policy), ['graft.operation']);
    const steps = inTrace.filter((s) => s.name === 'graft.result_step');
    assert.ok(steps.some((s) => s.attributes['graft.step'] === 'telemetry'), 'a span around each result step');
    for (const step of steps) assert.deepEqual(ancestors(step), ['graft.operation']);
    for (const name of ['gateway.request', 'gateway.plan', 'gateway.execute']) assert.ok(inTrace.some((s) => s.name === name), name);

    const fetches = inTrace.filter((s) => s.name === 'gateway.fetch');
    assert.deepEqual([...new Set(fetches.map((s) => s.attributes['graft.extension']))].sort(), ['crm', 'inventory', 'orders']);
    for (const fetch of fetches) {
      assert.equal(fetch.attributes['graft.fetch.attempts'], 1);
      assert.equal(ancestors(fetch).at(-1), 'graft.operation');
      assert.ok(ancestors(fetch).includes('gateway.execute'));
    }
    // The examples run in this process with the SDK: their request spans are children of the fetches.
    const subgraphSpans = inTrace.filter((s) => s.name === 'graft.subgraph.request');
    assert.equal(subgraphSpans.length, fetches.length, 'one SDK span per fetch, in the same trace');
    for (const span of subgraphSpans) {
      const parent = byId.get(span.parentSpanContext?.spanId ?? '');
      assert.equal(parent?.name, 'gateway.fetch');
      assert.equal(parent?.attributes['graft.extension'], span.attributes['graft.extension']);
    }
  });

  test('GET /admin/stats: every extension with requests, error rate, p95 and breaker (graft:admin only)', async () => {
    const { server, admin } = fixture;
    assert.equal((await http(`${server.url}/admin/stats`)).status, 401);
    assert.equal((await http(`${server.url}/admin/stats`, { token: user })).status, 403);
    const { status, body } = await http<{ windowSeconds: number; extensions: Array<Record<string, unknown>> }>(`${server.url}/admin/stats`, { token: admin });
    assert.equal(status, 200);
    assert.equal(body.windowSeconds, 300);
    assert.deepEqual(body.extensions.map((e) => e['name']), ['crm', 'inventory', 'orders']);
    for (const extension of body.extensions) {
      assert.ok((extension['requests'] as number) >= 2, `${String(extension['name'])} was fetched`);
      assert.equal(extension['errorRate'], 0);
      assert.ok(typeof extension['p95Ms'] === 'number' && extension['p95Ms'] > 0);
      assert.equal(extension['breaker'], 'closed');
    }
  });
});

const HEALTHY_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { healthy: String! boom: String }`;
const FLAKY_SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { flaky: String }`;

describe('a gateway with a failing extension, a log capture and a metrics token', () => {
  const lines: string[] = [];
  const capture = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  const METRICS_TOKEN = 'metrics-secret-0123456789';
  let server: GraftServer;
  let healthy: RecordingSubgraph;
  let flaky: RecordingSubgraph;
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let admin: string;
  let user: string;
  const requestLines = () => lines.map((line) => JSON.parse(line) as Record<string, any>).filter((entry) => entry['msg'] === 'graphql request');

  before(async () => {
    dir = await tempDir();
    healthy = await startRecordingSubgraph(HEALTHY_SDL, {
      Query: {
        healthy: () => 'ok',
        boom: () => {
          throw new Error('kaboom');
        },
      },
    });
    flaky = await startRecordingSubgraph(FLAKY_SDL, { Query: { flaky: () => 'never' } }, { intercept: () => ({ status: 503, body: 'down' }) });
    const config = loadConfig(
      { NODE_ENV: 'test' },
      {
        port: 0,
        dataDir: dir.path,
        upstream: { retries: 0, breakerConsecutiveFailures: 2, breakerHalfOpenAfterMs: 60_000 },
        telemetry: { metricsMaxOperations: 3, metricsToken: METRICS_TOKEN },
      },
    );
    server = await startGraftServer({ config, logger: createGraftLogger({ level: 'info', destination: capture }) });
    admin = await tokenFor(server, 'admin', ['graft:admin']);
    user = await tokenFor(server, 'alice', ['some:scope']);
    const manifest = (name: string, url: string) => ({ name, version: '1.0.0', owner: 'tests', subgraph: { url, schema: `${name}.graphql` } });
    assert.equal((await publish(server, admin, { manifest: manifest('healthy', healthy.url), sdl: HEALTHY_SDL })).status, 201);
    assert.equal((await publish(server, admin, { manifest: manifest('flaky', flaky.url), sdl: FLAKY_SDL })).status, 201);
  });
  after(async () => {
    await server?.close();
    await Promise.all([healthy?.close(), flaky?.close()]);
    await dir?.remove();
  });

  test('GET /metrics needs the metrics token when one is configured', async () => {
    assert.equal((await fetch(`${server.url}/metrics`)).status, 401);
    assert.equal((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer wrong' } })).status, 401);
    await scrape(server, METRICS_TOKEN);
  });

  test('the subgraph receives a W3C traceparent from the fetch span of the operation trace', async () => {
    exporter.reset();
    healthy.received.length = 0;
    await graphql(server, 'query Tp { healthy }', { token: user });
    const spans = await eventually(
      () => exporter.getFinishedSpans(),
      (all) => all.some((s) => s.name === 'graft.operation'),
    );
    const operation = spans.find((s) => s.name === 'graft.operation')!;
    const fetch = spans.find((s) => s.name === 'gateway.fetch' && s.attributes['graft.extension'] === 'healthy');
    assert.ok(fetch);
    assert.equal(healthy.received.length, 1);
    const traceparent = healthy.received[0]!.headers['traceparent'];
    assert.equal(traceparent, `00-${operation.spanContext().traceId}-${fetch.spanContext().spanId}-01`);
    assert.equal(healthy.received[0]!.headers['baggage'], undefined, 'trace context only');
  });

  test('a client traceparent is not trusted by default: the operation starts its own trace', async () => {
    exporter.reset();
    const foreign = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await http(`${server.url}/graphql`, { token: user, body: { query: 'query Foreign { healthy }' }, headers: { traceparent: foreign } });
    const spans = await eventually(
      () => exporter.getFinishedSpans(),
      (all) => all.some((s) => s.name === 'graft.operation'),
    );
    const operation = spans.find((s) => s.name === 'graft.operation')!;
    assert.notEqual(operation.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.equal(operation.parentSpanContext, undefined);
  });

  test('a failing extension: fetch errors by extension and code, breaker gauge open, error rate in /admin/stats', async () => {
    for (let i = 0; i < 3; i++) {
      const { body } = await graphql(server, 'query Both { healthy flaky }', { token: user });
      assert.equal((body.data as Record<string, unknown>)?.['healthy'], 'ok');
    }
    const boom = await graphql(server, 'query Boom { boom }', { token: user });
    assert.ok(boom.body.errors?.length);

    const metrics = await eventually(
      () => scrape(server, METRICS_TOKEN),
      (m) => m.get('graft_requests_total{operation="other",outcome="partial"}') !== undefined,
    );
    assert.equal(metrics.get('graft_extension_breaker_state{extension="flaky"}'), 2, 'open');
    assert.equal(metrics.get('graft_extension_breaker_state{extension="healthy"}'), 0, 'closed');
    assert.equal(metrics.get('graft_extension_errors_total{extension="flaky",code="EXTENSION_UNAVAILABLE"}'), 2);
    assert.equal(metrics.get('graft_extension_errors_total{extension="flaky",code="EXTENSION_CIRCUIT_OPEN"}'), 1);
    assert.equal(metrics.get('graft_extension_fetch_duration_seconds_count{extension="flaky",outcome="error"}'), 3);
    assert.ok((metrics.get('graft_extension_fetch_duration_seconds_count{extension="healthy",outcome="ok"}') ?? 0) >= 4);
    assert.equal(metrics.get('graft_extension_errors_total{extension="healthy",code="DOWNSTREAM_SERVICE_ERROR"}'), 1, 'a GraphQL error it answered with');
    assert.equal(metrics.get('graft_errors_total{code="EXTENSION_CIRCUIT_OPEN"}'), 1);

    const stats = await http<{ extensions: Array<Record<string, unknown>> }>(`${server.url}/admin/stats`, { token: admin });
    const flakyStats = stats.body.extensions.find((e) => e['name'] === 'flaky');
    assert.deepEqual({ ...flakyStats, p95Ms: typeof flakyStats?.['p95Ms'] }, { name: 'flaky', requests: 3, errorRate: 1, p95Ms: 'number', breaker: 'open' });
    const healthyStats = stats.body.extensions.find((e) => e['name'] === 'healthy');
    assert.equal(healthyStats?.['errorRate'], 0);
    assert.equal(healthyStats?.['breaker'], 'closed');
  });

  test('operation labels are bounded: known shape and at most N names, the rest "other"', async () => {
    for (const name of ['Op1', 'Op2', 'Op3', 'Op4', 'Op5', `L${'o'.repeat(70)}ng`]) {
      assert.equal((await graphql(server, `query ${name} { healthy }`, { token: user })).status, 200);
    }
    await graphql(server, '{ healthy }', { token: user });
    const metrics = await eventually(
      () => scrape(server, METRICS_TOKEN),
      (m) => m.get('graft_requests_total{operation="anonymous",outcome="ok"}') === 1,
    );
    const operations = new Set([...metrics.keys()].filter((k) => k.startsWith('graft_requests_total{')).map((k) => /operation="([^"]*)"/.exec(k)?.[1]));
    // Tp, Foreign and Both took the 3 places (the first operations this gateway saw).
    assert.deepEqual([...operations].sort(), ['Both', 'Foreign', 'Tp', 'anonymous', 'other'].sort());
    assert.ok((metrics.get('graft_requests_total{operation="other",outcome="ok"}') ?? 0) >= 6);
  });

  test('exactly one log line per /graphql request, with id, operation, extensions, cost, duration, outcome; no credentials', async () => {
    const before = requestLines().length;
    const ok = await http(`${server.url}/graphql`, { token: user, body: { query: 'query LogMe { healthy flaky }' }, headers: { 'x-request-id': 'req-log-1' } });
    const refused = await http(`${server.url}/graphql`, { token: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJtYWxsb3J5In0.', body: { query: '{ healthy }' } });
    const badBody = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${user}` }, body: '{not json' });
    assert.equal(ok.headers.get('x-request-id'), 'req-log-1');
    assert.equal(refused.status, 401);
    assert.equal(badBody.status, 400);

    const entries = await eventually(
      () => requestLines().slice(before),
      (all) => all.length >= 3,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(requestLines().length - before, 3, 'one line per request, no more');

    const [logged, unauthenticated, malformed] = entries;
    assert.equal(logged?.['requestId'], 'req-log-1');
    assert.equal(logged?.['operation'], 'LogMe');
    assert.equal(logged?.['operationType'], 'query');
    assert.deepEqual(logged?.['extensions'], ['flaky', 'healthy']);
    assert.equal(typeof logged?.['cost'], 'number');
    assert.equal(typeof logged?.['durationMs'], 'number');
    assert.equal(logged?.['outcome'], 'partial');
    assert.deepEqual(logged?.['errorCodes'], ['EXTENSION_CIRCUIT_OPEN']);
    assert.equal(logged?.['status'], 200);
    assert.match(String(logged?.['traceId']), /^[0-9a-f]{32}$/);

    assert.equal(unauthenticated?.['outcome'], 'error');
    assert.equal(unauthenticated?.['status'], 401);
    assert.deepEqual(unauthenticated?.['errorCodes'], ['UNAUTHENTICATED']);
    assert.equal(malformed?.['outcome'], 'error');
    assert.equal(malformed?.['status'], 400);

    const everything = lines.join('\n');
    assert.ok(!everything.includes(user), 'the user token never reaches the log');
    assert.ok(!everything.includes('eyJhbGciOiJub25lIn0'), 'nor a forged one');
    assert.ok(!everything.includes(admin), 'nor the admin token');
    assert.ok(!everything.includes(METRICS_TOKEN), 'nor the metrics token');
  });

  test('the logger redacts authorization headers, cookies and token fields wherever Graft logs them', () => {
    const captured: string[] = [];
    const logger = createGraftLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _encoding, callback) {
          captured.push(chunk.toString('utf8'));
          callback();
        },
      }),
    });
    logger.info({ req: { headers: { authorization: 'Bearer s3cr3t', cookie: 'sid=s3cr3t' } }, token: 's3cr3t', upstream: { token: 's3cr3t', headers: { authorization: 'Bearer s3cr3t' } } }, 'x');
    logger.child({ component: 'http' }).info({ headers: { authorization: 'Bearer s3cr3t' }, authorization: 'Bearer s3cr3t' }, 'y');
    const text = captured.join('');
    assert.ok(!text.includes('s3cr3t'), text);
    assert.ok(text.includes(REDACTED));
  });
});
