// The request-path token check: our own tokens (EdDSA, key ring) or, when configured, staff tokens of
// the company's identity provider (its JWKS). A verified token is cached (keyed by its SHA-256, never the
// token itself) until it expires; revocation and key removal are checked on every use, so they win over the cache.
import { createHash } from 'node:crypto';
import { createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify } from 'jose';
import type { ExternalIssuerConfig } from '../config.js';
import { STAFF_ROLES, type StaffRole } from '../db/enums.js';
import type { KeyRing } from './keys.js';
import { STAFF_SCOPES, type Principal } from './principal.js';
import type { Revocations } from './revocation.js';
import { InvalidTokenError, tokenRefusal, verifyToken, type TokenSettings } from './tokens.js';

export interface VerifierOptions {
  keys: KeyRing;
  settings: TokenSettings;
  revocations?: Revocations;
  external?: ExternalIssuerConfig;
  /** Off only for the benchmark that measures what verification costs. */
  cache?: boolean;
  cacheSize?: number;
  /** Called on each successful use (e.g. to record last use). */
  onUse?: (principal: Principal) => void;
}

interface Cached {
  principal: Principal;
  kid: string | undefined;
  own: boolean;
}

/**
 * Each of the three segments in canonical base64url: no padding, no `+` or `/`, and the spare low bits of its
 * last character zero. Decoders accept all those spellings (an Ed25519 signature alone has 16), so without
 * this one token would have many texts, and the verification cache and the per-token rate limit, which key on
 * the text, would count each spelling as another token.
 */
function isCanonical(token: string): boolean {
  const parts = token.split('.');
  return (
    parts.length === 3 &&
    parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p) && Buffer.from(p, 'base64url').toString('base64url') === p)
  );
}

export function createVerifier(opts: VerifierOptions) {
  const { keys, settings, revocations, external } = opts;
  const cacheSize = opts.cacheSize ?? 10_000;
  const cache = new Map<string, Cached>();
  const stats = { hits: 0, misses: 0 };
  const remoteJwks = external
    ? createRemoteJWKSet(new URL(external.jwksUrl), { cooldownDuration: 30_000, timeoutDuration: 5_000 })
    : undefined;

  async function verifyExternal(token: string): Promise<Principal> {
    const { payload } = await jwtVerify(token, remoteJwks!, {
      issuer: external!.issuer,
      audience: external!.audience,
      algorithms: ['RS256', 'PS256', 'ES256', 'EdDSA'],
      requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp'],
      maxTokenAge: '24h',
      clockTolerance: 30,
    }).catch((e: unknown) => {
      if (e instanceof joseErrors.JOSEError) throw tokenRefusal(e, 'identity-provider token');
      throw e;
    });
    const claim = payload[external!.roleClaim];
    const values = Array.isArray(claim) ? claim : [claim];
    const roles = values
      .map((v) => (typeof v === 'string' ? external!.roleValues[v] : undefined))
      .filter((r): r is StaffRole => !!r);
    // Several roles: the least powerful wins, so a misconfigured group never grants writes by accident.
    const role = roles.includes('AUDITOR') ? 'AUDITOR' : roles[0];
    if (!role || !STAFF_ROLES.includes(role))
      throw new InvalidTokenError('identity-provider token carries no registry role');
    const subject = typeof payload.email === 'string' ? payload.email : payload.sub!;
    return {
      kind: 'staff',
      role,
      subject,
      tokenId: typeof payload.jti === 'string' ? payload.jti : `${payload.iss}#${payload.sub}#${payload.iat}`,
      scopes: STAFF_SCOPES[role],
      expiresAt: new Date(payload.exp! * 1000),
    };
  }

  function usable(entry: Cached): boolean {
    if (entry.principal.expiresAt.getTime() <= Date.now()) return false;
    if (entry.own && (!entry.kid || !keys.publicKey(entry.kid))) return false;
    return true;
  }

  async function verify(token: string): Promise<Principal> {
    if (!isCanonical(token)) throw new InvalidTokenError('malformed token');
    const key = opts.cache === false ? undefined : createHash('sha256').update(token).digest('base64url');
    let entry = key ? cache.get(key) : undefined;
    if (entry && !usable(entry)) {
      cache.delete(key!);
      entry = undefined;
    }
    if (entry) stats.hits++;
    else {
      stats.misses++;
      let iss: unknown;
      let kid: string | undefined;
      try {
        iss = decodeJwt(token).iss;
        kid = decodeProtectedHeader(token).kid;
      } catch {
        throw new InvalidTokenError('malformed token');
      }
      const own = iss === settings.issuer;
      if (!own && !(external && iss === external.issuer)) throw new InvalidTokenError('unknown issuer');
      entry = { principal: own ? await verifyToken(keys, settings, token) : await verifyExternal(token), kid, own };
      if (key) {
        if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!);
        cache.set(key, entry);
      }
    }
    if (revocations?.isRevoked(entry.principal.tokenId)) throw new InvalidTokenError('token revoked');
    opts.onUse?.(entry.principal);
    return entry.principal;
  }

  return Object.assign(verify, { stats, clear: () => cache.clear() });
}
