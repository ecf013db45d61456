// Every class of forged, altered or stale token is refused with 401 invalid_token, before any GraphQL runs.
import { createHmac, generateKeyPairSync, webcrypto } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';
import { contractorWithToken, ok, setStatus, signatureSpellings } from './fixtures.js';

let h: Harness;
let compliance: string;
let good: Awaited<ReturnType<typeof contractorWithToken>>;
let goodClaims: JWTPayload;
let goodHeader: Record<string, unknown>;

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  good = await contractorWithToken(h, compliance, { name: 'Target Co' });
  const [header, payload] = good.token
    .split('.')
    .slice(0, 2)
    .map((p) => JSON.parse(Buffer.from(p!, 'base64url').toString()));
  goodHeader = header;
  goodClaims = payload;
});
afterAll(async () => {
  await h?.stop();
});

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** Signs with the service's real key, so only the altered part can be the reason for refusal. */
async function signed(claims: JWTPayload, header: Record<string, unknown> = {}) {
  const { kid, privateKey } = h.keys.signingKey;
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid, ...header } as never)
    .sign(privateKey);
}

async function expectRefused(token: string) {
  const r = await h.gql(token, '{ viewer { subject } }');
  expect(r.status).toBe(401);
  // One well-formed challenge: the description is a quoted string without quotes inside (RFC 6750).
  expect(r.headers.get('www-authenticate')).toMatch(
    /^Bearer realm="[^"]*", error="invalid_token", error_description="[^"\\]*"$/,
  );
  expect(r.body.data).toBeUndefined();
  return { message: r.body.errors[0].message as string, challenge: r.headers.get('www-authenticate')! };
}

test('the Authorization scheme is case-insensitive (RFC 7235 section 2.1)', async () => {
  for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
    const res = await h.app.fetch('http://registry.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `${scheme} ${good.token}` },
      body: JSON.stringify({ query: '{ viewer { kind } }' }),
    });
    expect(res.status, scheme).toBe(200);
    expect(((await res.json()) as any).data.viewer.kind).toBe('CONTRACTOR');
  }
});

test('the untouched token works (control)', async () => {
  const r = await h.gql(good.token, '{ viewer { kind subject } }');
  expect(r.status).toBe(200);
  expect(r.body.data.viewer).toEqual({ kind: 'CONTRACTOR', subject: good.contractor.id });
  expect(await signed(goodClaims)).toBeTruthy();
  const resigned = await h.gql(await signed({ ...goodClaims, jti: goodClaims.jti }), '{ viewer { kind } }');
  expect(resigned.status).toBe(200);
});

describe('algorithm confusion', () => {
  for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
    test(`alg ${alg}`, async () => {
      await expectRefused(`${b64({ ...goodHeader, alg })}.${b64(goodClaims)}.`);
    });
  }
  test('HS256 signed with the public key', async () => {
    const x = Buffer.from(String((h.keys.jwks().keys[0] as { x: string }).x), 'base64url');
    for (const secret of [x, Buffer.from(JSON.stringify(h.keys.jwks().keys[0]))]) {
      const head = b64({ ...goodHeader, alg: 'HS256' });
      const body = b64(goodClaims);
      const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
      await expectRefused(`${head}.${body}.${sig}`);
    }
  });
  test('RS256 from a key of the attacker', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT(goodClaims)
      .setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: String(goodHeader.kid) })
      .sign(privateKey);
    await expectRefused(token);
  });
});

describe('claims', () => {
  test('wrong typ', async () => {
    await expectRefused(await signed(goodClaims, { typ: 'JWT' }));
  });
  test('no typ', async () => {
    await expectRefused(await signed(goodClaims, { typ: undefined }));
  });
  test('wrong iss', async () => {
    await expectRefused(await signed({ ...goodClaims, iss: 'https://evil.example' }));
  });
  test('wrong aud', async () => {
    await expectRefused(await signed({ ...goodClaims, aud: 'urn:other-api' }));
  });
  for (const claim of ['iss', 'aud', 'sub', 'iat', 'exp', 'jti', 'scope']) {
    test(`missing ${claim}`, async () => {
      const { [claim]: _dropped, ...rest } = goodClaims as Record<string, unknown>;
      await expectRefused(await signed(rest));
    });
  }
  const now = () => Math.floor(Date.now() / 1000);
  test('expired: says when', async () => {
    const exp = now() - 120;
    const { message, challenge } = await expectRefused(await signed({ ...goodClaims, iat: now() - 7200, exp }));
    const when = new Date(exp * 1000).toISOString();
    expect(message).toBe(`token expired at ${when}`);
    expect(challenge).toContain(`error_description="token expired at ${when}"`);
  });
  test('a claim refused by name, in words', async () => {
    expect((await expectRefused(await signed({ ...goodClaims, aud: 'urn:someone-else' }))).message).toBe(
      "token rejected: unexpected 'aud' claim value",
    );
  });
  test('not yet valid', async () => {
    await expectRefused(await signed({ ...goodClaims, nbf: now() + 600 }));
  });
  test('issued in the future', async () => {
    await expectRefused(await signed({ ...goodClaims, iat: now() + 600, exp: now() + 3600 }));
  });
  test('older than the maximum age', async () => {
    await expectRefused(await signed({ ...goodClaims, iat: now() - 3 * 86400, exp: now() + 3600 }));
  });
  test('contractor subject that is not a contractor ID', async () => {
    await expectRefused(await signed({ ...goodClaims, sub: 'alice@example.com' }));
  });
  test('unknown role claim', async () => {
    await expectRefused(await signed({ ...goodClaims, role: 'ADMIN' }));
  });
  test('unknown scope', async () => {
    await expectRefused(await signed({ ...goodClaims, scope: 'registry:read registry:write' }));
  });
});

describe('tampering', () => {
  const flip = (part: string, i: number) => {
    const bytes = Buffer.from(part, 'base64url');
    bytes[i % bytes.length] = bytes[i % bytes.length]! ^ 0x01;
    return bytes.toString('base64url');
  };
  for (const [name, index] of [
    ['header', 0],
    ['payload', 1],
    ['signature', 2],
  ] as const) {
    test(`a flipped byte in the ${name}`, async () => {
      for (const at of [0, 7, 20]) {
        const parts = good.token.split('.');
        parts[index] = flip(parts[index]!, at);
        await expectRefused(parts.join('.'));
      }
    });
  }
  // The last base64url character of an Ed25519 signature (64 bytes in 86 characters) carries 4 spare bits:
  // 16 spellings decode to the same signature. Only the canonical one is the token; the rate limit and the
  // verification cache key on it, so every other spelling must be refused, cached token or not.
  test('the 15 other spellings of a valid signature, base64 padding or alphabet: refused, though the token is cached', async () => {
    expect((await h.gql(good.token, '{ viewer { subject } }')).status).toBe(200); // verified and cached
    const spellings = signatureSpellings(good.token);
    expect(new Set(spellings).size).toBe(16);
    expect(spellings).toContain(good.token);
    for (const t of spellings.filter((x) => x !== good.token)) await expectRefused(t);
    const [header, payload, signature] = good.token.split('.');
    const standard = Buffer.from(signature!, 'base64url').toString('base64');
    for (const t of [
      `${good.token}==`,
      `${header}.${payload}.${standard}`,
      `${header}.${payload}.${standard.replace(/=+$/, '')}`,
    ]) {
      if (t !== good.token) await expectRefused(t);
    }
  });
  test('garbage and truncation', async () => {
    for (const t of ['abc', `${good.token}.x`, good.token.split('.').slice(0, 2).join('.'), good.token.slice(0, -5)])
      await expectRefused(t);
  });
});

describe('keys', () => {
  test('unknown kid', async () => {
    await expectRefused(await signed(goodClaims, { kid: 'no-such-key' }));
  });
  test('kid path injection', async () => {
    for (const kid of ['../../etc/passwd', '../signing-keys.json', "' or 1=1 --", '%00'])
      await expectRefused(await signed(goodClaims, { kid }));
  });
  test('jwk, jku and x5u headers are ignored: no outbound request, attacker key refused', async () => {
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end('{}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
    try {
      const attacker = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
      const jwk = await exportJWK(attacker.publicKey);
      for (const header of [{ jwk }, { jku: url }, { x5u: url }, { jwk, jku: url, kid: 'attacker' }]) {
        const token = await new SignJWT(goodClaims)
          .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: 'attacker', ...header } as never)
          .sign(attacker.privateKey);
        await expectRefused(token);
      }
      expect(requests).toBe(0);
    } finally {
      server.close();
    }
  });
  test('unknown crit header', async () => {
    // jose will not sign one, so sign by hand with the service's real key.
    const { kid, privateKey } = h.keys.signingKey;
    const input = `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid, crit: ['x-unknown'], 'x-unknown': true })}.${b64(goodClaims)}`;
    const sig = Buffer.from(
      await webcrypto.subtle.sign('Ed25519', privateKey as CryptoKey, Buffer.from(input)),
    ).toString('base64url');
    await expectRefused(`${input}.${sig}`);
    // The same bytes without crit pass: only the unknown critical extension is refused.
    const plain = `${b64({ alg: 'EdDSA', typ: 'at+jwt', kid })}.${b64(goodClaims)}`;
    const plainSig = Buffer.from(
      await webcrypto.subtle.sign('Ed25519', privateKey as CryptoKey, Buffer.from(plain)),
    ).toString('base64url');
    expect((await h.gql(`${plain}.${plainSig}`, '{ viewer { kind } }')).status).toBe(200);
  });
  test('a token signed by a retired key is refused once the key is removed', async () => {
    // A staff token (not stored) signed by the current key…
    const staffToken = await h.staffToken('AUDITOR');
    const before = (await h.gql(staffToken, '{ viewer { kind } }')).status;
    expect(before).toBe(200);
    const oldKid = h.keys.signingKey.kid;
    const rotate = `mutation { rotateSigningKey(input: { reason: "test" }) { __typename ... on RotateSigningKeyPayload { kid publishedKids removedKids } } }`;
    const first = (await h.gql(compliance, rotate)).body.data.rotateSigningKey;
    expect(first.kid).not.toBe(oldKid);
    expect(first.publishedKids).toContain(oldKid);
    // …keeps working while its key is retired but published.
    expect((await h.gql(staffToken, '{ viewer { kind } }')).status).toBe(200);
    // Once every token it signed has expired (simulated: retire date moved back, its stored tokens expired), a
    // later rotation removes it, and the token is refused even though it was cached as valid.
    const { sql } = await import('drizzle-orm');
    await h.database.db.execute(
      sql`update access_tokens set expires_at = now() - interval '1 minute' where kid = ${oldKid}`,
    );
    await retireLongAgo(oldKid);
    const second = (await h.gql(compliance, rotate)).body.data.rotateSigningKey;
    expect(second.removedKids).toContain(oldKid);
    expect(h.keys.jwks().keys.map((k) => k.kid)).not.toContain(oldKid);
    await expectRefused(staffToken);
    compliance = await h.staffToken('COMPLIANCE');
  });
});

/** Moves a retired key's retirement date back past the longest staff-token lifetime. */
async function retireLongAgo(kid: string) {
  const { sql } = await import('drizzle-orm');
  const longAgo = new Date(Date.now() - 30 * 86400_000).toISOString();
  await h.database.db.execute(sql`update signing_keys set retired_at = ${longAgo} where kid = ${kid}`);
  await h.keys.reload();
}

describe('revocation', () => {
  test('a revoked token is refused at once, though it was verified and cached before', async () => {
    const c = await contractorWithToken(h, compliance, { name: 'Revoked Co' });
    expect((await h.gql(c.token, '{ viewer { kind } }')).status).toBe(200);
    await ok(
      h,
      compliance,
      'revokeAccessToken',
      'RevokeAccessTokenInput',
      { id: c.accessTokenId, reason: 'laptop lost' },
      'accessToken',
      'status revokedBy',
    );
    await expectRefused(c.token);
  });
  test('suspending the contractor stops its tokens', async () => {
    const c = await contractorWithToken(h, compliance, { name: 'Suspended Co' });
    expect((await h.gql(c.token, '{ viewer { kind } }')).status).toBe(200);
    await setStatus(h, compliance, c.contractor.id, 'SUSPENDED', 'audit finding');
    await expectRefused(c.token);
  });
  test('revoking the grant stops tokens under its purpose', async () => {
    const c = await contractorWithToken(h, compliance, { name: 'Grant Revoked Co' });
    expect((await h.gql(c.token, '{ viewer { kind } }')).status).toBe(200);
    await ok(
      h,
      compliance,
      'revokeGrant',
      'RevokeGrantInput',
      { id: c.grant.id, reason: 'contract ended' },
      'grant',
      'status',
    );
    await expectRefused(c.token);
  });
});
