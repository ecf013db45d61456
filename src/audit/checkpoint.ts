// Signed checkpoints (tree heads): the log's size and root hash at a moment, signed with an Ed25519 key of their
// own. The key is derived from KEY_ENCRYPTION_SECRET (HKDF, its own purpose), so every instance holds the same
// one without storing it, and it is published as a JWK Set beside the token keys. The signed bytes are plain
// text, one field per line, so an outsider can check a signature with any Ed25519 implementation.
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';

export interface Checkpoint {
  /** Which log: the registry's token issuer. */
  origin: string;
  treeSize: number;
  /** RFC 9162 root hash of the first `treeSize` events, hex. */
  rootHash: string;
  /** ISO 8601. */
  issuedAt: string;
  keyId: string;
  /** Ed25519 over `checkpointMessage`, base64url. */
  signature: string;
}

export interface PublicJwk {
  kty: string;
  crv: string;
  x: string;
  kid: string;
  alg: string;
  use: string;
}

/** The bytes a checkpoint's signature covers. */
export const checkpointMessage = (c: Omit<Checkpoint, 'keyId' | 'signature'>): string =>
  `${c.origin}\n${c.treeSize}\n${c.rootHash}\n${c.issuedAt}\n`;

// An Ed25519 private key in PKCS #8 is this prefix and the 32-byte seed (RFC 8410).
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');

export interface CheckpointSigner {
  keyId: string;
  sign(body: Omit<Checkpoint, 'keyId' | 'signature'>): Checkpoint;
  /** The checkpoint key as a JWK Set, served at /.well-known/audit-checkpoint-keys.json. */
  jwks(): { keys: PublicJwk[] };
}

/** The RFC 7638 thumbprint of an Ed25519 public key (`x`, base64url): a checkpoint key's id. */
export const checkpointKeyId = (x: string): string =>
  createHash('sha256')
    .update(JSON.stringify({ crv: 'Ed25519', kty: 'OKP', x }))
    .digest('base64url');

/** The signer from a 32-byte seed; its key id is the key's RFC 7638 thumbprint. */
export function checkpointSigner(seed: Buffer): CheckpointSigner {
  if (seed.length !== 32) throw new Error('a checkpoint key seed has 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  const { x } = createPublicKey(privateKey).export({ format: 'jwk' }) as { x: string };
  const keyId = checkpointKeyId(x);
  const jwk: PublicJwk = { kty: 'OKP', crv: 'Ed25519', x, kid: keyId, alg: 'EdDSA', use: 'sig' };
  return {
    keyId,
    sign: (body) => ({
      ...body,
      keyId,
      signature: sign(null, Buffer.from(checkpointMessage(body), 'utf8'), privateKey).toString('base64url'),
    }),
    jwks: () => ({ keys: [jwk] }),
  };
}

/** null when `c` is signed by a key of `keys`; else why not. */
export function checkpointSignatureError(c: Checkpoint, keys: { keys: readonly Partial<PublicJwk>[] }): string | null {
  const jwk = keys.keys.find((k) => k.kid === c.keyId);
  if (!jwk) return `the key ${c.keyId} that signed it is not published`;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || typeof jwk.x !== 'string') return `key ${c.keyId} is not Ed25519`;
  let key: KeyObject;
  try {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, format: 'jwk' });
  } catch {
    return `key ${c.keyId} is not a valid Ed25519 key`;
  }
  const ok = verify(null, Buffer.from(checkpointMessage(c), 'utf8'), key, Buffer.from(c.signature, 'base64url'));
  return ok ? null : 'the signature does not match its content';
}
