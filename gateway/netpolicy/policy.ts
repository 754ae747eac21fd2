// The network policy for subgraph URLs (DESIGN.md, decision 6: third-party code is
// untrusted). An extension author chooses the URL the gateway will POST to, from inside
// the operator's network: without a policy that is a server-side request forgery
// primitive (cloud metadata, admin ports on loopback, the private network).
import { BlockList, isIP, isIPv4 } from 'node:net';
import { NETWORK_POLICY_ENV, networkPolicySettingsFromEnv, type NetworkPolicy } from '../config/index.js';

export type { NetworkPolicy };
import { embeddedIPv4, matchRange, parseCidr, withoutZone, type RangeCategory } from './ranges.js';







/**
 * The policy for a gateway mode, adjusted by GRAFT_NET_ALLOW_LOOPBACK / _PRIVATE (true|false)
 * and GRAFT_NET_ALLOW_HOSTS / _CIDRS (comma or space separated), as the configuration reads
 * them. Throws on a bad entry, so a typo fails the start instead of silently allowing
 * nothing (or everything).
 */
export function networkPolicyFromEnv(env: Readonly<Record<string, string | undefined>>, mode: 'development' | 'production'): NetworkPolicy {
  const policy = networkPolicySettingsFromEnv(env, mode);
  compileNetworkPolicy(policy);
  return policy;
}

/** Host names are compared lower-case, without brackets or the root's trailing dot. */
export function normalizeHost(host: string): string {
  let name = host.trim().toLowerCase();
  if (name.startsWith('[') && name.endsWith(']')) name = name.slice(1, -1);
  while (name.endsWith('.')) name = name.slice(0, -1);
  return name;
}

// Refused by name before any lookup: a resolver may not know them (the check can run
// outside the cloud) while the gateway host does.
const METADATA_HOST_NAMES = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
]);

export function isMetadataHostName(host: string): boolean {
  return METADATA_HOST_NAMES.has(normalizeHost(host));
}

export interface CompiledNetworkPolicy {
  readonly policy: Readonly<NetworkPolicy>;
  readonly hosts: ReadonlySet<string>;
  readonly cidrs: BlockList;
}

/** Validates and indexes a policy once; throws naming the bad entry. */
export function compileNetworkPolicy(policy: NetworkPolicy): CompiledNetworkPolicy {
  const cidrs = new BlockList();
  for (const entry of policy.allowCidrs) {
    const parsed = parseCidr(entry);
    if (!parsed) throw new Error(`Network policy: allowCidrs entry "${entry}" is not a CIDR such as "10.20.0.0/16" or "fd12::/16".`);
    cidrs.addSubnet(parsed.address, parsed.prefix, parsed.family);
  }
  const hosts = new Set<string>();
  for (const entry of policy.allowHosts) {
    const host = normalizeHost(entry);
    if (host === '' || host.includes('*') || host.includes('/') || isIP(host) !== 0) {
      throw new Error(`Network policy: allowHosts entry "${entry}" must be an exact host name (put addresses in allowCidrs).`);
    }
    hosts.add(host);
  }
  return { policy: { ...policy, allowHosts: [...policy.allowHosts], allowCidrs: [...policy.allowCidrs] }, hosts, cidrs };
}

/** Why one address is refused. */
export interface AddressRefusal {
  /** The address as resolved. */
  address: string;
  /** The IPv4 address hidden in an IPv6 one (::ffff:169.254.169.254), when that is what matched. */
  embedded?: string;
  category: RangeCategory | 'invalid';
  /** The matched range, e.g. "127.0.0.0/8". */
  cidr?: string;
  label: string;
}

function lifted(compiled: CompiledNetworkPolicy, category: RangeCategory, hostAllowed: boolean): boolean {
  if (category === 'loopback') return compiled.policy.allowLoopback || hostAllowed;
  if (category === 'private') return compiled.policy.allowPrivate || hostAllowed;
  return false;
}

function inCidrs(compiled: CompiledNetworkPolicy, address: string): boolean {
  return compiled.cidrs.check(address, isIPv4(address) ? 'ipv4' : 'ipv6');
}

/**
 * Undefined when `address` may be reached for `host` (a normalized host name, or
 * undefined for an IP literal), else why not.
 */
export function refusalFor(compiled: CompiledNetworkPolicy, host: string | undefined, address: string): AddressRefusal | undefined {
  const plain = withoutZone(address);
  if (isIP(plain) === 0) return { address, category: 'invalid', label: 'not an IP address' };
  const embedded = isIPv4(plain) ? undefined : embeddedIPv4(plain);
  if (inCidrs(compiled, plain) || (embedded !== undefined && inCidrs(compiled, embedded))) return undefined;
  const hostAllowed = host !== undefined && compiled.hosts.has(host);
  for (const candidate of embedded === undefined ? [plain] : [plain, embedded]) {
    const rule = matchRange(candidate);
    if (rule && !lifted(compiled, rule.category, hostAllowed)) {
      return { address, ...(candidate === plain ? {} : { embedded: candidate }), category: rule.category, cidr: rule.cidr, label: rule.label };
    }
  }
  return undefined;
}

/** "how to allowlist it" for a refusal, naming the policy fields and their env variables. */
export function allowlistAdvice(refusal: AddressRefusal, host: string | undefined): string {
  const single = `${refusal.embedded ?? withoutZone(refusal.address)}/${isIPv4(refusal.embedded ?? withoutZone(refusal.address)) ? 32 : 128}`;
  const cidr = `allowCidrs ["${single}"] (${NETWORK_POLICY_ENV.allowCidrs})`;
  const byHost = host === undefined ? '' : `, allowHosts ["${host}"] (${NETWORK_POLICY_ENV.allowHosts})`;
  switch (refusal.category) {
    case 'loopback':
      return `The gateway operator can allow it with allowLoopback (${NETWORK_POLICY_ENV.allowLoopback}=true, development only)${byHost} or ${cidr}.`;
    case 'private':
      return `The gateway operator can allow it with allowPrivate (${NETWORK_POLICY_ENV.allowPrivate}=true)${byHost} or ${cidr}.`;
    case 'metadata':
      return `Cloud metadata endpoints hold instance credentials; only an explicit ${cidr} in the gateway's network policy allows it.`;
    case 'invalid':
      return 'Use a host name or an IP address.';
    default:
      return `Only an explicit ${cidr} in the gateway's network policy allows it.`;
  }
}

/** Which address and which range: "127.0.0.1, in 127.0.0.0/8 (loopback)". */
export function describeRefusal(refusal: AddressRefusal): string {
  if (refusal.category === 'invalid') return `"${refusal.address}", which is not an IP address`;
  const hidden = refusal.embedded === undefined ? '' : ` (which carries the IPv4 address ${refusal.embedded})`;
  return `${refusal.address}${hidden}, in ${refusal.cidr} (${refusal.label})`;
}
