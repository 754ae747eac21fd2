// Verifying the token the Graft gateway mints for each subgraph fetch. The gateway never
// forwards the user's token: it signs a short-lived JWT (ES256 or EdDSA, `aud` = this
// extension, `scope` = user scopes ∩ the extension's grants) and publishes its public
// keys at <gateway>/.well-known/jwks.json. Without a valid one no GraphQL runs.
//
// jose accepts any `iss`/`aud` unless told and a token without `exp` unless
// `requiredClaims` names it: all three are always set here, and the algorithms are pinned.
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';

/** The claims of the verified gateway token, as resolvers and policies see them (`context.auth`). */
export interface ExtensionAuth {
  /** `sub`: the user's subject, "anonymous" for anonymous requests. */
  readonly subject: string;
  /** `scope`, split on spaces: the user's scopes that this extension is granted. */
  readonly scopes: ReadonlySet<string>;
  readonly tenant?: string;
  /** True for anonymous requests (`anon: true`, or subject "anonymous"); `@authenticated` refuses them. */
  readonly anonymous: boolean;
  /** Every verified claim. */
  readonly claims: Readonly<JWTPayload>;
}

/**
 * How `listen()` verifies gateway tokens:
 * - `{ jwksUrl, issuer }`: the gateway's JWKS endpoint (cached; refetched on an unknown kid,
 *   at most every 30 s);
 * - `{ jwks, issuer }`: a fixed key set (tests, or a gateway in the same process);
 * - `false`: no verification, every request runs as anonymous (tests and local experiments only).
 */
export type GatewayAuthOptions = { jwksUrl: string; issuer: string } | { jwks: JSONWebKeySet; issuer: string } | false;

/** `iss` of the gateway's tokens unless GRAFT_GATEWAY_ISSUER says otherwise. */
export const DEFAULT_GATEWAY_ISSUER = 'graft-gateway';
export const GATEWAY_JWKS_URL_ENV = 'GRAFT_GATEWAY_JWKS_URL';
export const GATEWAY_ISSUER_ENV = 'GRAFT_GATEWAY_ISSUER';
/** Algorithms the gateway signs with; never `none` or HMAC. */
export const GATEWAY_TOKEN_ALGORITHMS: readonly string[] = ['ES256', 'EdDSA'];
/** The gateway's tokens live at most 60 s (exp − iat); longer-lived ones are refused. */
export const MAX_GATEWAY_TOKEN_LIFETIME_SECONDS = 60;
const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_TOKEN_BYTES = 8192;

/** A refused token; the HTTP layer answers 401 UNAUTHENTICATED with this message. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
}

/**
 * The env fallback (what server.ts children get from the gateway that spawns them):
 * GRAFT_GATEWAY_JWKS_URL (required) and GRAFT_GATEWAY_ISSUER (default "graft-gateway").
 * Undefined when neither is set; throws when only the issuer is.
 */
export function gatewayAuthFromEnv(env: NodeJS.ProcessEnv): { jwksUrl: string; issuer: string } | undefined {
  const jwksUrl = env[GATEWAY_JWKS_URL_ENV] || undefined;
  const issuer = env[GATEWAY_ISSUER_ENV] || undefined;
  if (!jwksUrl && !issuer) return undefined;
  if (!jwksUrl) {
    throw new Error(`${GATEWAY_ISSUER_ENV} is set but ${GATEWAY_JWKS_URL_ENV} is not: set it to the gateway's JWKS URL (<gateway>/.well-known/jwks.json).`);
  }
  return { jwksUrl, issuer: issuer ?? DEFAULT_GATEWAY_ISSUER };
}

/** The explicit option, else the env fallback; throws the author-facing error when there is neither. */
export function resolveGatewayAuth(
  option: GatewayAuthOptions | undefined,
  env: NodeJS.ProcessEnv,
  extension: string,
): Exclude<GatewayAuthOptions, undefined> {
  if (option !== undefined) return option;
  const fromEnv = gatewayAuthFromEnv(env);
  if (fromEnv) return fromEnv;
  throw new Error(
    `Extension "${extension}" cannot start without gateway token verification. ` +
      `Pass listen({ auth: { jwksUrl: "<gateway>/.well-known/jwks.json", issuer: "${DEFAULT_GATEWAY_ISSUER}" } }) ` +
      `(or { jwks, issuer }), or set ${GATEWAY_JWKS_URL_ENV} and ${GATEWAY_ISSUER_ENV}; ` +
      `for tests and local experiments only, pass auth: false explicitly (every request then runs as anonymous).`,
  );
}

/** The context of a request when verification is off (`auth: false`). */
export function anonymousAuth(): ExtensionAuth {
  return { subject: 'anonymous', scopes: new Set<string>(), anonymous: true, claims: {} };
}

function scopesOf(claims: JWTPayload): Set<string> {
  const scopes = new Set<string>();
  const scope = claims['scope'];
  if (typeof scope === 'string') for (const s of scope.split(' ')) if (s) scopes.add(s);
  return scopes;
}

function toExtensionAuth(claims: JWTPayload): ExtensionAuth {
  const subject = claims.sub ?? '';
  const tenant = claims['tenant'];
  return {
    subject,
    scopes: scopesOf(claims),
    ...(typeof tenant === 'string' ? { tenant } : {}),
    anonymous: claims['anon'] === true || subject === 'anonymous',
    claims,
  };
}

/** The JWKS endpoint could not be read (network, timeout, non-200, not a key set): not the token's fault. */
function isKeyFetchFailure(error: unknown): boolean {
  if (error instanceof joseErrors.JWKSTimeout || error instanceof joseErrors.JWKSInvalid || error instanceof TypeError) return true;
  return error instanceof joseErrors.JOSEError && error.code === 'ERR_JOSE_GENERIC' && /JSON Web Key Set HTTP response/.test(error.message);
}

/** Verifies one gateway token (the part after "Bearer "). */
export type GatewayTokenVerifier = (token: string) => Promise<ExtensionAuth>;

export function createGatewayTokenVerifier(
  options: Exclude<GatewayAuthOptions, false>,
  extension: string,
): GatewayTokenVerifier {
  if (typeof options.issuer !== 'string' || options.issuer === '') {
    throw new Error(`Extension "${extension}": auth.issuer must be the gateway's issuer (e.g. "${DEFAULT_GATEWAY_ISSUER}").`);
  }
  let keys: JWTVerifyGetKey;
  if ('jwksUrl' in options) {
    let url: URL;
    try {
      url = new URL(options.jwksUrl);
    } catch {
      throw new Error(`Extension "${extension}": auth.jwksUrl "${options.jwksUrl}" is not a URL.`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new Error(`Extension "${extension}": auth.jwksUrl must be an http(s) URL, got "${options.jwksUrl}".`);
    }
    // Created once per listen(): jose caches the set and refetches it on an unknown kid.
    keys = createRemoteJWKSet(url);
  } else {
    keys = createLocalJWKSet(options.jwks);
  }
  const { issuer } = options;

  return async (token) => {
    if (token.length > MAX_TOKEN_BYTES) throw new AuthenticationError(`The gateway token is longer than ${MAX_TOKEN_BYTES} bytes.`);
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      throw new AuthenticationError('The bearer token is not a JWT.');
    }
    // Keys come from configuration only, never from the token itself.
    if (header.jwk !== undefined || header.jku !== undefined || header.x5u !== undefined || header.x5c !== undefined) {
      throw new AuthenticationError('Tokens that carry their own key or key location (jwk, jku, x5u or x5c header) are refused.');
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, keys, {
        issuer,
        audience: extension,
        algorithms: [...GATEWAY_TOKEN_ALGORITHMS],
        requiredClaims: ['exp', 'sub'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      }));
    } catch (cause) {
      if (cause instanceof joseErrors.JWTExpired) throw new AuthenticationError('The gateway token has expired.');
      if (cause instanceof joseErrors.JWTClaimValidationFailed) {
        const problem = cause.reason === 'missing' ? 'is missing' : 'is not accepted';
        throw new AuthenticationError(`The gateway token was refused: claim "${cause.claim}" ${problem}.`);
      }
      if (isKeyFetchFailure(cause)) {
        throw new AuthenticationError("The gateway's keys could not be fetched, so the token cannot be verified.");
      }
      throw new AuthenticationError('The gateway token was refused: its signature, algorithm or key is not accepted.');
    }
    const exp = payload.exp as number;
    const start = typeof payload.iat === 'number' ? payload.iat : Math.floor(Date.now() / 1000);
    if (exp - start > MAX_GATEWAY_TOKEN_LIFETIME_SECONDS + CLOCK_TOLERANCE_SECONDS) {
      throw new AuthenticationError(
        `The gateway token lives longer than ${MAX_GATEWAY_TOKEN_LIFETIME_SECONDS} s; gateway tokens are short-lived by contract.`,
      );
    }
    return toExtensionAuth(payload);
  };
}

/** The token of `Authorization: Bearer <token>`; throws AuthenticationError when absent or malformed. */
export function bearerToken(authorization: string | undefined): string {
  if (!authorization) {
    throw new AuthenticationError('This extension answers the Graft gateway only: send "Authorization: Bearer <gateway token>".');
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization);
  if (!match?.[1]) throw new AuthenticationError('The Authorization header must be "Bearer <gateway token>".');
  return match[1];
}
