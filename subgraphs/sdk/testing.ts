// A test kit for extension authors: real gateway-style tokens from a local ES256 key pair,
// so an extension is tested with its token check and access rules on, exactly as the
// gateway will call it.
//
//   const kit = await testAuth();
//   const running = await extension.listen({ port: 0, auth: kit.auth });
//   const headers = await kit.headers({ extension: 'crm', scopes: ['crm:read'] });
//   await fetch(running.url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JSONWebKeySet } from 'jose';
import { DEFAULT_GATEWAY_ISSUER, MAX_GATEWAY_TOKEN_LIFETIME_SECONDS } from './auth.js';
import { COST_BUDGET_HEADER } from './cost.js';

export interface TestTokenInput {
  /** The extension the token is for (`aud`). */
  extension: string;
  /** Granted scopes (`scope`); default none. */
  scopes?: readonly string[];
  /** `sub`; default "test-user" ("anonymous" when `anonymous` is set). */
  subject?: string;
  tenant?: string;
  /** An anonymous request: `sub` "anonymous" and `anon: true`. */
  anonymous?: boolean;
  /** Lifetime; default and maximum accepted by the SDK: 60 s. */
  ttlSeconds?: number;
}

export interface TestAuth {
  /** Pass as `listen({ auth })`. */
  readonly auth: { jwks: JSONWebKeySet; issuer: string };
  /** Signs a token the extension accepts (ES256, kid, iss, aud, sub, scope, exp). */
  sign(input: TestTokenInput): Promise<string>;
  /** `authorization` (and `graft-cost-budget` when given) headers, as the gateway sends them. */
  headers(input: TestTokenInput & { costBudget?: number }): Promise<Record<string, string>>;
}

const TEST_KID = 'graft-test-key';

async function createTestAuth(): Promise<TestAuth> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid: TEST_KID, alg: 'ES256', use: 'sig' };
  const sign = (input: TestTokenInput): Promise<string> => signWith(privateKey, input);
  return {
    auth: { jwks: { keys: [publicJwk] }, issuer: DEFAULT_GATEWAY_ISSUER },
    sign,
    async headers({ costBudget, ...input }) {
      return {
        authorization: `Bearer ${await sign(input)}`,
        ...(costBudget === undefined ? {} : { [COST_BUDGET_HEADER]: String(costBudget) }),
      };
    },
  };
}

function signWith(privateKey: CryptoKey, input: TestTokenInput): Promise<string> {
  const claims: Record<string, unknown> = { scope: (input.scopes ?? []).join(' ') };
  if (input.tenant !== undefined) claims['tenant'] = input.tenant;
  if (input.anonymous) claims['anon'] = true;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: TEST_KID, typ: 'JWT' })
    .setIssuer(DEFAULT_GATEWAY_ISSUER)
    .setAudience(input.extension)
    .setSubject(input.anonymous ? 'anonymous' : (input.subject ?? 'test-user'))
    .setIssuedAt()
    .setExpirationTime(`${input.ttlSeconds ?? MAX_GATEWAY_TOKEN_LIFETIME_SECONDS}s`)
    .sign(privateKey);
}

let shared: Promise<TestAuth> | undefined;

/** The process-wide test key pair (created on first use) with its `auth` option and signer. */
export function testAuth(): Promise<TestAuth> {
  shared ??= createTestAuth();
  return shared;
}

/** Signs with the key pair of testAuth(); the extension must listen with `(await testAuth()).auth`. */
export async function signTestToken(input: TestTokenInput): Promise<string> {
  return (await testAuth()).sign(input);
}
