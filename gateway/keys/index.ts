// Extension keys (DESIGN.md, "Direction" 4): credentials an operator issues to one
// extension's CI so that it can check and publish that extension, and nothing else, without
// an outside identity provider that knows Graft's scopes. A key is 256 random bits behind a
// recognisable prefix (graft_<id>_<secret>, so secret scanners and people can tell one
// apart); only its sha256 is stored, and the presented key's hash is compared with the
// stored one in constant time. The folder's door.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Principal } from '../auth/index.js';
import { GraftError, GraftErrorCode } from '../errors/index.js';
import type { ExtensionKeyRecord, ExtensionKeyScope, RegistryStore } from '../registry/index.js';

export const KEY_SCOPES: readonly ExtensionKeyScope[] = ['check', 'publish'];
/** The longest a key may live: a key without rotation is a key that leaks. */
export const MAX_KEY_DAYS = 3650;

const KEY_PATTERN = /^graft_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;
const DAY_MS = 24 * 3600 * 1000;

/** Whether a bearer token is shaped as an extension key (else it is taken for a JWT). */
export function isExtensionKey(token: string): boolean {
  return token.startsWith('graft_');
}

/** The subject a key acts as in the audit log and as a version's publisher. */
export const keySubject = (id: string): string => `key:${id}`;

const sha256 = (text: string): Buffer => createHash('sha256').update(text).digest();

/** A new key: the secret (shown once) and what is stored of it. */
export function mintExtensionKey(): { id: string; prefix: string; secret: string; hash: string } {
  const id = randomBytes(8).toString('hex');
  const secret = `graft_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, prefix: `graft_${id}`, secret, hash: sha256(secret).toString('hex') };
}

export interface NewKeyRequest {
  extension: string;
  scopes: ExtensionKeyScope[];
  /** Lifetime in days; undefined: the key does not expire. */
  expiresInDays?: number;
  description?: string;
}

function unauthenticated(message: string): GraftError {
  return new GraftError(GraftErrorCode.UNAUTHENTICATED, message);
}

/** What keys may do, said in a refusal: "check and publish extension orders". */
export function describeKeyRights(key: { extension: string; scopes: readonly ExtensionKeyScope[] }): string {
  return `${key.scopes.join(' and ')} extension "${key.extension}"`;
}

export class ExtensionKeys {
  readonly #store: RegistryStore;
  readonly #now: () => Date;

  constructor(store: RegistryStore, options: { now?: () => Date } = {}) {
    this.#store = store;
    this.#now = options.now ?? (() => new Date());
  }

  /** Issues a key; the secret is in the result only, never stored nor shown again. */
  async create(request: NewKeyRequest, actor: string): Promise<{ key: ExtensionKeyRecord; secret: string }> {
    const scopes = [...new Set(request.scopes)].sort((a, b) => KEY_SCOPES.indexOf(a) - KEY_SCOPES.indexOf(b));
    if (scopes.length === 0 || scopes.some((s) => !KEY_SCOPES.includes(s))) {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `A key needs at least one scope of: ${KEY_SCOPES.join(', ')}.`);
    }
    const days = request.expiresInDays;
    if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > MAX_KEY_DAYS)) {
      throw new GraftError(GraftErrorCode.BAD_REQUEST, `A key's lifetime is a whole number of days from 1 to ${MAX_KEY_DAYS}; got ${String(days)}.`);
    }
    const minted = mintExtensionKey();
    const key = await this.#store.createExtensionKey(
      {
        id: minted.id,
        prefix: minted.prefix,
        hash: minted.hash,
        extension: request.extension,
        scopes,
        description: request.description ?? '',
        ...(days === undefined ? {} : { expiresAt: new Date(this.#now().getTime() + days * DAY_MS).toISOString() }),
      },
      actor,
    );
    return { key, secret: minted.secret };
  }

  list(extension?: string): Promise<ExtensionKeyRecord[]> {
    return this.#store.listExtensionKeys(extension === undefined ? {} : { extension });
  }

  /** Throws NOT_FOUND, also for a key of another extension than `extension`. */
  async revoke(extension: string, id: string, actor: string): Promise<ExtensionKeyRecord> {
    const found = await this.#store.findExtensionKey(id);
    if (!found || found.extension !== extension) {
      throw new GraftError(GraftErrorCode.NOT_FOUND, `Extension "${extension}" has no key "${id}": GET /admin/extensions/${extension}/keys lists its keys.`, { extension });
    }
    return this.#store.revokeExtensionKey(id, actor);
  }

  /**
   * The caller a key stands for, or 401 UNAUTHENTICATED for a key that is malformed,
   * unknown, revoked or expired. The hash of what was presented is compared with the stored
   * one in constant time, and an unknown id is compared too (with a hash nothing matches),
   * so the answer's timing tells nothing about which keys exist.
   */
  async authenticate(token: string): Promise<Principal> {
    const fix = 'Ask an operator for a new key (graft keys create) and send it as "Authorization: Bearer <key>" or GRAFT_TOKEN.';
    const match = KEY_PATTERN.exec(token);
    if (!match) throw unauthenticated(`This is not a Graft extension key (graft_<id>_<secret>). ${fix}`);
    const id = match[1]!;
    const stored = await this.#store.findExtensionKey(id);
    const expected = stored ? Buffer.from(stored.hash, 'hex') : Buffer.alloc(32);
    const equal = timingSafeEqual(sha256(token), expected);
    if (!stored || !equal) throw unauthenticated(`This extension key is not known. ${fix}`);
    if (stored.revokedAt !== undefined) throw unauthenticated(`Extension key ${stored.prefix} was revoked at ${stored.revokedAt}. ${fix}`);
    const now = this.#now();
    if (stored.expiresAt !== undefined && Date.parse(stored.expiresAt) <= now.getTime()) {
      throw unauthenticated(`Extension key ${stored.prefix} expired at ${stored.expiresAt}. ${fix}`);
    }
    await this.#store.touchExtensionKey(id, now.toISOString());
    return {
      subject: keySubject(id),
      anonymous: false,
      // No JWT scope at all: what a key may do is `key`, read by the admin API alone.
      scopes: new Set(),
      tenant: undefined,
      claims: {},
      key: { id, prefix: stored.prefix, extension: stored.extension, scopes: stored.scopes },
    };
  }
}
