// Private keys kept in the data dir (the dev issuer's, the upstream signing key): created
// on first start, read afterwards. Several gateway processes may start on one data dir at
// once (GRAFT_WORKERS, whose primary creates the keys before forking, or a second `graft`
// command): exactly one key must win, or processes would sign with keys the others
// neither use nor publish.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { JWK } from 'jose';
import { GraftError, GraftErrorCode } from '../errors/index.js';

/** How long to wait for another process to finish writing a key file it just created. */
const PARTIAL_WRITE_WAIT_MS = 2000;
const PARTIAL_WRITE_POLL_MS = 20;

type KeyFileState = { kind: 'missing' } | { kind: 'key'; jwk: JWK } | { kind: 'unreadable'; reason: string };

async function readKeyFile(file: string): Promise<KeyFileState> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    throw error;
  }
  try {
    const jwk = JSON.parse(text) as unknown;
    if (typeof jwk === 'object' && jwk !== null && typeof (jwk as JWK).kty === 'string') return { kind: 'key', jwk: jwk as JWK };
    return { kind: 'unreadable', reason: 'it is not a JSON Web Key' };
  } catch (error) {
    return { kind: 'unreadable', reason: (error as Error).message };
  }
}

/**
 * The key in `file`, created with `create` if the file does not exist. Creation uses flag
 * `wx` (O_CREAT | O_EXCL): of two processes creating at once, one writes its key and the
 * other gets EEXIST and reads that key instead of its own. A file that exists but does not
 * hold a key is waited for briefly (its creator may still be writing it), then refused
 * with a message naming it: silently replacing a key would break every token signed with it.
 */
export async function loadOrCreateKeyFile(file: string, create: () => Promise<JWK>): Promise<JWK> {
  let state = await readKeyFile(file);
  if (state.kind === 'missing') {
    const jwk = await create();
    await mkdir(dirname(file), { recursive: true });
    try {
      await writeFile(file, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
      return jwk;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    state = await readKeyFile(file);
  }
  const deadline = Date.now() + PARTIAL_WRITE_WAIT_MS;
  while (state.kind !== 'key' && Date.now() < deadline) {
    await sleep(PARTIAL_WRITE_POLL_MS);
    state = await readKeyFile(file);
  }
  if (state.kind === 'key') return state.jwk;
  throw new GraftError(
    GraftErrorCode.INTERNAL_SERVER_ERROR,
    `The key file ${file} ${state.kind === 'missing' ? 'disappeared while it was being read' : `cannot be used (${state.reason})`}: ` +
      'restore it from a backup, or delete it to have a new key created at the next start (tokens signed with the old key are then refused).',
    { details: { file } },
  );
}

/**
 * Replaces the key in `file` (a rotation): written to a temporary file beside it, then
 * renamed over it, so a process reading the file sees the old key or the new one, never
 * half of one.
 */
export async function replaceKeyFile(file: string, jwk: JWK): Promise<void> {
  const temporary = `${file}.${process.pid}.${Date.now().toString(36)}.tmp`;
  try {
    await writeFile(temporary, JSON.stringify(jwk), { mode: 0o600, flag: 'wx' });
    await rename(temporary, file);
  } finally {
    await rm(temporary, { force: true });
  }
}
