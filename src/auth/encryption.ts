// Encryption at rest of the private signing keys and of the stored Idempotency-Key answers: AES-256-GCM
// under keys derived (HKDF-SHA256, one per purpose) from the configured secret. Without KEY_ENCRYPTION_SECRET
// the service generates one under DATA_DIR (mode 0600).
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type KeyEncryptionKey = Buffer;

/** What a derived key encrypts; each purpose has a key of its own. */
export type KeyPurpose = 'signing-key-encryption' | 'idempotency-answer-encryption' | 'audit-checkpoint-signing';

export function deriveKeyEncryptionKey(secret: string, purpose: KeyPurpose): KeyEncryptionKey {
  return Buffer.from(hkdfSync('sha256', secret, 'transfer-registry', purpose, 32));
}

export function loadOrCreateSecret(configured: string | undefined, dataDir: string): string {
  if (configured) return configured;
  const path = join(dataDir, 'key-encryption.secret');
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString('base64url');
  try {
    writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
    return secret;
  } catch (e) {
    // Another process created it first: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw e;
  }
}

/** `aad`, when given, binds the ciphertext to its place (decrypting elsewhere fails). */
export function encrypt(kek: KeyEncryptionKey, plaintext: string, aad?: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  if (aad !== undefined) cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join(
    '.',
  );
}

/** `what` names the value in the error, so an operator with the wrong secret is told what could not be read. */
export function decrypt(kek: KeyEncryptionKey, sealed: string, opts: { aad?: string; what: string }): string {
  const { aad, what } = opts;
  const [version, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !iv || !tag || !body) throw new Error('Unrecognised encrypted value format');
  const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  if (aad !== undefined) decipher.setAAD(Buffer.from(aad, 'utf8'));
  try {
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`Cannot decrypt ${what}: KEY_ENCRYPTION_SECRET is not the one it was encrypted with`);
  }
}
