// The service's Ed25519 signing keys: generated on first start, private halves encrypted at rest,
// every key imported once per process (importing per call halves verification speed).
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type CryptoKey, type JWK, type KeyObject } from 'jose';
import { decrypt, encrypt, type KeyEncryptionKey } from './encryption.js';
import type { KeyStore, StoredKey } from './key-store.js';

type Key = CryptoKey | KeyObject;

export class KeyRing {
  private publicKeys = new Map<string, Key>();
  private stored: StoredKey[] = [];
  private active: { kid: string; privateKey: Key } | undefined;

  private constructor(
    private readonly store: KeyStore,
    private readonly kek: KeyEncryptionKey,
  ) {}

  static async open(store: KeyStore, kek: KeyEncryptionKey): Promise<KeyRing> {
    const ring = new KeyRing(store, kek);
    if (!(await store.list()).some((k) => !k.retiredAt)) await store.addIfNoActive(await ring.generate());
    await ring.reload();
    return ring;
  }

  /** Re-reads the store: after a rotation by this or another instance. */
  async reload(): Promise<void> {
    const stored = await this.store.list();
    const publicKeys = new Map<string, Key>();
    for (const k of stored)
      publicKeys.set(k.kid, this.publicKeys.get(k.kid) ?? ((await importJWK(k.publicJwk as JWK, 'EdDSA')) as Key));
    const current = stored.find((k) => !k.retiredAt);
    if (!current) throw new Error('No active signing key');
    if (this.active?.kid !== current.kid) {
      const jwk = JSON.parse(decrypt(this.kek, current.encryptedPrivateJwk, { what: 'the signing key' })) as JWK;
      this.active = { kid: current.kid, privateKey: (await importJWK(jwk, 'EdDSA')) as Key };
    }
    this.stored = stored;
    this.publicKeys = publicKeys;
  }

  get signingKey(): { kid: string; privateKey: Key } {
    if (!this.active) throw new Error('Key ring not loaded');
    return this.active;
  }

  publicKey(kid: string): Key | undefined {
    return this.publicKeys.get(kid);
  }

  /** The public JWK Set: public members only, whatever the stored JWK holds. */
  jwks(): { keys: JWK[] } {
    return {
      keys: this.stored.map((k) => {
        const { kty, crv, x } = k.publicJwk as JWK;
        return { kty, crv, x, kid: k.kid, alg: 'EdDSA', use: 'sig' };
      }),
    };
  }

  get keys(): readonly StoredKey[] {
    return this.stored;
  }

  /** A fresh key pair, private half encrypted, not yet stored: a rotation stores it in its own transaction. */
  async generate(): Promise<StoredKey> {
    const { publicKey, privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
    const kid = randomUUID();
    return {
      kid,
      publicJwk: { ...(await exportJWK(publicKey)) } as Record<string, unknown>,
      encryptedPrivateJwk: encrypt(this.kek, JSON.stringify(await exportJWK(privateKey))),
      createdAt: new Date().toISOString(),
      retiredAt: null,
    };
  }
}
