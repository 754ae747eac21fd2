// `graft keys create | list | revoke`: extension keys for CI (gateway/keys), through a
// running gateway's admin API (/admin/extensions/{name}/keys) with a graft:admin token.
// `create` prints the key once, alone on the last line of stdout, so a script can take it
// with `tail -n 1`.
import { Command, Option } from 'commander';
import { KEY_SCOPES } from '../keys/index.js';
import type { ExtensionKeyRecord, ExtensionKeyScope } from '../registry/index.js';
import { AdminClient } from './admin-client.js';
import { CliError, ExitCode } from './exit.js';

interface KeysOptions {
  registry: string;
  token?: string;
}

function clientOf(options: KeysOptions): AdminClient {
  if (!options.token) throw new CliError('Pass --token <jwt> (or set GRAFT_TOKEN) with graft:admin: only operators issue and revoke keys.', ExitCode.USAGE);
  return new AdminClient(options.registry, options.token);
}

function write(text: string): Promise<void> {
  return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

/** `90d` → 90. Days only: a key's lifetime is a matter of days, and one unit leaves no doubt. */
export function parseExpiry(value: string): number {
  const match = /^([1-9][0-9]{0,3})d$/.exec(value);
  if (!match) throw new CliError(`--expires takes a number of days such as 90d; got "${value}".`, ExitCode.USAGE);
  return Number(match[1]);
}

function registryOptions(command: Command): Command {
  return command
    .addOption(new Option('--registry <url>', 'gateway URL').env('GRAFT_REGISTRY_URL').default('http://127.0.0.1:4000'))
    .addOption(new Option('--token <jwt>', 'JWT with graft:admin').env('GRAFT_TOKEN'));
}

const day = (iso: string | undefined): string => (iso === undefined ? '-' : iso.slice(0, 10));

function stateOf(key: ExtensionKeyRecord, now: number): string {
  if (key.revokedAt !== undefined) return 'revoked';
  if (key.expiresAt !== undefined && Date.parse(key.expiresAt) <= now) return 'expired';
  return 'active';
}

export function formatKeyTable(keys: ExtensionKeyRecord[], now = Date.now()): string {
  if (keys.length === 0) return 'No extension keys.\n';
  const rows = [
    ['ID', 'PREFIX', 'EXTENSION', 'SCOPES', 'CREATED', 'LAST USED', 'EXPIRES', 'STATE'],
    ...keys.map((k) => [k.id, k.prefix, k.extension, k.scopes.join(','), day(k.createdAt), day(k.lastUsedAt), k.expiresAt === undefined ? 'never' : day(k.expiresAt), stateOf(k, now)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((row) => `${row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()}\n`).join('');
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Adds `graft keys` to the CLI. */
export function registerKeysCommand(program: Command): Command {
  const keys = program.command('keys').description("Extension keys for CI: each may check and/or publish one extension only (needs graft:admin)");

  registryOptions(
    keys
      .command('create')
      .description('Issue a key; it is printed once, alone on the last line of stdout')
      .requiredOption('--extension <name>', 'the extension the key is for')
      .option('--scope <scope>', 'what the key may do: check or publish (repeatable)', collect, [])
      .option('--expires <days>', 'lifetime, e.g. 90d (default: never expires)')
      .option('--description <text>', 'what the key is for, e.g. "orders CI"'),
  ).action(async (options: KeysOptions & { extension: string; scope: string[]; expires?: string; description?: string }) => {
    if (options.scope.length === 0 || options.scope.some((s) => !KEY_SCOPES.includes(s as ExtensionKeyScope))) {
      throw new CliError(`Pass --scope check and/or --scope publish; got ${options.scope.join(', ') || 'none'}.`, ExitCode.USAGE);
    }
    const expiresInDays = options.expires === undefined ? undefined : parseExpiry(options.expires);
    const client = clientOf(options);
    const { key, secret } = await client.request<{ key: ExtensionKeyRecord; secret: string }>('POST', `/extensions/${encodeURIComponent(options.extension)}/keys`, {
      scopes: options.scope,
      ...(expiresInDays === undefined ? {} : { expiresInDays }),
      ...(options.description === undefined ? {} : { description: options.description }),
    });
    await write(
      `Created key ${key.id} (${key.prefix}) for extension ${key.extension}: may ${key.scopes.join(' and ')}; expires ${key.expiresAt ?? 'never'}.\n` +
        'Store it now as a CI secret (GRAFT_TOKEN): it is not shown again.\n' +
        `${secret}\n`,
    );
  });

  registryOptions(keys.command('list').description('List keys (never their secrets)').option('--extension <name>', "only this extension's keys").option('--json', 'print JSON')).action(
    async (options: KeysOptions & { extension?: string; json?: boolean }) => {
      const client = clientOf(options);
      const path = options.extension === undefined ? '/keys' : `/extensions/${encodeURIComponent(options.extension)}/keys`;
      const { keys: list } = await client.request<{ keys: ExtensionKeyRecord[] }>('GET', path);
      await write(options.json ? `${JSON.stringify(list, null, 2)}\n` : formatKeyTable(list));
    },
  );

  registryOptions(keys.command('revoke').description('Revoke a key for good').argument('<id>', 'the key id (graft keys list)')).action(async (id: string, options: KeysOptions) => {
    const client = clientOf(options);
    const { keys: list } = await client.request<{ keys: ExtensionKeyRecord[] }>('GET', '/keys');
    const key = list.find((k) => k.id === id || k.prefix === id);
    if (!key) throw new CliError(`There is no key "${id}": graft keys list shows the ids.`, ExitCode.REFUSED, 'NOT_FOUND');
    const revoked = await client.request<ExtensionKeyRecord>('POST', `/extensions/${encodeURIComponent(key.extension)}/keys/${key.id}/revoke`);
    await write(`Revoked key ${revoked.id} (${revoked.prefix}) of extension ${revoked.extension} at ${revoked.revokedAt ?? '?'}.\n`);
  });
  return keys;
}
