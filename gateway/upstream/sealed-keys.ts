// Private signing keys at rest in a shared registry: sealed with AES-256-GCM under the key
// encryption key every replica is given (GRAFT_KEY_ENCRYPTION_KEY, parsed by gateway/config), never stored in plain
// text. The kid is authenticated with it (GCM's additional data), so a sealed key cannot be
// passed off under another kid.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const FORMAT = 'v1';

export function sealPrivateKey(encryptionKey: Buffer, kid: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return [FORMAT, iv.toString('base64'), cipher.getAuthTag().toString('base64'), ciphertext.toString('base64')].join('.');
}

/** Throws when the key encryption key is not the one that sealed it (or the text was altered). */
export function unsealPrivateKey(encryptionKey: Buffer, kid: string, sealed: string): string {
  const [format, iv, tag, ciphertext] = sealed.split('.');
  if (format !== FORMAT || !iv || !tag || ciphertext === undefined) throw new Error(`the sealed key of "${kid}" is not in the ${FORMAT} format`);
  const decipher = createDecipheriv('aes-256-gcm', encryptionKey, Buffer.from(iv, 'base64'));
  decipher.setAAD(Buffer.from(kid, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64')), decipher.final()]).toString('utf8');
}
