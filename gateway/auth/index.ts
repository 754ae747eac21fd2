// Verifying the JWTs that reach Graft (admin API now, /graphql with the policy work)
// and the development issuer that `npm start` and `graft token` sign with.
//
// jose accepts any `iss`/`aud` unless told and a token without `exp` unless
// `requiredClaims` names it (DESIGN.md, reference facts): all three are always set here,
// and the accepted algorithms are pinned.
import { join } from 'node:path';
import {
  SignJWT,
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import { loadOrCreateKeyFile } from './key-file.js';

/** The operator's scope: every admin route, every extension. */
export const ADMIN_SCOPE = 'graft:admin';
/** The scope of the owner of one extension (its CI, its author): check and publish it. */
export const publishScopeFor = (name: string): string => `graft:publish:${name}`;

export { loadOrCreateKeyFile, replaceKeyFile } from './key-file.js';

/** Who is calling, after the token was verified. */
export interface Principal {
  subject: string;
  /** No token was sent. A real user whose id happens to be "anonymous" is not anonymous. */
  anonymous: boolean;
  scopes: ReadonlySet<string>;
  tenant: string | undefined;
  claims: JWTPayload;
  /**
   * Present when the caller sent an extension key (gateway/keys) instead of a JWT: what the
   * key may do, on its one extension. Such a principal holds no scope.
   */
  key?: { id: string; prefix: string; extension: string; scopes: ReadonlyArray<'check' | 'publish'> };
}

export const ANONYMOUS: Principal = Object.freeze({
  subject: 'anonymous',
  anonymous: true,
  scopes: new Set<string>(),
  tenant: undefined,
  claims: {},
});

export interface TokenVerifierOptions {
  issuer: string;
  audience: string;
  /** Accepted `alg` values; `none` and HMAC are never accepted with asymmetric keys. */
  algorithms: string[];
  /** Either a JWKS URL (cached by jose, refreshed on an unknown kid) ... */
  jwksUrl?: string;
  /** ... or a set of public keys. */
  jwks?: JSONWebKeySet;
  clockToleranceSeconds: number;
  /** Tokens longer than this are refused before any parsing. */
  maxTokenBytes?: number;
  /** Longest accepted lifetime (exp − now, and exp − iat): a ten-year token is a leaked token. */
  maxLifetimeSeconds?: number;
  /** Verified tokens remembered (until they expire) so a client's next request skips the signature check. */
  cacheSize?: number;
}

export type TokenVerifier = (token: string) => Promise<Principal>;

const FORBIDDEN_ALGORITHMS = new Set(['none', 'HS256', 'HS384', 'HS512']);

/** Scopes come as an OAuth `scope` string (space separated) or an `scp` array. */
export function scopesOf(claims: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  const scope = claims['scope'];
  if (typeof scope === 'string') for (const s of scope.split(' ')) if (s) scopes.add(s);
  const scp = claims['scp'];
  if (Array.isArray(scp)) for (const s of scp) if (typeof s === 'string' && s) scopes.add(s);
  return scopes;
}

function unauthenticated(message: string, cause?: unknown): GraftError {
  return new GraftError(GraftErrorCode.UNAUTHENTICATED, message, { cause });
}

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const algorithms = options.algorithms.filter((a) => !FORBIDDEN_ALGORITHMS.has(a));
  if (algorithms.length === 0) throw new Error('createTokenVerifier: no acceptable algorithm configured');
  let keys: JWTVerifyGetKey;
  if (options.jwksUrl) keys = createRemoteJWKSet(new URL(options.jwksUrl));
  else if (options.jwks) keys = createLocalJWKSet(options.jwks);
  else throw new Error('createTokenVerifier: configure jwksUrl or jwks');
  const maxTokenBytes = options.maxTokenBytes ?? 8192;
  const maxLifetime = options.maxLifetimeSeconds ?? 24 * 3600;
  const fix = `Get a new token from issuer "${options.issuer}" for audience "${options.audience}" and send it as "Authorization: Bearer <JWT>".`;

  // A frontend sends the same token on every request: the signature is checked once, the
  // result reused until the token expires. Keyed by the whole token, so nothing unverified
  // is ever served from here; bounded, oldest dropped first.
  const verified = new Map<string, { principal: Principal; expiresAtMs: number }>();
  const cacheSize = options.cacheSize ?? 10_000;

  const verify = async (token: string): Promise<Principal> => {
    if (token.length > maxTokenBytes) {
      throw unauthenticated(`The token is longer than ${maxTokenBytes} bytes: ask your identity provider for a token with fewer claims.`);
    }
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch (cause) {
      throw unauthenticated('The bearer token is not a JWT. Send "Authorization: Bearer <JWT>".', cause);
    }
    // Keys are only ever taken from configuration, never from the token itself.
    if (header.jwk !== undefined || header.jku !== undefined || header.x5u !== undefined || header.x5c !== undefined) {
      throw unauthenticated(`Tokens that carry or point to their own key (jwk, jku, x5u or x5c header) are refused. ${fix}`);
    }
    try {
      const { payload } = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        algorithms,
        requiredClaims: ['exp', 'sub'],
        clockTolerance: options.clockToleranceSeconds,
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') {
        throw unauthenticated(`The token's "sub" claim must be a non-empty string. ${fix}`);
      }
      const now = Math.floor(Date.now() / 1000);
      const exp = payload.exp ?? 0;
      if (exp - now > maxLifetime || (payload.iat !== undefined && (exp - payload.iat > maxLifetime || payload.iat > now + options.clockToleranceSeconds))) {
        throw unauthenticated(`The token lives longer than ${maxLifetime} s or was issued in the future. ${fix}`);
      }
      return {
        subject: payload.sub,
        anonymous: false,
        scopes: scopesOf(payload),
        tenant: typeof payload['tenant'] === 'string' ? payload['tenant'] : undefined,
        claims: payload,
      };
    } catch (cause) {
      if (cause instanceof GraftError) throw cause;
      if (cause instanceof joseErrors.JWTExpired) throw unauthenticated(`The token has expired. ${fix}`, cause);
      if (cause instanceof joseErrors.JWTClaimValidationFailed) {
        throw unauthenticated(`The token was refused: claim "${cause.claim}" ${cause.reason === 'check_failed' ? 'is not accepted' : 'is missing'}. ${fix}`, cause);
      }
      throw unauthenticated(`The token was refused: its signature, algorithm or key is not accepted. ${fix}`, cause);
    }
  };

  return async (token) => {
    const cached = verified.get(token);
    if (cached) {
      if (cached.expiresAtMs > Date.now()) return cached.principal;
      verified.delete(token);
    }
    const principal = await verify(token);
    const exp = principal.claims.exp;
    if (typeof exp === 'number') {
      if (verified.size >= cacheSize) {
        const oldest = verified.keys().next().value;
        if (oldest !== undefined) verified.delete(oldest);
      }
      verified.set(token, { principal, expiresAtMs: exp * 1000 });
    }
    return principal;
  };
}

/** Reads `Authorization: Bearer <token>`; undefined when there is no such header. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw unauthenticated('The Authorization header must be "Bearer <JWT>".');
  return match[1];
}

// ---------------------------------------------------------------------------
// The development issuer: an Ed25519 key created on first start in the data dir.

export const DEV_ISSUER = 'graft-dev';
export const DEV_AUDIENCE = 'graft';
const DEV_ALGORITHM = 'EdDSA';

export interface DevIssuer {
  issuer: string;
  audience: string;
  kid: string;
  privateKey: CryptoKey;
  jwks: JSONWebKeySet;
}

export async function loadOrCreateDevIssuer(dataDir: string): Promise<DevIssuer> {
  // Two processes starting at once must not overwrite each other's key (key-file.ts).
  const privateJwk = await loadOrCreateKeyFile(join(dataDir, 'dev-issuer.jwk.json'), async () => {
    const { privateKey } = await generateKeyPair(DEV_ALGORITHM, { crv: 'Ed25519', extractable: true });
    return { ...(await exportJWK(privateKey)), kid: `dev-${Date.now().toString(36)}`, alg: DEV_ALGORITHM };
  });
  const { d: _private, ...publicJwk } = privateJwk;
  const privateKey = (await importJWK(privateJwk, DEV_ALGORITHM)) as CryptoKey;
  return {
    issuer: DEV_ISSUER,
    audience: DEV_AUDIENCE,
    kid: privateJwk.kid ?? 'dev',
    privateKey,
    jwks: { keys: [{ ...publicJwk, use: 'sig' }] },
  };
}

export interface DevTokenInput {
  subject: string;
  scopes: string[];
  tenant?: string;
  ttlSeconds?: number;
}

export async function signDevToken(issuer: DevIssuer, input: DevTokenInput): Promise<string> {
  const jwt = new SignJWT({
    scope: input.scopes.join(' '),
    ...(input.tenant ? { tenant: input.tenant } : {}),
  })
    .setProtectedHeader({ alg: DEV_ALGORITHM, kid: issuer.kid, typ: 'JWT' })
    .setIssuer(issuer.issuer)
    .setAudience(issuer.audience)
    .setSubject(input.subject)
    .setIssuedAt()
    .setExpirationTime(`${input.ttlSeconds ?? 3600}s`);
  return jwt.sign(issuer.privateKey);
}
