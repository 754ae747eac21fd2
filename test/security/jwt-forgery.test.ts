// The JWT forgery matrix against a real gateway (real HTTP, the dev issuer's real Ed25519
// key): every forged, stale, misaddressed or malformed token is refused on /graphql and on
// /admin/extensions with 401 UNAUTHENTICATED, no data, no stack trace, and nothing reaches
// the extension; the messages should also say what to do (a todo until gateway/auth does).
// Forged tokens carry scope graft:admin, so one that slipped through would answer 200.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, type JsonWebKey } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import type { GraftServer } from '../../gateway/server/index.js';
import { http, publish, startGateway, startRecordingSubgraph, tempDir, tokenFor, type RecordingSubgraph } from '../helpers/index.js';

// The example extensions' SDK is changing (gateway-token verification), so this suite
// publishes a tiny extension of its own.
const SDL = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key"])
type Query { hello: String! }`;
const QUERY = '{ hello }';
const MAX_TOKEN_BYTES = 8192;

/** A message that tells the caller what to do, not only what went wrong. */
const SAYS_WHAT_TO_DO = /\b(send|get a new|sign|use|ask|must|remove|renew|request a new)\b/i;

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');
const compact = (header: object, payload: object, signature = ''): string => `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${signature}`;
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

interface Keys {
  issuer: string;
  audience: string;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  attacker: { privateKey: CryptoKey; publicJwk: JWK };
  attackerUrl: string;
  upstreamToken: string;
}

interface ForgeryCase {
  name: string;
  /** The whole Authorization header value. */
  authorization: (keys: Keys) => Promise<string> | string;
  /** Extra check of the refusal message. */
  message?: RegExp;
}

/** Claims that would be accepted if signed by the dev issuer: admin, 10 minutes left. */
function claims(keys: Keys, changes: JWTPayload = {}): JWTPayload {
  const iat = nowSeconds();
  return { iss: keys.issuer, aud: keys.audience, sub: 'mallory', scope: 'graft:admin', iat, exp: iat + 600, ...changes };
}

function withoutClaim(payload: JWTPayload, claim: string): JWTPayload {
  const { [claim]: _dropped, ...rest } = payload;
  return rest;
}

/** Signs with the REAL dev issuer key: for the claim checks (the signature is fine, the claims are not). */
async function signReal(keys: Keys, payload: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', kid: keys.kid, typ: 'JWT', ...header }).sign(keys.privateKey);
}

async function signAttacker(keys: Keys, payload: JWTPayload, header: Record<string, unknown>): Promise<string> {
  return new SignJWT(payload).setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', ...header }).sign(keys.attacker.privateKey);
}

/** HS256 over the token with the issuer's PUBLIC key as the HMAC secret (algorithm confusion). */
function hmacWithPublicKey(keys: Keys, secret: Buffer | string): string {
  const header = { alg: 'HS256', kid: keys.kid, typ: 'JWT' };
  const unsigned = compact(header, claims(keys)).slice(0, -1);
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

const bearer = (token: string): string => `Bearer ${token}`;

const CASES: ForgeryCase[] = [
  { name: 'alg none', authorization: (k) => bearer(compact({ alg: 'none', kid: k.kid, typ: 'JWT' }, claims(k))) },
  { name: 'alg "None" with a signature copied from a real token', authorization: async (k) => bearer(compact({ alg: 'None', kid: k.kid }, claims(k), (await signReal(k, claims(k))).split('.')[2])) },
  { name: 'HS256 keyed with the public key bytes', authorization: (k) => bearer(hmacWithPublicKey(k, Buffer.from(k.publicJwk.x ?? '', 'base64url'))) },
  {
    name: 'HS256 keyed with the public key PEM',
    authorization: (k) => bearer(hmacWithPublicKey(k, createPublicKey({ key: { ...k.publicJwk } as JsonWebKey, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString())),
  },
  { name: 'HS256 keyed with the public JWK JSON', authorization: (k) => bearer(hmacWithPublicKey(k, JSON.stringify(k.publicJwk))) },
  { name: 'another Ed25519 key, same kid', authorization: async (k) => bearer(await signAttacker(k, claims(k), { kid: k.kid })) },
  { name: 'another Ed25519 key, no kid', authorization: async (k) => bearer(await signAttacker(k, claims(k), {})) },
  { name: 'ES256 (an allowed family elsewhere) by another key, same kid', authorization: async (k) => {
    const { privateKey } = await generateKeyPair('ES256');
    return bearer(await new SignJWT(claims(k)).setProtectedHeader({ alg: 'ES256', kid: k.kid }).sign(privateKey));
  } },
  { name: 'unknown kid (real key)', authorization: async (k) => bearer(await signReal(k, claims(k), { kid: 'rotated-away' })) },
  { name: 'expired (beyond the clock tolerance)', authorization: async (k) => bearer(await signReal(k, claims(k, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }))), message: /expired/ },
  { name: 'nbf in the future (beyond the clock tolerance)', authorization: async (k) => bearer(await signReal(k, claims(k, { nbf: nowSeconds() + 3600 }))), message: /nbf/ },
  { name: 'wrong iss', authorization: async (k) => bearer(await signReal(k, claims(k, { iss: 'https://evil.example' }))), message: /iss/ },
  { name: 'wrong aud', authorization: async (k) => bearer(await signReal(k, claims(k, { aud: 'another-api' }))), message: /aud/ },
  {
    name: 'tampered payload (scope raised, signature kept)',
    authorization: async (k) => {
      const [header, , signature] = (await signReal(k, claims(k, { sub: 'alice', scope: 'graft:read' }))).split('.');
      return bearer(`${header}.${b64url(JSON.stringify(claims(k, { sub: 'alice', scope: 'graft:admin' })))}.${signature}`);
    },
  },
  {
    name: 'oversized token (> 8 KiB), otherwise valid',
    authorization: async (k) => {
      const token = await signReal(k, claims(k, { pad: 'x'.repeat(MAX_TOKEN_BYTES) }));
      assert.ok(token.length > MAX_TOKEN_BYTES);
      return bearer(token);
    },
    message: /8192/,
  },
  { name: 'missing exp', authorization: async (k) => bearer(await signReal(k, withoutClaim(claims(k), 'exp'))), message: /exp/ },
  { name: 'missing sub', authorization: async (k) => bearer(await signReal(k, withoutClaim(claims(k), 'sub'))), message: /sub/ },
  { name: 'jku header to a key set the attacker serves', authorization: async (k) => bearer(await signAttacker(k, claims(k), { kid: 'attacker', jku: `${k.attackerUrl}/jwks.json` })), message: /jku/ },
  { name: 'x5u header to a certificate the attacker serves', authorization: async (k) => bearer(await signAttacker(k, claims(k), { kid: 'attacker', x5u: `${k.attackerUrl}/cert.pem` })), message: /x5u/ },
  { name: 'embedded jwk header with the attacker key', authorization: async (k) => bearer(await signAttacker(k, claims(k), { jwk: k.attacker.publicJwk })), message: /jwk/ },
  { name: 'embedded x5c header', authorization: async (k) => bearer(await signAttacker(k, claims(k), { x5c: [b64url('not really a certificate')] })) },
  { name: 'a token the gateway minted for an extension, replayed', authorization: (k) => bearer(k.upstreamToken) },
  { name: 'garbage string', authorization: () => bearer('garbage'), message: /not a JWT/ },
  { name: 'three garbage segments', authorization: () => bearer('!!!.???.###') },
  { name: 'Authorization: Basic', authorization: () => `Basic ${Buffer.from('admin:admin').toString('base64')}`, message: /Bearer/ },
  { name: 'Bearer without a token', authorization: () => 'Bearer ', message: /Bearer/ },
];

describe('JWT forgery matrix (real gateway, real keys)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let server: GraftServer;
  let subgraph: RecordingSubgraph;
  let attackerServer: Server;
  let attackerHits = 0;
  let keys: Keys;
  let validUser: string;
  let validAdmin: string;

  before(async () => {
    dir = await tempDir('graft-security-');
    subgraph = await startRecordingSubgraph(SDL, { Query: { hello: () => 'world' } });
    server = await startGateway(dir.path);
    validAdmin = await tokenFor(server, 'admin', ['graft:admin']);
    validUser = await tokenFor(server, 'alice', []);
    const published = await publish(server, validAdmin, {
      manifest: { name: 'hello', version: '1.0.0', owner: 'security-tests', subgraph: { url: subgraph.url, schema: 'hello.graphql' } },
      sdl: SDL,
    });
    assert.equal(published.status, 201, JSON.stringify(published.body));

    const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker', alg: 'EdDSA' };
    // Serves the attacker's key set and "certificate": the gateway must never fetch them.
    attackerServer = createServer((_request, response) => {
      attackerHits++;
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ keys: [attackerJwk] }));
    });
    await new Promise<void>((resolve) => attackerServer.listen(0, '127.0.0.1', resolve));

    const dev = server.devIssuer;
    assert.ok(dev, 'the test gateway runs the dev issuer');
    const publicJwk = dev.jwks.keys[0];
    assert.ok(publicJwk);
    keys = {
      issuer: dev.issuer,
      audience: dev.audience,
      kid: dev.kid,
      privateKey: dev.privateKey,
      publicJwk,
      attacker: { privateKey: attacker.privateKey, publicJwk: attackerJwk },
      attackerUrl: `http://127.0.0.1:${(attackerServer.address() as AddressInfo).port}`,
      upstreamToken: await server.upstreamTokens.tokenFor(
        { subject: 'alice', anonymous: false, scopes: new Set(['graft:admin']), tenant: undefined, claims: {} },
        'hello',
        ['graft:admin'],
      ),
    };
  });

  after(async () => {
    await server?.close();
    await subgraph?.close();
    if (attackerServer) {
      attackerServer.closeAllConnections();
      await new Promise<void>((resolve) => attackerServer.close(() => resolve()));
    }
    await dir?.remove();
  });

  test('control: the real tokens work on both endpoints (so the refusals below mean something)', async () => {
    const result = await http<{ data?: { hello?: string } }>(`${server.url}/graphql`, { body: { query: QUERY }, token: validUser });
    assert.equal(result.status, 200, JSON.stringify(result.body));
    assert.equal(result.body.data?.hello, 'world');
    const admin = await http(`${server.url}/admin/extensions`, { token: validAdmin });
    assert.equal(admin.status, 200);
    const user = await http(`${server.url}/admin/extensions`, { token: validUser });
    assert.equal(user.status, 200, 'a valid token without graft:admin sees the (filtered) list');
  });

  /** Every refusal message seen, for the "says what to do" check at the end. */
  const refusals: Array<{ where: string; message: string }> = [];

  function assertMessage(where: string, message: unknown, expected: RegExp | undefined): void {
    assert.equal(typeof message, 'string');
    if (expected) assert.match(message as string, expected);
    refusals.push({ where, message: message as string });
  }

  for (const forgery of CASES) {
    test(`/graphql refuses: ${forgery.name}`, async () => {
      const received = subgraph.received.length;
      const authorization = await forgery.authorization(keys);
      const result = await http<Record<string, any>>(`${server.url}/graphql`, { body: { query: QUERY }, headers: { authorization } });
      const text = JSON.stringify(result.body);
      assert.equal(result.status, 401, text);
      assert.equal(result.body['errors']?.[0]?.extensions?.code, 'UNAUTHENTICATED', text);
      assert.equal('data' in result.body, false, 'no data, not even null');
      assert.ok(!text.includes('    at '), 'no stack trace');
      assert.equal(subgraph.received.length, received, 'nothing reached the extension');
      assertMessage(`/graphql, ${forgery.name}`, result.body['errors'][0].message, forgery.message);
    });

    test(`/admin/extensions refuses: ${forgery.name}`, async () => {
      const authorization = await forgery.authorization(keys);
      const result = await http<Record<string, any>>(`${server.url}/admin/extensions`, { headers: { authorization } });
      const text = JSON.stringify(result.body);
      assert.equal(result.status, 401, text);
      assert.equal(result.body['code'], 'UNAUTHENTICATED', text);
      assert.equal('extensions' in result.body, false, 'no registry data');
      assert.ok(!text.includes('    at '), 'no stack trace');
      assertMessage(`/admin/extensions, ${forgery.name}`, result.body['message'], forgery.message);
    });
  }

  test('GET /graphql checks the token the same way', async () => {
    const authorization = bearer(compact({ alg: 'none', kid: keys.kid }, claims(keys)));
    const result = await http<Record<string, any>>(`${server.url}/graphql?query=${encodeURIComponent(QUERY)}`, {
      headers: { authorization, 'apollo-require-preflight': 'true' },
    });
    assert.equal(result.status, 401);
    assert.equal(result.body['errors']?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  });

  // Self-contained, so that it proves something when it runs alone (a filtered run): it
  // sends the URL-naming tokens itself, and first shows that the counter does count.
  test('the gateway never fetched a key or certificate from a URL a token named', async () => {
    const before = attackerHits;
    await fetch(`${keys.attackerUrl}/jwks.json`).then((response) => response.arrayBuffer());
    assert.equal(attackerHits, before + 1, 'control: a fetch of the attacker URL is counted');
    const naming = CASES.filter((c) => /jku|x5u/.test(c.name));
    assert.equal(naming.length, 2);
    for (const forgery of naming) {
      const authorization = await forgery.authorization(keys);
      const graphqlResult = await http(`${server.url}/graphql`, { body: { query: QUERY }, headers: { authorization } });
      const adminResult = await http(`${server.url}/admin/extensions`, { headers: { authorization } });
      assert.deepEqual([graphqlResult.status, adminResult.status], [401, 401], forgery.name);
    }
    assert.equal(attackerHits, before + 1, 'the gateway fetched nothing a token named');
  });

  // DESIGN.md decision 5: every error message says what to do.
  test(
    'every refusal message says what to do',
    () => {
      assert.ok(refusals.length >= CASES.length * 2, 'the matrix ran first');
      const unhelpful = [...new Set(refusals.filter((r) => !SAYS_WHAT_TO_DO.test(r.message)).map((r) => r.message))];
      assert.deepEqual(unhelpful, [], `messages that do not say what to do:\n${unhelpful.join('\n')}`);
    },
  );
});
