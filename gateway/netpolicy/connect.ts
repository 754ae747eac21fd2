// The connect-time half of the URL policy. A URL checked at publish can still be turned
// against the gateway later: its DNS name may answer a public address at registration
// and 127.0.0.1 (or 169.254.169.254) afterwards — DNS rebinding. So the upstream Agent
// connects through this guard, which checks the addresses it is about to connect to.
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';
import { assertAddressesAllowed, metadataNameRefusal, systemResolver, type HostResolver } from './check.js';
import { compileNetworkPolicy, normalizeHost, type NetworkPolicy } from './policy.js';

export interface GuardedConnectOptions {
  /** Resolves host names at connect time; getaddrinfo by default (tests inject one). */
  resolve?: HostResolver;
  /** Passed on to undici's buildConnector: connect timeout, TLS options, keep-alive... */
  connector?: buildConnector.BuildOptions;
}

function familyOf(option: LookupOptions['family']): 0 | 4 | 6 {
  if (option === 4 || option === 'IPv4') return 4;
  if (option === 6 || option === 'IPv6') return 6;
  return 0;
}

function noAddress(hostname: string, family: number): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${hostname} has no IPv${family} address`);
  error.code = 'ENOTFOUND';
  return error;
}

/**
 * An undici `connect` option (`new Agent({ connect: createGuardedConnect(policy) })`) that
 * refuses to open a connection to an address the policy refuses. IP literals are checked
 * before connecting; host names through the socket's `lookup`, so the addresses checked
 * are exactly the ones the socket then connects to (no second, rebindable lookup).
 * A refusal fails the request with a GraftError whose `code` is 'URL_NOT_ALLOWED'.
 */
export function createGuardedConnect(policy: NetworkPolicy, options: GuardedConnectOptions = {}): buildConnector.connector {
  const compiled = compileNetworkPolicy(policy);
  const resolve = options.resolve ?? systemResolver;

  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    const host = normalizeHost(hostname);
    resolve(hostname).then(
      (addresses) => {
        try {
          // Every record, not only the one picked: with autoSelectFamily node may try each.
          assertAddressesAllowed(compiled, host, addresses, `Connection to "${host}" refused`, { phase: 'connect' });
        } catch (error) {
          callback(error as NodeJS.ErrnoException, '');
          return;
        }
        const wanted = familyOf(lookupOptions.family);
        const records: LookupAddress[] = addresses
          .map((address) => ({ address, family: isIP(address) }))
          .filter((record) => wanted === 0 || record.family === wanted);
        const first = records[0];
        if (!first) callback(noAddress(hostname, wanted), '');
        else if (lookupOptions.all) callback(null, records);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => callback(error as NodeJS.ErrnoException, ''),
    );
  };

  const connect = buildConnector({ ...options.connector, lookup: guardedLookup });

  return (connectOptions, callback) => {
    const host = normalizeHost(connectOptions.hostname);
    const context = `Connection to "${host}" refused`;
    try {
      if (isIP(host) !== 0) {
        // node's net does not call `lookup` for an IP literal: check it here.
        assertAddressesAllowed(compiled, undefined, [host], context, { phase: 'connect' });
      } else {
        const byName = metadataNameRefusal(compiled, host, context);
        if (byName) throw byName;
      }
    } catch (error) {
      // Asynchronously, like a socket error: undici does not expect a re-entrant callback.
      process.nextTick(() => callback(error as Error, null));
      return;
    }
    connect(connectOptions, callback);
  };
}
