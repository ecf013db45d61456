// Staff tokens from the company's own identity provider: its JWKS served by this test on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const ISSUER = 'https://login.example.test/';
const AUDIENCE = 'transfer-registry';
let h: Harness;
let server: Server;
let idpKey: CryptoKey;
let jwksRequests = 0;

beforeAll(async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  idpKey = privateKey;
  const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
  server = createServer((_req, res) => {
    jwksRequests++;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  h = await startHarness({
    OIDC_ISSUER: ISSUER,
    OIDC_AUDIENCE: AUDIENCE,
    OIDC_JWKS_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`,
    OIDC_ROLE_CLAIM: 'groups',
    OIDC_COMPLIANCE_ROLE: 'privacy-office',
    OIDC_AUDITOR_ROLE: 'internal-audit',
  });
});
afterAll(async () => {
  await h?.stop();
  server?.close();
});

const idpToken = (claims: JWTPayload, key: CryptoKey = idpKey, kid = 'idp-1') =>
  new SignJWT({ email: 'carol@example.com', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('00u1carol')
    .setIssuedAt()
    .setExpirationTime('10m')
    .sign(key);

const viewer = (token: string) => h.gql(token, '{ viewer { kind role subject } }');

test('a compliance group member is COMPLIANCE and can write', async () => {
  const token = await idpToken({ groups: ['everyone', 'privacy-office'] });
  expect((await viewer(token)).body.data.viewer).toEqual({
    kind: 'STAFF',
    role: 'COMPLIANCE',
    subject: 'carol@example.com',
  });
  const r = await h.gql(
    token,
    'mutation { createOffice(input: { name: "Lyon", legalEntity: "Example SAS", country: "FR", city: "Lyon" }) { __typename } }',
  );
  expect(r.body.data.createOffice.__typename).toBe('CreateOfficePayload');
  expect(jwksRequests).toBeGreaterThan(0);
});

test('an auditor group member reads but cannot write; both groups mean the lesser role', async () => {
  for (const groups of [['internal-audit'], ['privacy-office', 'internal-audit'], 'internal-audit']) {
    const token = await idpToken({ groups });
    expect((await viewer(token)).body.data.viewer.role).toBe('AUDITOR');
    const r = await h.gql(
      token,
      'mutation { createOffice(input: { name: "x", legalEntity: "x", country: "FR", city: "x" }) { __typename } }',
    );
    expect(r.body.errors[0].extensions.code).toBe('FORBIDDEN');
  }
});

test('refused: no registry group, wrong audience, wrong issuer, foreign key, expired', async () => {
  const stranger = await generateKeyPair('RS256');
  const expiredAt = Math.floor(Date.now() / 1000) - 3600;
  const refused = [
    await idpToken({ groups: ['everyone'] }),
    await idpToken({}),
    await new SignJWT({ groups: ['privacy-office'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience('other-app')
      .setSubject('x')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(idpKey),
    await new SignJWT({ groups: ['privacy-office'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer('https://evil.test/')
      .setAudience(AUDIENCE)
      .setSubject('x')
      .setIssuedAt()
      .setExpirationTime('10m')
      .sign(idpKey),
    await idpToken({ groups: ['privacy-office'] }, stranger.privateKey),
    await new SignJWT({ groups: ['privacy-office'] })
      .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject('x')
      .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
      .setExpirationTime(expiredAt)
      .sign(idpKey),
  ];
  const messages: string[] = [];
  for (const token of refused) {
    const r = await viewer(token);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/error="invalid_token", error_description="[^"]*"$/);
    messages.push(r.body.errors[0].message);
  }
  expect(messages.at(-1)).toBe(`identity-provider token expired at ${new Date(expiredAt * 1000).toISOString()}`);
  expect(messages[2]).toBe("identity-provider token rejected: unexpected 'aud' claim value");
});

test('the CLI staff tokens keep working beside the identity provider', async () => {
  expect((await viewer(await h.staffToken('AUDITOR'))).body.data.viewer.role).toBe('AUDITOR');
});
