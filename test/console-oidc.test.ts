// Signing in to the console at the company's identity provider: authorization code with PKCE, in Chromium,
// against an identity provider this test serves on loopback (discovery, authorize, token, JWKS). The token
// endpoint hands out an access token only for the verifier whose S256 challenge began the sign-in; a forged
// state or a refused code signs nobody in and says why.
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';

const chromiumPath = '/usr/bin/chromium';
const AUDIENCE = 'transfer-registry';
const CLIENT = 'registry-console';

let h: Harness;
let app: Server;
let idp: Server;
let base: string;
let issuer: string;
let browser: Browser;
/** What the identity provider saw: each authorization request, each token request's outcome. */
const authorizations: URLSearchParams[] = [];
const exchanges: string[] = [];
/** Set by a test: the token endpoint refuses every code. */
let refuseCodes = false;

const listen = (server: Server) =>
  new Promise<string>((r) =>
    server.listen(0, '127.0.0.1', () => r(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
  );

describe.skipIf(!existsSync(chromiumPath))('console sign-in with OIDC (authorization code + PKCE)', () => {
  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' };
    const codes = new Map<string, { challenge: string; redirect: string }>();
    idp = createServer(async (req, res) => {
      const url = new URL(req.url!, issuer);
      res.setHeader('access-control-allow-origin', '*');
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === '/.well-known/openid-configuration')
        return json(200, {
          issuer,
          authorization_endpoint: `${issuer}/authorize`,
          token_endpoint: `${issuer}/token`,
          jwks_uri: `${issuer}/jwks`,
        });
      if (url.pathname === '/jwks') return json(200, { keys: [jwk] });
      if (url.pathname === '/authorize') {
        authorizations.push(url.searchParams);
        const code = randomUUID();
        codes.set(code, {
          challenge: url.searchParams.get('code_challenge')!,
          redirect: url.searchParams.get('redirect_uri')!,
        });
        const back = new URL(url.searchParams.get('redirect_uri')!);
        back.search = new URLSearchParams({ code, state: url.searchParams.get('state')! }).toString();
        res.writeHead(302, { location: back.href });
        return res.end();
      }
      if (url.pathname === '/token' && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += String(chunk);
        const form = new URLSearchParams(body);
        const issued = codes.get(form.get('code') ?? '');
        codes.delete(form.get('code') ?? '');
        const verifier = form.get('code_verifier') ?? '';
        const challenge = createHash('sha256').update(verifier).digest('base64url');
        const valid =
          !refuseCodes &&
          issued &&
          issued.challenge === challenge &&
          issued.redirect === form.get('redirect_uri') &&
          form.get('client_id') === CLIENT &&
          form.get('grant_type') === 'authorization_code';
        exchanges.push(valid ? 'issued' : 'refused');
        if (!valid) return json(400, { error: 'invalid_grant', error_description: 'code or verifier not accepted' });
        const token = await new SignJWT({ email: 'dana@example.com', groups: ['registry-auditor'] })
          .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
          .setIssuer(issuer)
          .setAudience(AUDIENCE)
          .setSubject('00u1dana')
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(privateKey);
        return json(200, { access_token: token, token_type: 'Bearer', expires_in: 600 });
      }
      json(404, { error: 'not_found' });
    });
    issuer = await listen(idp);
    h = await startHarness({
      OIDC_ISSUER: issuer,
      OIDC_AUDIENCE: AUDIENCE,
      OIDC_JWKS_URL: `${issuer}/jwks`,
      OIDC_ROLE_CLAIM: 'groups',
      OIDC_CONSOLE_CLIENT_ID: CLIENT,
      OIDC_CONSOLE_SCOPE: 'openid email groups',
    });
    app = createServer(h.app);
    base = await listen(app);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: chromiumPath });
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all([app, idp].map((s) => new Promise((r) => (s ? s.close(r) : r(undefined)))));
    await h?.stop();
  });

  /** A tab that may reach the service and the identity provider only. */
  async function tab(): Promise<{ page: Page; elsewhere: string[] }> {
    const page = await browser.newPage();
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.origin === base || url.origin === issuer) return route.continue();
      elsewhere.push(url.href);
      return route.abort('blockedbyclient');
    });
    return { page, elsewhere };
  }

  test('the page lets the browser reach the identity provider, and nothing else', async () => {
    const res = await h.app.fetch('http://registry.test/');
    expect(res.headers.get('content-security-policy')).toContain(`connect-src 'self' ${issuer}`);
  });

  test('a staff member signs in at the identity provider and lands signed in, with the code gone from the URL', async () => {
    const { page, elsewhere } = await tab();
    await page.goto(base);
    await page.getByRole('button', { name: 'Sign in with your company account' }).click();
    await page
      .getByRole('button', { name: 'Sign out' })
      .waitFor({ timeout: 15_000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\n${await page.locator('body').innerText()}\n${exchanges.join(',')}`);
      });
    expect(await page.locator('header').innerText()).toMatch(/dana@example\.com\s*\(Auditor\)/);
    expect(page.url()).toBe(`${base}/`);
    const asked = authorizations.at(-1)!;
    expect(Object.fromEntries(asked)).toMatchObject({
      response_type: 'code',
      client_id: CLIENT,
      redirect_uri: `${base}/`,
      scope: 'openid email groups',
      code_challenge_method: 'S256',
    });
    expect(asked.get('code_challenge')).toMatch(/^[\w-]{43}$/);
    expect(exchanges.at(-1)).toBe('issued');
    expect(elsewhere).toEqual([]);
    await page.close();
  });

  test('an answer with a state this tab did not send signs nobody in', async () => {
    const { page } = await tab();
    await page.goto(base);
    await page.getByRole('button', { name: 'Sign in with your company account' }).waitFor();
    const before = exchanges.length;
    await page.goto(`${base}/?code=stolen&state=forged`);
    await page.getByText('The sign-in answer did not match this tab.').waitFor();
    expect(exchanges.length).toBe(before); // the code was never sent to the token endpoint
    // A pasted token the service refuses is not kept, and the reason is shown.
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByText(/^Not signed in: The service refused the token: /).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('transfer-registry.token'))).toBeNull();
    await page.close();
  });

  test('a code the identity provider refuses to exchange is reported, and the tab stays signed out', async () => {
    const { page } = await tab();
    refuseCodes = true;
    try {
      await page.goto(base);
      await page.getByRole('button', { name: 'Sign in with your company account' }).click();
      await page.getByText(/The identity provider gave no token: code or verifier not accepted/).waitFor();
      expect(exchanges.at(-1)).toBe('refused');
      expect(await page.evaluate(() => sessionStorage.getItem('transfer-registry.token'))).toBeNull();
    } finally {
      refuseCodes = false;
    }
    await page.close();
  });
});
