// Scoped, short-lived tokens for upstream fetches (least privilege toward extensions).
// The user's token never leaves the gateway: for each subgraph fetch Graft mints an ES256
// JWT with aud = the extension, scope = the user's scopes ∩ the extension's grants, and at
// most 60 s of life. Public keys are served at /.well-known/jwks.json.
//
// Rotation: jose's createRemoteJWKSet refuses an unknown kid for 30 s after a fetch
// (DESIGN.md, reference facts), so a new key is published first and signs only after
// `activationDelayMs`; the old key stays published until its last token has expired.
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, importJWK, type CryptoKey, type JSONWebKeySet, type JWK } from 'jose';
import { loadOrCreateKeyFile, replaceKeyFile, type Principal } from '../auth/index.js';
import { sealPrivateKey, unsealPrivateKey } from './sealed-keys.js';

const ALGORITHM = 'ES256';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
  privateJwk: JWK;
}

/** Where replicas share one key set: the registry (RegistryStore has these two methods). */
export interface SharedSigningKeys {
  listSigningKeys(): Promise<Array<{ kid: string; publicJwk: Record<string, unknown>; sealedPrivateJwk: string; signsFrom: string }>>;
  addSigningKey(key: { kid: string; publicJwk: Record<string, unknown>; sealedPrivateJwk: string; signsFrom: string }, actor: string): Promise<unknown>;
}

export interface UpstreamTokenIssuerOptions {
  /**
   * One key set for every replica, kept in the registry with the private keys sealed under
   * `encryptionKey` (GRAFT_KEY_ENCRYPTION_KEY). Rotation is a new row that signs from
   * `activationDelayMs` later; every replica derives the same published and signing keys
   * from the rows and the clock, and re-reads them when the registry changes (refresh).
   */
  shared?: { store: SharedSigningKeys; encryptionKey: Buffer };
  /** `iss` of minted tokens; subgraphs verify it. */
  issuer: string;
  /** Where the signing key is kept across restarts (so subgraphs' cached JWKS stay valid). */
  dataDir?: string;
  /** Token lifetime, at most 60 s. */
  ttlSeconds?: number;
  /** How long a new key is published before it signs (longer than jose's 30 s cooldown). */
  activationDelayMs?: number;
  /** Most tokens kept for reuse. */
  cacheSize?: number;
}

async function newPrivateJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  const privateJwk = await exportJWK(privateKey);
  const kid = `graft-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  return { ...privateJwk, kid, alg: ALGORITHM, use: 'sig' };
}

async function newKey(): Promise<SigningKey> {
  return fromPrivateJwk(await newPrivateJwk());
}

const KEY_FILE = 'upstream-signing.jwk.json';

/** A new key as the registry stores it: the private half sealed, signing from `signsFrom` (ms). */
async function sealedKeyRow(encryptionKey: Buffer, privateJwk: JWK, signsFrom: number) {
  const kid = privateJwk.kid ?? '';
  const { d: _d, ...publicJwk } = privateJwk;
  return { kid, publicJwk: publicJwk as Record<string, unknown>, sealedPrivateJwk: sealPrivateKey(encryptionKey, kid, JSON.stringify(privateJwk)), signsFrom: new Date(signsFrom).toISOString() };
}

async function fromPrivateJwk(privateJwk: JWK): Promise<SigningKey> {
  const { d: _d, ...publicJwk } = privateJwk;
  return {
    kid: privateJwk.kid ?? 'graft',
    privateKey: (await importJWK(privateJwk, ALGORITHM)) as CryptoKey,
    publicJwk,
    privateJwk,
  };
}

export class UpstreamTokenIssuer {
  readonly issuer: string;
  readonly ttlSeconds: number;
  readonly #options: UpstreamTokenIssuerOptions;
  #active: SigningKey;
  #pending: { key: SigningKey; activatesAt: number; timer: NodeJS.Timeout } | undefined;
  #retired: Array<{ key: SigningKey; publishedUntil: number }> = [];
  readonly #cache = new Map<string, { token: string; reuseUntil: number }>();
  /** Shared mode: every key of the registry, oldest signsFrom first. */
  #shared: Array<{ key: SigningKey; signsFrom: number }> | undefined;

  private constructor(options: UpstreamTokenIssuerOptions, active: SigningKey) {
    this.#options = options;
    this.issuer = options.issuer;
    this.ttlSeconds = Math.min(options.ttlSeconds ?? 60, 60);
    this.#active = active;
  }

  static async create(options: UpstreamTokenIssuerOptions): Promise<UpstreamTokenIssuer> {
    if (options.shared) {
      const { store, encryptionKey } = options.shared;
      // The first replica on an empty registry adds the first key; two doing it at once
      // both add one, and all then agree on the newest (the key set is derived from the rows).
      if ((await store.listSigningKeys()).length === 0) await store.addSigningKey(await sealedKeyRow(encryptionKey, await newPrivateJwk(), Date.now()), 'graft:gateway');
      const issuer = new UpstreamTokenIssuer(options, await newKey());
      await issuer.refresh();
      return issuer;
    }
    // With a data dir, every gateway process on it signs with the one key in the file:
    // created once, whoever comes first (loadOrCreateKeyFile), so each process's JWKS
    // publishes the key the others sign with.
    const key = options.dataDir ? await fromPrivateJwk(await loadOrCreateKeyFile(join(options.dataDir, KEY_FILE), newPrivateJwk)) : await newKey();
    return new UpstreamTokenIssuer(options, key);
  }

  /**
   * Shared mode: re-reads the registry's keys (after a registry change: a rotation by any
   * replica). Throws when GRAFT_KEY_ENCRYPTION_KEY does not open a stored key. Local mode: nothing.
   */
  async refresh(): Promise<void> {
    const { shared } = this.#options;
    if (!shared) return;
    const known = new Map((this.#shared ?? []).map((entry) => [entry.key.kid, entry.key]));
    const rows = await shared.store.listSigningKeys();
    const keys: Array<{ key: SigningKey; signsFrom: number }> = [];
    for (const row of rows) {
      let key = known.get(row.kid);
      if (!key) {
        let privateJwk: JWK;
        try {
          privateJwk = JSON.parse(unsealPrivateKey(shared.encryptionKey, row.kid, row.sealedPrivateJwk)) as JWK;
        } catch (error) {
          throw new Error(
            `GRAFT_KEY_ENCRYPTION_KEY does not open the upstream signing key "${row.kid}" stored in the registry: every replica needs the same key encryption key.`,
            { cause: error },
          );
        }
        key = await fromPrivateJwk(privateJwk);
      }
      keys.push({ key, signsFrom: Date.parse(row.signsFrom) });
    }
    this.#shared = keys;
  }

  /** The key that signs at `now`: the newest one whose time to sign has come. */
  #signingKey(now: number): SigningKey {
    if (!this.#shared) return this.#active;
    const signing = this.#shared.filter((entry) => entry.signsFrom <= now).at(-1) ?? this.#shared[0];
    return signing?.key ?? this.#active;
  }

  /** Every key a subgraph may meet: the signing one, the next one, and retired ones still in use. */
  jwks(): JSONWebKeySet {
    const now = Date.now();
    if (this.#shared) {
      // A key stays published until its successor has signed for a token's life (+ 60 s of skew).
      const keepMs = (this.ttlSeconds + 60) * 1000;
      const shared = this.#shared;
      return { keys: shared.filter((entry, index) => (shared[index + 1]?.signsFrom ?? Infinity) + keepMs > now).map((entry) => entry.key.publicJwk) };
    }
    this.#retired = this.#retired.filter((r) => r.publishedUntil > now);
    return {
      keys: [this.#active.publicJwk, ...(this.#pending ? [this.#pending.key.publicJwk] : []), ...this.#retired.map((r) => r.key.publicJwk)],
    };
  }

  get activeKid(): string {
    return this.#signingKey(Date.now()).kid;
  }

  /** Publishes a new key now; it signs from `activationDelayMs` later. */
  async rotate(options: { activationDelayMs?: number } = {}): Promise<{ kid: string; activatesAt: Date }> {
    const delay = options.activationDelayMs ?? this.#options.activationDelayMs ?? 35_000;
    const { shared } = this.#options;
    if (shared) {
      // Published by every replica once they re-read the registry (at once: the write nudges them), signing `delay` later.
      const activatesAt = Date.now() + delay;
      const privateJwk = await newPrivateJwk();
      await shared.store.addSigningKey(await sealedKeyRow(shared.encryptionKey, privateJwk, activatesAt), 'graft:gateway');
      await this.refresh();
      return { kid: privateJwk.kid ?? '', activatesAt: new Date(activatesAt) };
    }
    if (this.#pending) clearTimeout(this.#pending.timer);
    const key = await newKey();
    const activatesAt = Date.now() + delay;
    const timer = setTimeout(() => void this.#activate(key), delay);
    timer.unref();
    this.#pending = { key, activatesAt, timer };
    if (delay === 0) await this.#activate(key);
    return { kid: key.kid, activatesAt: new Date(activatesAt) };
  }

  async #activate(key: SigningKey): Promise<void> {
    if (this.#pending?.key !== key) return;
    clearTimeout(this.#pending.timer);
    this.#pending = undefined;
    // Tokens signed with the old key live at most ttl (+ clock skew margin).
    this.#retired.push({ key: this.#active, publishedUntil: Date.now() + (this.ttlSeconds + 60) * 1000 });
    this.#active = key;
    this.#cache.clear();
    if (this.#options.dataDir) await replaceKeyFile(join(this.#options.dataDir, KEY_FILE), key.privateJwk);
  }

  /** A token for one extension on behalf of one principal; reused while it has life left. */
  async tokenFor(principal: Principal, extension: string, grants: readonly string[]): Promise<string> {
    const scopes = grants.filter((g) => principal.scopes.has(g)).sort();
    const anonymous = principal.anonymous;
    const now = Date.now();
    const signing = this.#signingKey(now);
    // The kid is part of the key: in shared mode the signing key changes with the clock.
    const key = `${signing.kid}\n${extension}\n${principal.subject}\n${principal.tenant ?? ''}\n${scopes.join(' ')}\n${anonymous}`;
    const cached = this.#cache.get(key);
    if (cached && cached.reuseUntil > now) return cached.token;

    const token = await new SignJWT({
      scope: scopes.join(' '),
      ...(principal.tenant ? { tenant: principal.tenant } : {}),
      ...(anonymous ? { anon: true } : {}),
    })
      .setProtectedHeader({ alg: ALGORITHM, kid: signing.kid, typ: 'JWT' })
      .setIssuer(this.issuer)
      .setAudience(extension)
      .setSubject(principal.subject)
      .setIssuedAt(Math.floor(now / 1000))
      .setExpirationTime(Math.floor(now / 1000) + this.ttlSeconds)
      .sign(signing.privateKey);

    const limit = this.#options.cacheSize ?? 10_000;
    if (this.#cache.size >= limit) {
      const oldest = this.#cache.keys().next().value;
      if (oldest !== undefined) this.#cache.delete(oldest);
    }
    // Reuse for half the lifetime: a subgraph never sees a token about to expire.
    this.#cache.set(key, { token, reuseUntil: now + (this.ttlSeconds * 1000) / 2 });
    return token;
  }

  stop(): void {
    if (this.#pending) clearTimeout(this.#pending.timer);
  }
}
