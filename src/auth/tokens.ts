// Issuing and verifying the service's own access tokens (RFC 9068 JWT profile, EdDSA).
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload, type JWTHeaderParameters } from 'jose';
import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { PURPOSES, STAFF_ROLES, type Purpose, type StaffRole } from '../db/enums.js';
import type { KeyRing } from './keys.js';
import { STAFF_SCOPES, type Principal } from './principal.js';

const TOKEN_TYPE = 'at+jwt';
const CLOCK_TOLERANCE_SECONDS = 30;

export interface TokenSettings {
  issuer: string;
  audience: string;
  maxTokenAgeSeconds: number;
}

/** A token that must be refused with 401 `invalid_token`. The message is safe to show. */
export class InvalidTokenError extends Error {}

/**
 * jose's refusal in words a client can act on: an expired token says when it expired (jose checks the claims only
 * once the signature holds, so the time is the issuer's). The text goes into WWW-Authenticate's quoted
 * error_description, which admits no double quote: jose's quoted claim names get single ones.
 */
export function tokenRefusal(e: InstanceType<typeof joseErrors.JOSEError>, what = 'token'): InvalidTokenError {
  if (e instanceof joseErrors.JWTExpired && e.claim === 'exp' && typeof e.payload.exp === 'number') {
    return new InvalidTokenError(`${what} expired at ${new Date(e.payload.exp * 1000).toISOString()}`);
  }
  return new InvalidTokenError(`${what} rejected: ${e.message.replace(/"/g, "'")}`);
}

async function signToken(
  keys: KeyRing,
  settings: TokenSettings,
  claims: JWTPayload & { sub: string },
  ttlSeconds: number,
) {
  const { kid, privateKey } = keys.signingKey;
  const jti = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ ...claims, jti })
    .setProtectedHeader({ alg: 'EdDSA', typ: TOKEN_TYPE, kid })
    .setIssuer(settings.issuer)
    .setAudience(settings.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + ttlSeconds)
    .sign(privateKey);
  return { token, jti, kid, expiresAt: new Date((now + ttlSeconds) * 1000) };
}

/** Scopes a contractor token may carry. */
export const CONTRACTOR_SCOPES = ['registry:read', 'obligations:acknowledge', 'records:read'] as const;

export function issueContractorToken(
  keys: KeyRing,
  settings: TokenSettings,
  t: {
    contractorId: number;
    scopes: readonly string[];
    categories: readonly string[];
    purposes: readonly Purpose[];
    ttlSeconds: number;
  },
) {
  const sub = encodeGlobalID('Contractor', t.contractorId);
  return signToken(
    keys,
    settings,
    {
      sub,
      client_id: sub,
      scope: t.scopes.join(' '),
      categories: [...t.categories],
      purposes: [...t.purposes],
    },
    t.ttlSeconds,
  );
}

export function issueStaffToken(
  keys: KeyRing,
  settings: TokenSettings,
  role: StaffRole,
  subject: string,
  ttlSeconds: number,
) {
  return signToken(keys, settings, { sub: subject, role, scope: STAFF_SCOPES[role].join(' ') }, ttlSeconds);
}

/** Verifies signature, algorithm, typ, issuer, audience, lifetime; returns who the token speaks for. */
export async function verifyToken(keys: KeyRing, settings: TokenSettings, token: string): Promise<Principal> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(
      token,
      (header: JWTHeaderParameters) => {
        const key = typeof header.kid === 'string' ? keys.publicKey(header.kid) : undefined;
        if (!key) throw new InvalidTokenError('unknown signing key');
        return key;
      },
      {
        algorithms: ['EdDSA'],
        typ: TOKEN_TYPE,
        issuer: settings.issuer,
        audience: settings.audience,
        requiredClaims: ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'scope'],
        // Unknown `crit` header parameters are refused by jose; `jwk`, `jku`, `x5u` are never read:
        // the key comes only from our own key ring, by kid.
        maxTokenAge: settings.maxTokenAgeSeconds,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      },
    ));
  } catch (e) {
    if (e instanceof InvalidTokenError) throw e;
    if (e instanceof joseErrors.JOSEError) throw tokenRefusal(e);
    throw e;
  }
  const iat = payload.iat!;
  if (iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) throw new InvalidTokenError('token issued in the future');
  const scopes = String(payload.scope).split(' ').filter(Boolean);
  const common = { subject: payload.sub!, tokenId: payload.jti!, scopes, expiresAt: new Date(payload.exp! * 1000) };
  if (typeof payload.role === 'string') {
    if (!(STAFF_ROLES as readonly string[]).includes(payload.role)) throw new InvalidTokenError('unknown role');
    return { kind: 'staff', role: payload.role as StaffRole, ...common };
  }
  return contractorPrincipal(payload, common);
}

function contractorPrincipal(
  payload: JWTPayload,
  common: { subject: string; tokenId: string; scopes: string[]; expiresAt: Date },
): Principal {
  let contractorId: number;
  try {
    const { typename, id } = decodeGlobalID(common.subject);
    contractorId = Number(id);
    if (typename !== 'Contractor' || !Number.isSafeInteger(contractorId) || contractorId <= 0) throw new Error();
  } catch {
    throw new InvalidTokenError('token subject is neither a staff role nor a contractor');
  }
  const { categories, purposes } = payload;
  const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
  if (
    !isStrings(categories) ||
    !isStrings(purposes) ||
    !purposes.every((p) => (PURPOSES as readonly string[]).includes(p))
  ) {
    throw new InvalidTokenError('contractor token without valid categories and purposes');
  }
  if (!common.scopes.every((s) => (CONTRACTOR_SCOPES as readonly string[]).includes(s)))
    throw new InvalidTokenError('unknown scope');
  return { kind: 'contractor', contractorId, categories, purposes: purposes as Purpose[], ...common };
}
