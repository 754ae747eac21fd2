// The address ranges a subgraph URL must not reach by default, and how an address is
// matched against them. Kept apart from the policy so the table reads as one list.
import { BlockList, isIP, isIPv4 } from 'node:net';

/**
 * Why a range is refused. The category decides which policy switch can lift it:
 * `loopback` → allowLoopback, `private` → allowPrivate; every other category only an
 * explicit allowCidrs entry (those addresses are never a legitimate default target).
 */
export type RangeCategory = 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'broadcast' | 'reserved';

export interface RangeRule {
  cidr: string;
  category: RangeCategory;
  /** Human name shown in refusals, e.g. "cloud metadata endpoint". */
  label: string;
}

interface CompiledRule extends RangeRule {
  family: 'ipv4' | 'ipv6';
  list: BlockList;
}

// Order matters: the first match names the refusal, so specific entries (metadata) come
// before the broader range that contains them (link-local, CGNAT, ULA).
const RULES: RangeRule[] = [
  { cidr: '169.254.169.254/32', category: 'metadata', label: 'cloud metadata endpoint of AWS, GCP, Azure and OCI' },
  { cidr: '169.254.170.2/32', category: 'metadata', label: 'AWS ECS task metadata endpoint' },
  { cidr: '100.100.100.200/32', category: 'metadata', label: 'Alibaba Cloud metadata endpoint' },
  { cidr: 'fd00:ec2::254/128', category: 'metadata', label: 'AWS IPv6 metadata endpoint' },
  { cidr: '0.0.0.0/8', category: 'unspecified', label: 'unspecified, "this network": 0.0.0.0 reaches the local host' },
  { cidr: '::/128', category: 'unspecified', label: 'unspecified address' },
  { cidr: '127.0.0.0/8', category: 'loopback', label: 'loopback' },
  { cidr: '::1/128', category: 'loopback', label: 'loopback' },
  { cidr: '169.254.0.0/16', category: 'link-local', label: 'link-local' },
  { cidr: 'fe80::/10', category: 'link-local', label: 'link-local' },
  { cidr: '10.0.0.0/8', category: 'private', label: 'private network, RFC 1918' },
  { cidr: '172.16.0.0/12', category: 'private', label: 'private network, RFC 1918' },
  { cidr: '192.168.0.0/16', category: 'private', label: 'private network, RFC 1918' },
  { cidr: '100.64.0.0/10', category: 'private', label: 'carrier-grade NAT, RFC 6598' },
  { cidr: '198.18.0.0/15', category: 'private', label: 'benchmarking network, RFC 2544' },
  { cidr: 'fc00::/7', category: 'private', label: 'IPv6 unique local, private' },
  { cidr: 'fec0::/10', category: 'private', label: 'IPv6 site-local, deprecated private' },
  { cidr: '64:ff9b:1::/48', category: 'private', label: 'local-use NAT64, RFC 8215' },
  { cidr: '192.0.0.0/24', category: 'reserved', label: 'IETF protocol assignments' },
  { cidr: '224.0.0.0/4', category: 'multicast', label: 'multicast' },
  { cidr: 'ff00::/8', category: 'multicast', label: 'multicast' },
  { cidr: '255.255.255.255/32', category: 'broadcast', label: 'broadcast' },
  { cidr: '240.0.0.0/4', category: 'reserved', label: 'reserved, class E' },
];

export interface ParsedCidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** "10.0.0.0/8", "fd00::/8" or a bare address (= /32 or /128). Undefined when malformed. */
export function parseCidr(text: string): ParsedCidr | undefined {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  if (rest.length > 0) return undefined;
  const version = isIP(address);
  if (version === 0) return undefined;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

const COMPILED: CompiledRule[] = RULES.map((rule) => {
  const parsed = parseCidr(rule.cidr);
  if (!parsed) throw new Error(`netpolicy: bad built-in range ${rule.cidr}`);
  const list = new BlockList();
  list.addSubnet(parsed.address, parsed.prefix, parsed.family);
  return { ...rule, family: parsed.family, list };
});

/** The first built-in range that contains `address` (same family only), if any. */
export function matchRange(address: string): RangeRule | undefined {
  const family = isIPv4(address) ? 'ipv4' : 'ipv6';
  // BlockList would also match an IPv4-mapped IPv6 address against IPv4 rules; we unwrap
  // embedded IPv4 addresses explicitly (embeddedIPv4) so the refusal can name them.
  const rule = COMPILED.find((r) => r.family === family && r.list.check(address, family));
  return rule && { cidr: rule.cidr, category: rule.category, label: rule.label };
}

/** Drops an IPv6 zone id ("fe80::1%eth0"): it says which interface, not which address. */
export function withoutZone(address: string): string {
  const percent = address.indexOf('%');
  return percent === -1 ? address : address.slice(0, percent);
}

/** The 16 bytes of an IPv6 address (no zone id), or undefined. */
export function ipv6Bytes(address: string): Uint8Array | undefined {
  let text = withoutZone(address);
  if (isIP(text) !== 6) return undefined;
  const bytes = new Uint8Array(16);
  // A trailing dotted quad (::ffff:1.2.3.4) stands for the last two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  let tailBytes: number[] = [];
  if (tail.includes('.')) {
    tailBytes = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [head = '', rest] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(rest === undefined ? 0 : zeros).fill('0'), ...restGroups];
  if (groups.length !== 8) return undefined;
  groups.forEach((group, i) => {
    const value = parseInt(group, 16);
    bytes[i * 2] = value >> 8;
    bytes[i * 2 + 1] = value & 0xff;
  });
  if (tailBytes.length === 4) bytes.set(tailBytes, 12);
  return bytes;
}

function dotted(bytes: Uint8Array, offset: number): string {
  return [0, 1, 2, 3].map((i) => bytes[offset + i] ?? 0).join('.');
}

/**
 * The IPv4 address an IPv6 address carries and would reach, if any: IPv4-mapped
 * (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d), IPv4-compatible (::a.b.c.d),
 * NAT64 (64:ff9b::/96) and 6to4 (2002::/16). Without this, ::ffff:169.254.169.254 would
 * slip past every IPv4 rule.
 */
export function embeddedIPv4(address: string): string | undefined {
  const bytes = ipv6Bytes(address);
  if (!bytes) return undefined;
  const zeroUntil = (end: number): boolean => bytes.slice(0, end).every((b) => b === 0);
  if (zeroUntil(10) && bytes[10] === 0xff && bytes[11] === 0xff) return dotted(bytes, 12);
  if (zeroUntil(8) && bytes[8] === 0xff && bytes[9] === 0xff && bytes[10] === 0 && bytes[11] === 0) return dotted(bytes, 12);
  if (zeroUntil(12)) {
    // :: and ::1 are the IPv6 unspecified and loopback addresses, matched as such.
    const last = dotted(bytes, 12);
    return last === '0.0.0.0' || last === '0.0.0.1' ? undefined : last;
  }
  const nat64 = [0x00, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0];
  if (nat64.every((b, i) => bytes[i] === b)) return dotted(bytes, 12);
  if (bytes[0] === 0x20 && bytes[1] === 0x02) return dotted(bytes, 2);
  return undefined;
}
