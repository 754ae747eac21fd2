// The registration-time check of a subgraph URL. It resolves the host the way the
// gateway will (getaddrinfo) and requires EVERY address to pass: a name with one public
// and one private record would otherwise reach the private one on some connections.
// DNS can change after this check, which is why createGuardedConnect checks again.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import {
  allowlistAdvice,
  compileNetworkPolicy,
  describeRefusal,
  isMetadataHostName,
  normalizeHost,
  refusalFor,
  type CompiledNetworkPolicy,
  type NetworkPolicy,
} from './policy.js';

/** Resolves a host name to every address it has (IPv4 and IPv6). */
export type HostResolver = (host: string) => Promise<string[]>;

/** getaddrinfo through node:dns, all records, in the resolver's order. */
export const systemResolver: HostResolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

function refused(message: string, details: Record<string, unknown>): GraftError {
  return new GraftError(GraftErrorCode.URL_NOT_ALLOWED, message, { details });
}

/** A parsed, checked URL: what both the publish check and connect time start from. */
interface Target {
  url: URL;
  /** Normalized host name; undefined for an IP literal. */
  host: string | undefined;
  /** The IP literal, brackets removed, when the URL has one. */
  literal: string | undefined;
}

function parseTarget(raw: string): Target {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw refused(`Subgraph URL "${raw}" is not a valid absolute URL: use http(s)://host[:port]/path.`, { url: raw });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw refused(`Subgraph URL "${raw}" uses ${url.protocol.replace(/:$/, '')}; only http and https are allowed.`, { url: raw });
  }
  // The WHATWG parser drops an empty userinfo ("http://@host/"), so look at the raw
  // authority too: credentials in a URL end up in logs and confuse host checks.
  const authority = /^[a-z][a-z0-9+.-]*:[/\\]*([^/?#\\]*)/i.exec(raw.trim())?.[1] ?? '';
  if (url.username !== '' || url.password !== '' || authority.includes('@')) {
    throw refused(`Subgraph URL "${url.protocol}//…@${url.host}${url.pathname}" contains credentials (user:pass@); remove them, the gateway authenticates with its own token.`, {
      url: `${url.protocol}//${url.host}${url.pathname}`,
    });
  }
  const bare = normalizeHost(url.hostname);
  if (bare === '') throw refused(`Subgraph URL "${raw}" has no host.`, { url: raw });
  // node's URL parser already turns 2130706433, 0x7f.1, 0177.0.0.1 and 127.1 into 127.0.0.1.
  const literal = isIP(bare) === 0 ? undefined : bare;
  return { url, host: literal === undefined ? bare : undefined, literal };
}

/** The addresses behind a target, refusing resolution failures (fail closed). */
async function addressesOf(target: Target, resolve: HostResolver, raw: string): Promise<string[]> {
  if (target.literal !== undefined) return [target.literal];
  const host = target.host ?? '';
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw refused(
      `Subgraph URL "${raw}": host "${host}" could not be resolved${typeof code === 'string' ? ` (${code})` : ''}. Deploy the subgraph and make its name resolvable from the gateway, then publish again.`,
      { url: raw, host },
    );
  }
  if (addresses.length === 0) {
    throw refused(`Subgraph URL "${raw}": host "${host}" resolved to no address. Fix its DNS records, then publish again.`, { url: raw, host });
  }
  return addresses;
}

/**
 * Refuses a cloud metadata host name unless allowHosts names it exactly (its address then
 * still needs an allowCidrs entry). Shared with the connect-time guard.
 */
export function metadataNameRefusal(compiled: CompiledNetworkPolicy, host: string | undefined, context: string): GraftError | undefined {
  if (host === undefined || !isMetadataHostName(host) || compiled.hosts.has(host)) return undefined;
  return refused(
    `${context}: "${host}" is a cloud metadata endpoint, which holds the gateway host's credentials, not a subgraph. Use the extension's own host name.`,
    { host, category: 'metadata' },
  );
}

/** Checks every address against the compiled policy; throws on the first refused one. */
export function assertAddressesAllowed(
  compiled: CompiledNetworkPolicy,
  host: string | undefined,
  addresses: readonly string[],
  context: string,
  details: Record<string, unknown>,
): void {
  for (const address of addresses) {
    const refusal = refusalFor(compiled, host, address);
    if (!refusal) continue;
    const via = host === undefined ? 'the address is ' : `host "${host}" resolves to `;
    const others = addresses.length > 1 ? ` (one of its ${addresses.length} addresses; every one must be allowed)` : '';
    throw refused(`${context}: ${via}${describeRefusal(refusal)}${others}, which the gateway's network policy refuses. ${allowlistAdvice(refusal, host)}`, {
      ...details,
      ...(host === undefined ? {} : { host }),
      address: refusal.address,
      ...(refusal.embedded === undefined ? {} : { embeddedIPv4: refusal.embedded }),
      category: refusal.category,
      ...(refusal.cidr === undefined ? {} : { range: refusal.cidr }),
    });
  }
}

/**
 * Throws GraftError URL_NOT_ALLOWED unless `url` is http(s) without credentials and every
 * address its host resolves to is allowed by `policy`. `resolve` defaults to getaddrinfo
 * (node:dns lookup, all records); tests inject their own.
 */
export async function checkSubgraphUrl(url: string, policy: NetworkPolicy, resolve: HostResolver = systemResolver): Promise<void> {
  const compiled = compileNetworkPolicy(policy);
  const target = parseTarget(url);
  const context = `Subgraph URL "${target.url.href}"`;
  // Name first: the resolver may not know the name (a check run outside the cloud).
  const byName = metadataNameRefusal(compiled, target.host, context);
  if (byName) throw byName;
  const addresses = await addressesOf(target, resolve, target.url.href);
  assertAddressesAllowed(compiled, target.host, addresses, context, { url: target.url.href });
}
