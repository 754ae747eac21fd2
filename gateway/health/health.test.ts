// HealthMonitor against real loopback subgraphs (node:http + @apollo/subgraph answering
// `_service { sdl }`): healthy, drifting, down, slow, recovering; plus the drift
// normalization on its own.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { graphql, parse, type GraphQLSchema } from 'graphql';
import { Agent } from 'undici';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { createGuardedConnect, productionNetworkPolicy } from '../netpolicy/index.js';
import { compareSdl, fetchServiceSdlOver, HealthMonitor, SERVICE_SDL_QUERY, type ExtensionHealth, type HealthMonitorOptions } from './index.js';

const INVENTORY_SDL = await readFile(new URL('../../subgraphs/inventory/inventory.graphql', import.meta.url), 'utf8');
const WITH_SKU = INVENTORY_SDL.replace('  name: String!\n', '  name: String!\n  sku: String!\n');
assert.notEqual(WITH_SKU, INVENTORY_SDL, 'the fixture edit applies');

/** The registered SDL as an author might have written it: same schema, other order, comments, spacing. */
const REGISTERED_SDL = `# published by inventory
${INVENTORY_SDL.split('\n\n').reverse().join('\n\n   ')}
`;

interface Received {
  headers: IncomingHttpHeaders;
  body: string;
}

/** A subgraph on 127.0.0.1 serving `_service { sdl }` like an SDK-built extension does. */
class SdlServer {
  sdl: string;
  delayMs = 0;
  /** When set, answers with this status and a Location header instead of GraphQL. */
  status: number | undefined;
  readonly received: Received[] = [];
  port = 0;
  #server: Server | undefined;
  readonly #schemas = new Map<string, GraphQLSchema>();

  constructor(sdl: string) {
    this.sdl = sdl;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/graphql`;
  }

  async start(): Promise<this> {
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        this.received.push({ headers: request.headers, body });
        const answer = async (): Promise<void> => {
          if (this.status !== undefined) {
            response.writeHead(this.status, { location: 'http://127.0.0.1:1/elsewhere', 'content-type': 'application/json' });
            response.end(JSON.stringify({ errors: [{ message: 'nope' }] }));
            return;
          }
          let schema = this.#schemas.get(this.sdl);
          if (!schema) {
            schema = buildSubgraphSchema([{ typeDefs: parse(this.sdl), resolvers: {} }]);
            this.#schemas.set(this.sdl, schema);
          }
          const { query } = JSON.parse(body) as { query: string };
          const result = await graphql({ schema, source: query });
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(JSON.stringify(result));
        };
        if (this.delayMs > 0) setTimeout(() => void answer(), this.delayMs).unref();
        else void answer();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.#server = server;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

const STACK = /\n\s+at /;

function assertClean(status: ExtensionHealth): void {
  assert.doesNotMatch(JSON.stringify(status), / {4}at |\\n\s+at |node_modules|\/srv\//, 'no stack or internals in the status');
}

describe('HealthMonitor with real loopback subgraphs', () => {
  const agent = new Agent({ keepAliveTimeout: 10 });
  const servers: SdlServer[] = [];
  let clock = Date.parse('2030-01-01T00:00:00.000Z');
  const now = (): number => clock;
  const registered = new Map<string, string>();

  async function serve(sdl: string): Promise<SdlServer> {
    const server = await new SdlServer(sdl).start();
    servers.push(server);
    return server;
  }

  function monitorFor(targets: Array<{ name: string; url: string }>, changes: Partial<HealthMonitorOptions> = {}): HealthMonitor {
    return new HealthMonitor({
      intervalMs: 60_000,
      timeoutMs: 1000,
      fetchServiceSdl: fetchServiceSdlOver(agent, async (name) => `token:${name}`, 5000),
      registeredSdl: async (name) => registered.get(name),
      listTargets: async () => targets,
      now,
      ...changes,
    });
  }

  before(() => {
    registered.set('inventory', REGISTERED_SDL);
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await agent.close();
  });

  test('healthy: answers in time, with the gateway token; the same schema (reordered, commented, federation-printed) is no drift', async () => {
    const server = await serve(INVENTORY_SDL);
    const monitor = monitorFor([{ name: 'inventory', url: server.url }]);
    assert.equal(monitor.status('inventory').state, 'unknown');

    const status = await monitor.checkNow('inventory');
    assert.equal(status.state, 'healthy');
    assert.equal(status.consecutiveFailures, 0);
    assert.equal(status.lastCheckedAt, '2030-01-01T00:00:00.000Z');
    assert.equal(status.lastHealthyAt, '2030-01-01T00:00:00.000Z');
    assert.equal(typeof status.latencyMs, 'number');
    assert.ok(status.latencyMs! >= 0 && status.latencyMs! < 1000);
    assert.equal(status.error, undefined);
    assert.deepEqual(status.drift, { detected: false, checkedAt: '2030-01-01T00:00:00.000Z' });
    assert.deepEqual(monitor.status('inventory'), status);

    const [request] = server.received;
    assert.equal(request!.headers.authorization, 'Bearer token:inventory');
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(request!.body), { query: SERVICE_SDL_QUERY });
  });

  test('drift: the server changes its SDL; the summary names the field; reverting clears it', async () => {
    const server = await serve(INVENTORY_SDL);
    const monitor = monitorFor([{ name: 'inventory', url: server.url }]);
    assert.equal((await monitor.checkNow('inventory')).drift.detected, false);

    server.sdl = WITH_SKU;
    clock += 1000;
    const drifted = await monitor.checkNow('inventory');
    assert.equal(drifted.state, 'healthy', 'drift is not ill health');
    assert.equal(drifted.drift.detected, true);
    assert.equal(drifted.drift.checkedAt, '2030-01-01T00:00:01.000Z');
    assert.equal(drifted.drift.summary, 'live SDL has field Product.sku not in the registered SDL');

    server.sdl = INVENTORY_SDL.replace('price: Float!', 'price: Int');
    const changedType = await monitor.checkNow('inventory');
    assert.equal(changedType.drift.summary, 'field Product.price differs: live `price: Int`, registered `price: Float!`');

    server.sdl = INVENTORY_SDL;
    assert.deepEqual((await monitor.checkNow('inventory')).drift, { detected: false, checkedAt: '2030-01-01T00:00:01.000Z' });
  });

  test('down, then recovery: unhealthy with a counted failure streak, healthy again on the same port', async () => {
    const server = await serve(INVENTORY_SDL);
    const monitor = monitorFor([{ name: 'inventory', url: server.url }]);
    clock = Date.parse('2030-01-02T00:00:00.000Z');
    await monitor.checkNow('inventory');
    await server.stop();

    for (const expected of [1, 2, 3]) {
      clock += 1000;
      const status = await monitor.checkNow('inventory');
      assert.equal(status.state, 'unhealthy');
      assert.equal(status.consecutiveFailures, expected);
      assert.match(status.error ?? '', /^connection refused: nothing listens at the subgraph URL$/);
      assert.equal(status.lastHealthyAt, '2030-01-02T00:00:00.000Z', 'last healthy time is kept');
      assert.equal(status.lastCheckedAt, new Date(clock).toISOString());
      assert.equal(status.drift.checkedAt, '2030-01-02T00:00:00.000Z', 'drift is not rechecked without an answer');
      assertClean(status);
    }

    await server.start(); // same port
    clock += 1000;
    const recovered = await monitor.checkNow('inventory');
    assert.equal(recovered.state, 'healthy');
    assert.equal(recovered.consecutiveFailures, 0);
    assert.equal(recovered.error, undefined);
    assert.equal('error' in recovered, false);
    assert.equal(recovered.lastHealthyAt, new Date(clock).toISOString());
  });

  test('a server that does not answer in time is unhealthy after timeoutMs, not later', async () => {
    const server = await serve(INVENTORY_SDL);
    server.delayMs = 3000;
    const monitor = monitorFor([{ name: 'inventory', url: server.url }], { timeoutMs: 200 });
    const started = performance.now();
    const status = await monitor.checkNow('inventory');
    const elapsed = performance.now() - started;
    assert.equal(status.state, 'unhealthy');
    assert.equal(status.error, 'no answer within 200 ms');
    assert.ok(elapsed < 1500, `gave up after ${elapsed} ms`);
    assert.ok(status.latencyMs! >= 150);
    server.delayMs = 0;
    assert.equal((await monitor.checkNow('inventory')).state, 'healthy');
  });

  test('the monitor bounds the check even when the fetcher ignores its abort signal', async () => {
    const monitor = monitorFor([{ name: 'stuck', url: 'http://127.0.0.1:1/' }], {
      timeoutMs: 100,
      fetchServiceSdl: () => new Promise<string>(() => undefined),
    });
    const status = await monitor.checkNow('stuck');
    assert.equal(status.state, 'unhealthy');
    assert.equal(status.error, 'no answer within 100 ms');
  });

  test('a redirect is a failure and is not followed', async () => {
    const server = await serve(INVENTORY_SDL);
    server.status = 307;
    const monitor = monitorFor([{ name: 'inventory', url: server.url }]);
    const status = await monitor.checkNow('inventory');
    assert.equal(status.state, 'unhealthy');
    assert.match(status.error ?? '', /redirect \(HTTP 307\); Graft does not follow redirects/);
    assert.equal(server.received.length, 1);
  });

  test('an extension that refuses the gateway token is unhealthy and told why', async () => {
    const server = await serve(INVENTORY_SDL);
    server.status = 401;
    const monitor = monitorFor([{ name: 'inventory', url: server.url }]);
    const status = await monitor.checkNow('inventory');
    assert.match(status.error ?? '', /refused the gateway's token \(HTTP 401\).*jwks\.json/);
  });

  test('a subgraph URL the network policy refuses is unhealthy with the policy message', async () => {
    const server = await serve(INVENTORY_SDL);
    const guarded = new Agent({ connect: createGuardedConnect(productionNetworkPolicy()) });
    try {
      const monitor = monitorFor([{ name: 'inventory', url: server.url }], {
        fetchServiceSdl: fetchServiceSdlOver(guarded, async () => 't', 1000),
      });
      const status = await monitor.checkNow('inventory');
      assert.equal(status.state, 'unhealthy');
      assert.match(status.error ?? '', /127\.0\.0\.0\/8 \(loopback\)/);
      assert.equal(server.received.length, 0);
    } finally {
      await guarded.close();
    }
  });

  test('unforeseen errors reach onError, not the status', async () => {
    const logged: unknown[] = [];
    const monitor = monitorFor([{ name: 'x', url: 'http://127.0.0.1:1/' }], {
      fetchServiceSdl: async () => {
        throw new Error('EACCES /srv/graft/keys/upstream.jwk\n    at readKey (/srv/graft/gateway/upstream/tokens.ts:12:3)');
      },
      onError: (error) => logged.push(error),
    });
    const status = await monitor.checkNow('x');
    assert.equal(status.error, 'the health check failed; the gateway log has the details');
    assert.doesNotMatch(status.error ?? '', STACK);
    assertClean(status);
    assert.equal(logged.length, 1);
  });

  test('an extension without a published version is healthy with nothing to compare', async () => {
    const server = await serve(INVENTORY_SDL);
    const monitor = monitorFor([{ name: 'fresh', url: server.url }]);
    const status = await monitor.checkNow('fresh');
    assert.equal(status.state, 'healthy');
    assert.equal(status.drift.detected, false);
    assert.equal(status.drift.summary, 'no published version to compare with');
  });

  test('checkNow() checks every target; statuses() lists them; a target that goes away drops out', async () => {
    const a = await serve(INVENTORY_SDL);
    const b = await serve(WITH_SKU);
    let targets = [
      { name: 'inventory', url: a.url },
      { name: 'inventory-next', url: b.url },
    ];
    registered.set('inventory-next', INVENTORY_SDL);
    const monitor = monitorFor([], { listTargets: async () => targets });
    assert.deepEqual(monitor.statuses(), []);
    const all = await monitor.checkNow();
    assert.deepEqual(all.map((s) => [s.name, s.state, s.drift.detected]), [
      ['inventory', 'healthy', false],
      ['inventory-next', 'healthy', true],
    ]);
    assert.deepEqual(monitor.statuses(), all);

    targets = [{ name: 'inventory', url: a.url }];
    await monitor.checkNow();
    assert.deepEqual(monitor.statuses().map((s) => s.name), ['inventory']);
    assert.equal(monitor.status('inventory-next').state, 'unknown');

    await assert.rejects(monitor.checkNow('nope'), (error: unknown) => error instanceof GraftError && error.code === GraftErrorCode.EXTENSION_NOT_FOUND);
  });

  test('concurrent checks of one extension share one request', async () => {
    const server = await serve(INVENTORY_SDL);
    server.delayMs = 50;
    const monitor = monitorFor([{ name: 'inventory', url: server.url }]);
    const [one, two] = await Promise.all([monitor.checkNow('inventory'), monitor.checkNow('inventory')]);
    assert.deepEqual(one, two);
    assert.equal(server.received.length, 1);
  });

  test('start() checks at once and then every intervalMs; stop() ends it', async () => {
    const server = await serve(INVENTORY_SDL);
    const monitor = monitorFor([{ name: 'inventory', url: server.url }], { intervalMs: 30 });
    monitor.start();
    monitor.start(); // idempotent
    const deadline = Date.now() + 5000;
    while (server.received.length < 3 && Date.now() < deadline) await sleep(10);
    await monitor.stop();
    assert.ok(server.received.length >= 3, `checked ${server.received.length} times`);
    const count = server.received.length;
    await sleep(120);
    assert.equal(server.received.length, count, 'no check after stop()');
    assert.equal(monitor.status('inventory').state, 'healthy');
  });

  test('each scheduled round hands its statuses to onRound; a monitor that adopts them serves them without checking', async () => {
    const server = await serve(INVENTORY_SDL);
    const rounds: ExtensionHealth[][] = [];
    const checking = monitorFor([{ name: 'inventory', url: server.url }], { intervalMs: 60_000, onRound: (statuses) => rounds.push(statuses) });
    checking.start();
    const deadline = Date.now() + 5000;
    while (rounds.length === 0 && Date.now() < deadline) await sleep(10);
    await checking.stop();
    assert.equal(rounds.length, 1);
    assert.deepEqual(rounds[0]?.map((s) => [s.name, s.state]), [['inventory', 'healthy']]);

    const requestsBefore = server.received.length;
    const serving = monitorFor([{ name: 'inventory', url: server.url }]);
    serving.adopt(rounds[0] ?? []);
    assert.deepEqual(serving.statuses(), checking.statuses());
    assert.equal(serving.status('inventory').state, 'healthy');
    serving.adopt([]);
    assert.equal(serving.status('inventory').state, 'unknown', 'adopting replaces every status');
    assert.equal(server.received.length, requestsBefore, 'adopting checks nothing');
  });
});

describe('compareSdl', () => {
  const base = `
    type Query { products(first: Int = 10): [Product!]! }
    "A product"
    type Product @key(fields: "id") { id: ID! name: String! status: Status! }
    enum Status { ACTIVE RETIRED }
  `;

  test('comments, whitespace, descriptions and the order of definitions, fields and values do not count', () => {
    const same = `
      # reordered
      enum Status { RETIRED ACTIVE }
      type Product @key(fields: "id") {
        """A block description this time"""
        status: Status!
        name: String!   id: ID!
      }
      type Query { products(first: Int = 10): [Product!]! }
    `;
    assert.deepEqual(compareSdl(same, base), { detected: false, summary: undefined, differences: [] });
  });

  test('`extend type` and `type` are the same definition', () => {
    const split = `${base.replace(' status: Status!', '')}\nextend type Product { status: Status! }`;
    assert.equal(compareSdl(split, base).detected, false);
  });

  test('each kind of difference gets a short sentence', () => {
    const live = `
      type Query { products(first: Int = 20): [Product!]! orders: [ID!]! }
      type Product @key(fields: "sku") { id: ID! name: String status: Status! sku: String! }
      enum Status { ACTIVE RETIRED DRAFT }
      type Order { id: ID! }
    `;
    const { detected, differences, summary } = compareSdl(live, base);
    assert.equal(detected, true);
    assert.deepEqual(differences, [
      'live SDL has enum value Status.DRAFT not in the registered SDL',
      'live SDL has type Order not in the registered SDL',
      'type Product differs: live `type Product @key(fields: "sku")`, registered `type Product @key(fields: "id")`',
      'field Product.name differs: live `name: String`, registered `name: String!`',
      'live SDL has field Product.sku not in the registered SDL',
      'live SDL has field Query.orders not in the registered SDL',
      'field Query.products differs: live `products(first: Int = 20): [Product!]!`, registered `products(first: Int = 10): [Product!]!`',
    ]);
    assert.equal(summary, `${differences.slice(0, 3).join('; ')}; and 4 more differences`);
  });

  test('a definition missing from the live SDL is named', () => {
    const live = base.replace('enum Status { ACTIVE RETIRED }', '').replace('status: Status!', '');
    assert.equal(compareSdl(live, base).summary, 'live SDL lacks enum Status of the registered SDL; live SDL lacks field Product.status of the registered SDL');
  });

  test('a live SDL that does not parse is drift, with the syntax error', () => {
    const { detected, summary } = compareSdl('type Query {', base);
    assert.equal(detected, true);
    assert.match(summary ?? '', /^the live SDL does not parse: Syntax Error/);
  });
});
