// Gateway-token verification: real HTTP on 127.0.0.1, real keys made with jose.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  SignJWT,
  UnsecuredJWT,
  exportJWK,
  generateKeyPair,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
} from 'jose';
import { defineExtension, signTestToken, testAuth, type ExtensionContext, type RunningExtension } from './index.js';

const ISSUER = 'graft-gateway';
const NAME = 'auth-test';

const typeDefs = /* GraphQL */ `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@authenticated"])
  type Query {
    whoami: String
    members: String @authenticated
  }
`;

const extension = defineExtension({
  name: NAME,
  typeDefs,
  resolvers: {
    Query: {
      whoami: (_root: unknown, _args: unknown, { auth }: ExtensionContext) =>
        JSON.stringify({ subject: auth.subject, scopes: [...auth.scopes], tenant: auth.tenant ?? null, anonymous: auth.anonymous }),
      members: () => 'members only',
    },
  },
});

interface Key {
  privateKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(alg: 'ES256' | 'EdDSA' | 'RS256', kid: string): Promise<Key> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

const es256 = await makeKey('ES256', 'gateway-es256');
const ed25519 = await makeKey('EdDSA', 'gateway-ed25519');
const rsa = await makeKey('RS256', 'gateway-rs256');
const stranger = await makeKey('ES256', 'gateway-es256'); // same kid, different key
const jwks: JSONWebKeySet = { keys: [es256.jwk, ed25519.jwk, rsa.jwk] };

const running: RunningExtension = await extension.listen({ port: 0, auth: { jwks, issuer: ISSUER } });
after(() => running.close());

interface SignOptions {
  key?: Key;
  alg?: string;
  header?: Record<string, unknown>;
  claims?: JWTPayload;
  issuer?: string | undefined;
  audience?: string | undefined;
  subject?: string | undefined;
  iat?: number;
  exp?: number | undefined;
}

const now = (): number => Math.floor(Date.now() / 1000);

function sign(options: SignOptions = {}): Promise<string> {
  const key = options.key ?? es256;
  const alg = options.alg ?? String(key.jwk.alg);
  const jwt = new SignJWT({ scope: 'crm:read', ...options.claims }).setProtectedHeader({ alg, kid: key.jwk.kid, ...options.header });
  const issuer = 'issuer' in options ? options.issuer : ISSUER;
  const audience = 'audience' in options ? options.audience : NAME;
  const subject = 'subject' in options ? options.subject : 'user-1';
  const exp = 'exp' in options ? options.exp : now() + 60;
  if (issuer !== undefined) jwt.setIssuer(issuer);
  if (audience !== undefined) jwt.setAudience(audience);
  if (subject !== undefined) jwt.setSubject(subject);
  jwt.setIssuedAt(options.iat ?? now());
  if (exp !== undefined) jwt.setExpirationTime(exp);
  return jwt.sign(key.privateKey);
}

interface Body {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

async function post(url: string, headers: Record<string, string>, query = '{ whoami }') {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as Body };
}

function withToken(token: string, query?: string) {
  return post(running.url, { authorization: `Bearer ${token}` }, query);
}

async function assertRefused(result: Promise<{ status: number; body: Body }>, message?: RegExp): Promise<void> {
  const { status, body } = await result;
  assert.equal(status, 401);
  assert.equal(body.data, undefined, 'no data on a refused request');
  assert.equal(body.errors?.length, 1);
  assert.equal(body.errors?.[0]?.extensions?.['code'], 'UNAUTHENTICATED');
  assert.equal(body.errors?.[0]?.extensions?.['extension'], NAME);
  if (message) assert.match(body.errors?.[0]?.message ?? '', message);
}

test('a valid ES256 gateway token is accepted and its claims reach context.auth', async () => {
  const { status, body } = await withToken(await sign({ claims: { scope: 'crm:read crm:pii', tenant: 't1' } }));
  assert.equal(status, 200);
  assert.deepEqual(JSON.parse(String(body.data?.['whoami'])), {
    subject: 'user-1',
    scopes: ['crm:read', 'crm:pii'],
    tenant: 't1',
    anonymous: false,
  });
});

test('an EdDSA gateway token is accepted too', async () => {
  const { status } = await withToken(await sign({ key: ed25519 }));
  assert.equal(status, 200);
});

test('a request without a token is refused with 401 UNAUTHENTICATED and a Bearer challenge', async () => {
  const result = post(running.url, {});
  await assertRefused(result, /Authorization: Bearer/);
  assert.equal((await result).headers.get('www-authenticate'), 'Bearer error="invalid_token"');
});

test('an Authorization header that is not a bearer token is refused', async () => {
  await assertRefused(post(running.url, { authorization: 'Basic dXNlcjpwYXNz' }));
  await assertRefused(post(running.url, { authorization: 'Bearer not-a-jwt' }), /not a JWT/);
});

test('a GET /graphql without a token is refused as well', async () => {
  const response = await fetch(`${running.url}?query=${encodeURIComponent('{ whoami }')}`);
  assert.equal(response.status, 401);
});

test('an expired token is refused', async () => {
  await assertRefused(withToken(await sign({ iat: now() - 120, exp: now() - 60 })), /expired/);
});

test('a token for another extension (wrong aud) is refused', async () => {
  await assertRefused(withToken(await sign({ audience: 'crm' })), /"aud"/);
  await assertRefused(withToken(await sign({ audience: undefined })), /"aud"/);
});

test('a token from another issuer (wrong iss) is refused', async () => {
  await assertRefused(withToken(await sign({ issuer: 'graft-dev' })), /"iss"/);
  await assertRefused(withToken(await sign({ issuer: undefined })), /"iss"/);
});

test('a token without exp or without sub is refused', async () => {
  await assertRefused(withToken(await sign({ exp: undefined })), /"exp"/);
  await assertRefused(withToken(await sign({ subject: undefined })), /"sub"/);
});

test('a token that lives longer than 60 s is refused', async () => {
  await assertRefused(withToken(await sign({ exp: now() + 3600 })), /longer than 60 s/);
});

test('an unsigned token (alg none) is refused', async () => {
  const unsigned = new UnsecuredJWT({ scope: 'crm:read' }).setIssuer(ISSUER).setAudience(NAME).setSubject('user-1').setIssuedAt().setExpirationTime('60s').encode();
  await assertRefused(withToken(unsigned), /signature, algorithm or key/);
});

test('an HS256 token is refused, also when keyed with the public JWK (algorithm confusion)', async () => {
  const withSecret = async (secret: Uint8Array) =>
    new SignJWT({ scope: 'crm:read' })
      .setProtectedHeader({ alg: 'HS256', kid: es256.jwk.kid })
      .setIssuer(ISSUER)
      .setAudience(NAME)
      .setSubject('user-1')
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(secret);
  await assertRefused(withToken(await withSecret(new TextEncoder().encode('a-shared-secret-of-32-bytes-long!'))));
  await assertRefused(withToken(await withSecret(new TextEncoder().encode(JSON.stringify(es256.jwk)))));
});

test('an RS256 token is refused even though its key is in the set (algorithms are pinned)', async () => {
  await assertRefused(withToken(await sign({ key: rsa })), /signature, algorithm or key/);
});

test('a token signed by an unknown key with a known kid is refused', async () => {
  await assertRefused(withToken(await sign({ key: stranger })), /signature, algorithm or key/);
});

test('tokens that name their own key (jku, x5u, jwk header) are refused, even when correctly signed', async () => {
  await assertRefused(withToken(await sign({ header: { jku: 'https://attacker.example/jwks.json' } })), /jku/);
  await assertRefused(withToken(await sign({ header: { x5u: 'https://attacker.example/cert.pem' } })), /x5u/);
  await assertRefused(withToken(await sign({ header: { jwk: es256.jwk } })), /jwk/);
});

test('an anonymous gateway token runs as anonymous: @authenticated fields are refused', async () => {
  const token = await sign({ subject: 'anonymous', claims: { anon: true, scope: '' } });
  const { status, body } = await withToken(token, '{ whoami members }');
  assert.equal(status, 200);
  assert.deepEqual(JSON.parse(String(body.data?.['whoami'])), { subject: 'anonymous', scopes: [], tenant: null, anonymous: true });
  assert.equal(body.data?.['members'], null);
  assert.equal(body.errors?.[0]?.extensions?.['code'], 'UNAUTHORIZED_FIELD_OR_TYPE');
  const user = await withToken(await sign(), '{ members }');
  assert.deepEqual(user.body, { data: { members: 'members only' } });
});

test('GET /health stays public', async () => {
  const response = await fetch(new URL('/health', running.url));
  assert.equal(response.status, 200);
});

test('the test kit signs tokens that an extension listening with testAuth().auth accepts', async () => {
  const kit = await testAuth();
  const withKit = await extension.listen({ auth: kit.auth });
  try {
    const token = await signTestToken({ extension: NAME, scopes: ['x:y'], subject: 'ada', tenant: 't9' });
    const { status, body } = await post(withKit.url, { authorization: `Bearer ${token}` });
    assert.equal(status, 200);
    assert.deepEqual(JSON.parse(String(body.data?.['whoami'])), { subject: 'ada', scopes: ['x:y'], tenant: 't9', anonymous: false });
    const anonymous = await post(withKit.url, await kit.headers({ extension: NAME, anonymous: true }));
    assert.equal(JSON.parse(String(anonymous.body.data?.['whoami'])).anonymous, true);
    // A kit token for another extension is refused.
    await assertRefused(post(withKit.url, await kit.headers({ extension: 'crm' })));
  } finally {
    await withKit.close();
  }
});

async function jwksServer(respond: () => { status: number; body: unknown }): Promise<{ url: string; fetches: () => number; server: Server }> {
  let fetches = 0;
  const server = createServer((_req, res) => {
    fetches += 1;
    const { status, body } = respond();
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`, fetches: () => fetches, server };
}

test('auth: { jwksUrl } fetches the gateway keys once and caches them', async () => {
  const keys = await jwksServer(() => ({ status: 200, body: jwks }));
  const remote = await extension.listen({ auth: { jwksUrl: keys.url, issuer: ISSUER } });
  try {
    for (let i = 0; i < 3; i++) {
      const { status } = await post(remote.url, { authorization: `Bearer ${await sign()}` });
      assert.equal(status, 200);
    }
    assert.equal(keys.fetches(), 1);
  } finally {
    await remote.close();
    keys.server.close();
  }
});

test('when the gateway keys cannot be fetched, requests are refused with 401 saying so', async () => {
  const keys = await jwksServer(() => ({ status: 500, body: { error: 'down' } }));
  const remote = await extension.listen({ auth: { jwksUrl: keys.url, issuer: ISSUER } });
  try {
    await assertRefused(post(remote.url, { authorization: `Bearer ${await sign()}` }), /keys could not be fetched/);
  } finally {
    await remote.close();
    keys.server.close();
  }
});

async function withEnv<T>(values: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(values)) {
    saved[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return await run();
  } finally {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

test('listen() without auth and without GRAFT_GATEWAY_* refuses to start, saying what to configure', async () => {
  await withEnv({ GRAFT_GATEWAY_JWKS_URL: undefined, GRAFT_GATEWAY_ISSUER: undefined }, async () => {
    await assert.rejects(extension.listen({ port: 0 }), /cannot start without gateway token verification.*GRAFT_GATEWAY_JWKS_URL.*auth: false/);
  });
  await withEnv({ GRAFT_GATEWAY_JWKS_URL: undefined, GRAFT_GATEWAY_ISSUER: ISSUER }, async () => {
    await assert.rejects(extension.listen({ port: 0 }), /GRAFT_GATEWAY_ISSUER is set but GRAFT_GATEWAY_JWKS_URL is not/);
  });
});

test('listen() without auth uses GRAFT_GATEWAY_JWKS_URL and GRAFT_GATEWAY_ISSUER', async () => {
  const keys = await jwksServer(() => ({ status: 200, body: jwks }));
  try {
    const fromEnv = await withEnv({ GRAFT_GATEWAY_JWKS_URL: keys.url, GRAFT_GATEWAY_ISSUER: 'custom-issuer' }, () => extension.listen());
    try {
      assert.equal((await post(fromEnv.url, { authorization: `Bearer ${await sign({ issuer: 'custom-issuer' })}` })).status, 200);
      await assertRefused(post(fromEnv.url, { authorization: `Bearer ${await sign()}` }), /"iss"/);
      assert.equal((await post(fromEnv.url, {})).status, 401);
    } finally {
      await fromEnv.close();
    }
  } finally {
    keys.server.close();
  }
});

test('auth: false must be explicit, logs one warning line and runs every request as anonymous', async () => {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    lines.push(String(chunk));
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stderr.write;
  let open: RunningExtension;
  try {
    open = await extension.listen({ auth: false });
  } finally {
    process.stderr.write = write;
  }
  try {
    const warnings = lines.filter((line) => line.includes('auth: false'));
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^auth-test warn: .*NOT verified/);
    const { status, body } = await post(open.url, {}, '{ whoami members }');
    assert.equal(status, 200);
    assert.equal(JSON.parse(String(body.data?.['whoami'])).anonymous, true);
    assert.equal(body.errors?.[0]?.extensions?.['code'], 'UNAUTHORIZED_FIELD_OR_TYPE');
  } finally {
    await open.close();
  }
});

test('listen() refuses an auth option that cannot work', async () => {
  await assert.rejects(extension.listen({ auth: { jwksUrl: 'not a url', issuer: ISSUER } }), /is not a URL/);
  await assert.rejects(extension.listen({ auth: { jwksUrl: 'file:///etc/passwd', issuer: ISSUER } }), /http\(s\) URL/);
  await assert.rejects(extension.listen({ auth: { jwks, issuer: '' } }), /auth\.issuer/);
});
