// The subgraph URL policy: a table of URLs (allowed / refused, and why) with an injected
// resolver, then a real undici Agent with the guarded connector against a real loopback
// server, including DNS rebinding (public at publish, 127.0.0.1 at connect time).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { Agent } from 'undici';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import {
  checkSubgraphUrl,
  compileNetworkPolicy,
  createGuardedConnect,
  devNetworkPolicy,
  networkPolicyFromEnv,
  productionNetworkPolicy,
  type HostResolver,
  type NetworkPolicy,
} from './index.js';

const PUBLIC_V4 = '93.184.216.34';
const PUBLIC_V6 = '2606:2800:220:1:248:1893:25c8:1946';

// What the injected resolver answers; a name not in here fails like getaddrinfo does.
const DNS: Record<string, string[]> = {
  'api.example.com': [PUBLIC_V4, PUBLIC_V6],
  'localhost': ['127.0.0.1', '::1'],
  'rebound.example.com': ['127.0.0.1'],
  'mixed.example.com': [PUBLIC_V4, '10.0.0.7'],
  'inventory.internal': ['10.0.3.4'],
  'meta.internal': ['169.254.169.254'],
  'v6only.example.com': ['fd12:3456::1'],
  'empty.example.com': [],
};
const resolver: HostResolver = async (host) => {
  const addresses = DNS[host];
  if (addresses === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return addresses;
};

const prod = productionNetworkPolicy();
const dev = devNetworkPolicy();
const with_ = (changes: Partial<NetworkPolicy>): NetworkPolicy => ({ ...prod, ...changes });

interface Row {
  url: string;
  policy?: NetworkPolicy;
  /** undefined: allowed; a RegExp: refused with a message matching it. */
  refused?: RegExp;
  why: string;
}

const ROWS: Row[] = [
  // allowed
  { url: 'https://api.example.com/graphql', why: 'public name, every record public (v4 and v6)' },
  { url: `http://${PUBLIC_V4}:8080/graphql`, why: 'public IPv4 literal' },
  { url: `http://[${PUBLIC_V6}]/graphql`, why: 'public IPv6 literal' },
  { url: 'http://172.32.0.1/', why: 'just outside 172.16.0.0/12' },
  { url: 'http://100.128.0.1/', why: 'just outside CGNAT 100.64.0.0/10' },
  { url: 'http://127.0.0.1:4101/graphql', policy: dev, why: 'dev policy allows loopback (the examples)' },
  { url: 'http://localhost:4101/graphql', policy: dev, why: 'dev policy: localhost resolves to loopback only' },
  { url: 'http://[::1]:4101/graphql', policy: dev, why: 'dev policy: IPv6 loopback' },
  { url: 'http://10.1.2.3/', policy: with_({ allowPrivate: true }), why: 'allowPrivate' },
  { url: 'http://[fd12:3456::1]/', policy: with_({ allowPrivate: true }), why: 'allowPrivate covers IPv6 unique local' },
  { url: 'http://inventory.internal/graphql', policy: with_({ allowHosts: ['Inventory.Internal.'] }), why: 'allowHosts (case and trailing dot ignored) lifts private' },
  { url: 'http://10.20.3.4/', policy: with_({ allowCidrs: ['10.20.0.0/16'] }), why: 'allowCidrs' },
  { url: 'http://[::ffff:10.20.0.1]/', policy: with_({ allowCidrs: ['10.20.0.0/16'] }), why: 'allowCidrs matches the IPv4 inside a mapped address' },
  { url: 'http://169.254.169.254/', policy: with_({ allowCidrs: ['169.254.169.254'] }), why: 'metadata only through an explicit allowCidrs entry' },

  // scheme, syntax, credentials
  { url: 'ftp://api.example.com/', refused: /only http and https/, why: 'scheme' },
  { url: 'file:///etc/passwd', refused: /only http and https/, why: 'scheme' },
  { url: 'gopher://api.example.com:70/', refused: /only http and https/, why: 'scheme' },
  { url: 'graphql', refused: /not a valid absolute URL/, why: 'relative' },
  { url: 'http://user:secret@api.example.com/', refused: /contains credentials/, why: 'userinfo' },
  { url: 'http://@api.example.com/', refused: /contains credentials/, why: 'empty userinfo (the URL parser drops it)' },
  { url: 'http://api.example.com:80@127.0.0.1/', refused: /contains credentials/, why: 'userinfo that looks like a host' },

  // loopback, in every spelling
  { url: 'http://127.0.0.1/', refused: /the address is 127\.0\.0\.1, in 127\.0\.0\.0\/8 \(loopback\)/, why: 'loopback' },
  { url: 'http://127.9.8.7/', refused: /127\.0\.0\.0\/8/, why: 'all of 127/8' },
  { url: 'http://2130706433/', refused: /127\.0\.0\.1, in 127\.0\.0\.0\/8/, why: 'decimal IPv4' },
  { url: 'http://0x7f000001/', refused: /127\.0\.0\.1, in 127\.0\.0\.0\/8/, why: 'hex IPv4' },
  { url: 'http://0x7f.1/', refused: /127\.0\.0\.1, in 127\.0\.0\.0\/8/, why: 'hex, short form' },
  { url: 'http://0177.0.0.1/', refused: /127\.0\.0\.1, in 127\.0\.0\.0\/8/, why: 'octal' },
  { url: 'http://127.1/', refused: /127\.0\.0\.1, in 127\.0\.0\.0\/8/, why: 'two-part form' },
  { url: 'http://%31%32%37.0.0.1/', refused: /127\.0\.0\.1, in 127\.0\.0\.0\/8/, why: 'percent-encoded' },
  { url: 'http://[::1]/', refused: /::1, in ::1\/128 \(loopback\)/, why: 'IPv6 loopback' },
  { url: 'http://[::ffff:127.0.0.1]/', refused: /carries the IPv4 address 127\.0\.0\.1\), in 127\.0\.0\.0\/8/, why: 'IPv4-mapped IPv6' },
  { url: 'http://[::127.0.0.1]/', refused: /127\.0\.0\.0\/8/, why: 'IPv4-compatible IPv6' },
  { url: 'http://[64:ff9b::7f00:1]/', refused: /127\.0\.0\.0\/8/, why: 'NAT64 of loopback' },
  { url: 'http://[2002:7f00:1::]/', refused: /127\.0\.0\.0\/8/, why: '6to4 of loopback' },
  { url: 'http://localhost/', refused: /host "localhost" resolves to 127\.0\.0\.1/, why: 'name resolving to loopback' },
  { url: 'http://LOCALHOST./', refused: /host "localhost" resolves to/, why: 'case and trailing dot' },
  { url: 'http://rebound.example.com/', refused: /allowLoopback \(GRAFT_NET_ALLOW_LOOPBACK=true, development only\)/, why: 'public-looking name, loopback record; says how to allowlist' },

  // metadata
  { url: 'http://169.254.169.254/latest/meta-data/', refused: /169\.254\.169\.254, in 169\.254\.169\.254\/32 \(cloud metadata endpoint/, why: 'metadata IPv4' },
  { url: 'http://[::ffff:169.254.169.254]/', refused: /carries the IPv4 address 169\.254\.169\.254\).*cloud metadata/, why: 'metadata, IPv4-mapped' },
  { url: 'http://[::ffff:a9fe:a9fe]/', refused: /cloud metadata/, why: 'metadata, mapped in hex' },
  { url: 'http://[fd00:ec2::254]/', refused: /fd00:ec2::254\/128 \(AWS IPv6 metadata/, why: 'metadata IPv6 (before fc00::/7)' },
  { url: 'http://100.100.100.200/', policy: with_({ allowPrivate: true }), refused: /Alibaba Cloud metadata/, why: 'metadata inside CGNAT: allowPrivate does not lift it' },
  { url: 'http://metadata.google.internal/computeMetadata/v1/', refused: /cloud metadata endpoint/, why: 'metadata by name (resolver not asked)' },
  { url: 'http://METADATA.google.internal./', refused: /cloud metadata endpoint/, why: 'metadata name, case and trailing dot' },
  { url: 'http://meta.internal/', policy: with_({ allowHosts: ['meta.internal'] }), refused: /only an explicit allowCidrs/, why: 'allowHosts does not lift metadata addresses' },
  { url: 'http://169.254.169.254/', policy: with_({ allowLoopback: true, allowPrivate: true }), refused: /cloud metadata/, why: 'no switch lifts metadata' },

  // link-local, private, unspecified, multicast, broadcast
  { url: 'http://169.254.10.1/', refused: /169\.254\.0\.0\/16 \(link-local\)/, why: 'link-local IPv4' },
  { url: 'http://[fe80::1]/', refused: /fe80::\/10 \(link-local\)/, why: 'link-local IPv6' },
  { url: 'http://10.0.0.1/', refused: /10\.0\.0\.0\/8 \(private network, RFC 1918\)/, why: 'RFC 1918' },
  { url: 'http://172.16.0.1/', refused: /172\.16\.0\.0\/12/, why: 'RFC 1918' },
  { url: 'http://172.31.255.255/', refused: /172\.16\.0\.0\/12/, why: 'RFC 1918, top of range' },
  { url: 'http://192.168.1.1/', refused: /192\.168\.0\.0\/16/, why: 'RFC 1918' },
  { url: 'http://100.64.0.1/', refused: /100\.64\.0\.0\/10 \(carrier-grade NAT/, why: 'CGNAT' },
  { url: 'http://[fc00::1]/', refused: /fc00::\/7/, why: 'IPv6 unique local' },
  { url: 'http://v6only.example.com/', refused: /fd12:3456::1, in fc00::\/7/, why: 'name resolving to IPv6 ULA' },
  { url: 'http://10.0.0.1/', policy: dev, refused: /allowPrivate/, why: 'dev policy allows loopback only' },
  { url: 'http://0.0.0.0/', refused: /0\.0\.0\.0\/8 \(unspecified/, why: 'unspecified (reaches the local host)' },
  { url: 'http://0/', refused: /0\.0\.0\.0\/8/, why: 'unspecified, short form' },
  { url: 'http://0.0.0.0:4101/', policy: dev, refused: /unspecified/, why: 'allowLoopback does not lift 0.0.0.0' },
  { url: 'http://[::]/', refused: /::\/128 \(unspecified/, why: 'IPv6 unspecified' },
  { url: 'http://224.0.0.1/', refused: /multicast/, why: 'multicast IPv4' },
  { url: 'http://[ff02::1]/', refused: /multicast/, why: 'multicast IPv6' },
  { url: 'http://255.255.255.255/', refused: /broadcast/, why: 'broadcast' },
  { url: 'http://240.0.0.1/', refused: /reserved/, why: 'class E' },

  // resolution
  { url: 'http://mixed.example.com/', refused: /10\.0\.0\.7, in 10\.0\.0\.0\/8.*one of its 2 addresses; every one must be allowed/, why: 'one private record among public ones' },
  { url: 'http://inventory.internal/', policy: with_({ allowHosts: ['other.internal'] }), refused: /allowHosts \["inventory\.internal"\]/, why: 'allowHosts is exact' },
  { url: 'http://nowhere.example.com/', refused: /could not be resolved \(ENOTFOUND\)/, why: 'fails closed when the name does not resolve' },
  { url: 'http://empty.example.com/', refused: /resolved to no address/, why: 'fails closed on an empty answer' },
];

describe('checkSubgraphUrl', () => {
  for (const row of ROWS) {
    const policyName = row.policy === dev ? 'dev' : row.policy ? 'custom' : 'production';
    test(`${row.refused ? 'refuses' : 'allows'} ${row.url} (${policyName}: ${row.why})`, async () => {
      const promise = checkSubgraphUrl(row.url, row.policy ?? prod, resolver);
      if (!row.refused) return assert.doesNotReject(promise);
      await assert.rejects(promise, (error: unknown) => {
        assert.ok(error instanceof GraftError, String(error));
        assert.equal(error.code, GraftErrorCode.URL_NOT_ALLOWED);
        assert.match(error.message, row.refused!);
        assert.doesNotMatch(error.message, /secret/, 'credentials are never echoed');
        return true;
      });
    });
  }

  test('a refusal names the address, the range and how to allowlist it, with machine-readable details', async () => {
    const error = await checkSubgraphUrl('http://inventory.internal/graphql', prod, resolver).catch((e: unknown) => e);
    assert.ok(error instanceof GraftError);
    assert.match(error.message, /host "inventory\.internal" resolves to 10\.0\.3\.4, in 10\.0\.0\.0\/8/);
    assert.match(error.message, /allowPrivate \(GRAFT_NET_ALLOW_PRIVATE=true\), allowHosts \["inventory\.internal"\] .* or allowCidrs \["10\.0\.3\.4\/32"\]/);
    assert.deepEqual(error.details, {
      url: 'http://inventory.internal/graphql',
      host: 'inventory.internal',
      address: '10.0.3.4',
      category: 'private',
      range: '10.0.0.0/8',
    });
    assert.equal(error.httpStatus, 400);
  });

  test('the metadata host name is refused without asking the resolver', async () => {
    let asked = false;
    await assert.rejects(
      checkSubgraphUrl('http://metadata.google.internal/', with_({ allowPrivate: true, allowLoopback: true }), async () => {
        asked = true;
        return [PUBLIC_V4];
      }),
      /cloud metadata endpoint/,
    );
    assert.equal(asked, false);
  });

  test('IP literals are not resolved', async () => {
    await checkSubgraphUrl(`http://${PUBLIC_V4}/`, prod, async () => assert.fail('resolver called for an IP literal'));
  });

  test('the default resolver is getaddrinfo: localhost is refused in production, allowed in development', async () => {
    await assert.rejects(checkSubgraphUrl('http://localhost:4101/graphql', prod), /loopback/);
    await checkSubgraphUrl('http://localhost:4101/graphql', dev);
  });
});

describe('network policy configuration', () => {
  test('bad allowCidrs / allowHosts entries fail loudly', () => {
    assert.throws(() => compileNetworkPolicy(with_({ allowCidrs: ['10.0.0.0/33'] })), /allowCidrs entry "10\.0\.0\.0\/33"/);
    assert.throws(() => compileNetworkPolicy(with_({ allowCidrs: ['intranet'] })), /is not a CIDR/);
    assert.throws(() => compileNetworkPolicy(with_({ allowHosts: ['*.internal'] })), /exact host name/);
    assert.throws(() => compileNetworkPolicy(with_({ allowHosts: ['10.0.0.1'] })), /put addresses in allowCidrs/);
  });

  test('networkPolicyFromEnv starts from the mode and applies the overrides', () => {
    assert.deepEqual(networkPolicyFromEnv({}, 'production'), prod);
    assert.deepEqual(networkPolicyFromEnv({}, 'development'), dev);
    assert.deepEqual(
      networkPolicyFromEnv(
        { GRAFT_NET_ALLOW_PRIVATE: 'true', GRAFT_NET_ALLOW_HOSTS: 'a.internal, b.internal', GRAFT_NET_ALLOW_CIDRS: '10.20.0.0/16 fd12::/16' },
        'production',
      ),
      { allowLoopback: false, allowPrivate: true, allowHosts: ['a.internal', 'b.internal'], allowCidrs: ['10.20.0.0/16', 'fd12::/16'] },
    );
    assert.equal(networkPolicyFromEnv({ GRAFT_NET_ALLOW_LOOPBACK: 'false' }, 'development').allowLoopback, false);
    assert.throws(() => networkPolicyFromEnv({ GRAFT_NET_ALLOW_PRIVATE: 'yes' }, 'production'), /GRAFT_NET_ALLOW_PRIVATE must be true or false/);
    assert.throws(() => networkPolicyFromEnv({ GRAFT_NET_ALLOW_CIDRS: '10/8' }, 'production'), /is not a CIDR/);
  });
});

describe('createGuardedConnect (undici Agent, real loopback server)', () => {
  let server: Server;
  let port: number;
  let connections = 0;

  before(async () => {
    server = createServer((_request, response) => response.end('ok'));
    server.on('connection', () => connections++);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function get(agent: Agent, origin: string): Promise<string> {
    try {
      const response = await agent.request({ origin, path: '/graphql', method: 'GET' });
      return await response.body.text();
    } finally {
      await agent.close();
    }
  }

  async function expectRefused(agent: Agent, origin: string, message: RegExp): Promise<void> {
    const before = connections;
    await assert.rejects(get(agent, origin), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 'URL_NOT_ALLOWED', String(error));
      assert.match((error as Error).message, message);
      return true;
    });
    assert.equal(connections, before, 'no TCP connection reached the server');
  }

  test('production policy: a loopback IP literal is refused before connecting', async () => {
    await expectRefused(new Agent({ connect: createGuardedConnect(prod) }), `http://127.0.0.1:${port}`, /127\.0\.0\.1, in 127\.0\.0\.0\/8 \(loopback\)/);
  });

  test('production policy: localhost (through getaddrinfo) is refused', async () => {
    await expectRefused(new Agent({ connect: createGuardedConnect(prod) }), `http://localhost:${port}`, /host "localhost" resolves to/);
  });

  test('production policy: IPv6 loopback literal is refused', async () => {
    await expectRefused(new Agent({ connect: createGuardedConnect(prod) }), `http://[::1]:${port}`, /::1\/128/);
  });

  test('dev policy: the same server is reached', async () => {
    assert.equal(await get(new Agent({ connect: createGuardedConnect(dev) }), `http://127.0.0.1:${port}`), 'ok');
    assert.equal(await get(new Agent({ connect: createGuardedConnect(dev) }), `http://localhost:${port}`), 'ok');
  });

  test('DNS rebinding: public at publish, 127.0.0.1 at connect time, refused at connect', async () => {
    let phase: 'publish' | 'connect' = 'publish';
    const rebinding: HostResolver = async () => (phase === 'publish' ? [PUBLIC_V4] : ['127.0.0.1']);
    const url = `http://rebind.example.com:${port}/graphql`;
    await checkSubgraphUrl(url, prod, rebinding);
    phase = 'connect';
    await expectRefused(
      new Agent({ connect: createGuardedConnect(prod, { resolve: rebinding }) }),
      new URL(url).origin,
      /host "rebind\.example\.com" resolves to 127\.0\.0\.1, in 127\.0\.0\.0\/8/,
    );
  });

  test('the connection goes to the address the guard checked (the injected lookup is the one used)', async () => {
    const agent = new Agent({ connect: createGuardedConnect(dev, { resolve: async () => ['127.0.0.1'] }) });
    assert.equal(await get(agent, `http://rebind.example.com:${port}`), 'ok');
  });

  test('rebinding to one bad record among good ones is refused', async () => {
    const agent = new Agent({ connect: createGuardedConnect(prod, { resolve: async () => [PUBLIC_V4, '169.254.169.254'] }) });
    await expectRefused(agent, `http://rebind.example.com:${port}`, /cloud metadata/);
  });

  test('https goes through the same guarded lookup', async () => {
    const agent = new Agent({ connect: createGuardedConnect(prod, { resolve: async () => ['127.0.0.1'] }) });
    await expectRefused(agent, `https://rebind.example.com:${port}`, /127\.0\.0\.0\/8/);
  });

  test('a metadata host name is refused at connect time without a lookup', async () => {
    const agent = new Agent({ connect: createGuardedConnect(prod, { resolve: async () => assert.fail('looked up') }) });
    await expectRefused(agent, 'http://metadata.google.internal', /cloud metadata endpoint/);
  });
});
