// The done-when of the web console, in headless Chromium against `npm start -- --demo` as a user starts it: an
// auditor signs in with a CLI token, sees the flow map with data and downloads its CSV; a compliance officer sees
// a grant refused with its reason, picks the mechanism the reason names and creates the grant; a contractor
// acknowledges an obligation and sees its access history. No request leaves the machine (every other address is
// blocked and recorded), axe-core finds no serious or critical violation on any page, and sign-out forgets the
// token. Screenshots go to CONSOLE_SCREENSHOTS (README: docs/console), else to a temporary folder.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { onPostgres } from './harness.js';
import { npm, npmEnv, npmStart, type Server } from './npm-process.js';

const chromiumPath = '/usr/bin/chromium';
if (!existsSync(chromiumPath))
  console.warn(
    `console-browser.test.ts: skipped: no ${chromiumPath} (apt-get install -y chromium; .ci/run installs it)`,
  );
if (onPostgres) console.warn('console-browser.test.ts: runs in the run without DATABASE_URL (npm start on PGlite)');

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const shots = process.env.CONSOLE_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'console-shots-'));

let dataDir: string;
let server: Server;
let base: string;
let browser: Browser;
const tokens: Record<'auditor' | 'compliance' | 'contractor', string> = { auditor: '', compliance: '', contractor: '' };

const graphql = async (token: string, query: string, variables: Record<string, unknown> = {}) => {
  const r = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await r.json()) as { data?: any; errors?: unknown[] };
  expect(body.errors, JSON.stringify(body.errors)).toBeUndefined();
  return body.data;
};

const mint = async (role: string) => {
  const t = await npm(
    ['run', '--silent', 'token', '--', '--role', role, '--subject', `${role}@example.com`],
    npmEnv(dataDir),
  );
  expect(t.code, t.stderr).toBe(0);
  return t.stdout.trim();
};

describe.skipIf(onPostgres || !existsSync(chromiumPath))(
  'the console in Chromium, against npm start -- --demo',
  { timeout: 240_000 },
  () => {
    beforeAll(async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'registry-console-'));
      // A longest token lifetime of 10 hours: the token form offers what the service is configured with.
      server = await npmStart(dataDir, ['--demo'], { CONTRACTOR_TOKEN_MAX_TTL_SECONDS: '36000' });
      base = server.base;
      // The first start migrates and loads the demo: on a busy machine longer than npmStart waits.
      const ready = async () => (await fetch(`${base}/ready`).catch(() => undefined))?.ok ?? false;
      for (let i = 0; i < 240 && !(await ready()); i++) await new Promise((r) => setTimeout(r, 1000));
      expect(await ready(), server.output().stderr).toBe(true);
      tokens.auditor = await mint('auditor');
      tokens.compliance = await mint('compliance');
      // A contractor's token, as compliance staff issue it: ParcelPoint, which the demo left one obligation to acknowledge.
      const { contractors } = await graphql(tokens.compliance, '{ contractors(first: 50) { nodes { id legalName } } }');
      const parcel = contractors.nodes.find((c: { legalName: string }) => c.legalName.startsWith('ParcelPoint'));
      const issued = await graphql(
        tokens.compliance,
        `
          mutation ($input: IssueAccessTokenInput!) {
            issueAccessToken(input: $input) {
              __typename
              ... on IssueAccessTokenPayload {
                token
              }
              ... on Error {
                message
              }
            }
          }
        `,
        {
          input: {
            contractorId: parcel.id,
            scopes: ['REGISTRY_READ', 'OBLIGATIONS_ACKNOWLEDGE', 'RECORDS_READ'],
            purposes: ['PRODUCT_DISTRIBUTION'],
            categories: ['contact.name', 'contact.postal_address'],
            lifetimeSeconds: 3600,
          },
        },
      );
      expect(issued.issueAccessToken.__typename, issued.issueAccessToken.message).toBe('IssueAccessTokenPayload');
      tokens.contractor = issued.issueAccessToken.token;
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({ executablePath: chromiumPath });
    }, 300_000);
    afterAll(async () => {
      await browser?.close();
      await server?.stop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    /** A fresh tab in its own context that may reach this server only; what it tried elsewhere, and its errors. */
    async function tab(): Promise<{
      page: Page;
      context: BrowserContext;
      elsewhere: string[];
      errors: string[];
      urls: string[];
    }> {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
      const page = await context.newPage();
      const elsewhere: string[] = [];
      const errors: string[] = [];
      const urls: string[] = [];
      await context.route('**/*', (route) => {
        const url = new URL(route.request().url());
        urls.push(url.href);
        if (url.protocol === 'blob:' || url.protocol === 'data:' || url.origin === base) return route.continue();
        elsewhere.push(url.href);
        return route.abort('blockedbyclient');
      });
      page.on('pageerror', (e) => errors.push(e.message));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      return { page, context, elsewhere, errors, urls };
    }

    async function signIn(page: Page, token: string) {
      await page.goto(base);
      await page.getByLabel('Access token').fill(token);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor();
    }

    /** axe-core in the page (evaluated through the debugging protocol: the page's CSP allows no injected script). */
    async function seriousViolations(page: Page) {
      await page.evaluate(axeSource);
      const result = await page.evaluate(async () => {
        const r = await (window as unknown as { axe: { run(): Promise<{ violations: any[] }> } }).axe.run();
        return r.violations.map((v) => ({
          id: v.id,
          impact: v.impact,
          nodes: v.nodes.map((n: any) => n.target.join(' ')),
        }));
      });
      return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    }

    /** What clicking `button` downloads: its suggested name and its content. */
    async function downloaded(page: Page, button: ReturnType<Page['getByRole']>) {
      const [download] = await Promise.all([page.waitForEvent('download'), button.click()]);
      return { name: download.suggestedFilename(), text: readFileSync((await download.path())!, 'latin1') };
    }

    const shot = (page: Page, name: string) => {
      mkdirSync(shots, { recursive: true });
      return page.screenshot({ path: join(shots, `${name}.png`) });
    };

    test('an auditor sees the flow map and downloads its CSV', async () => {
      const { page, context, elsewhere, errors, urls } = await tab();
      expect(await seriousViolations((await page.goto(base), page))).toEqual([]);
      await signIn(page, tokens.auditor);
      const flows = page.getByRole('region', { name: 'Where the data goes' });
      // The demo's year: Ireland → India under SCC, a third-country flow, in the diagram and the table.
      await expect.poll(() => flows.locator('svg path').count(), { timeout: 30_000 }).toBeGreaterThan(4);
      const row = flows.getByRole('row').filter({ hasText: 'India (IN)' }).filter({ hasText: 'Ireland (IE)' });
      await expect.poll(() => row.innerText()).toMatch(/SCC[\s\S]*Third country/);
      await expect
        .poll(() => page.getByRole('region', { name: 'Monthly volume' }).getByRole('row').count())
        .toBeGreaterThan(12);
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        flows.getByRole('button', { name: 'Download flows as CSV' }).click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^transfer-flows-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);
      const csv = readFileSync((await download.path())!, 'utf8');
      expect(csv.split('\r\n')[0]).toBe(
        '"exporterCountry","importerCountry","mechanism","thirdCountry","transfers","records"',
      );
      expect(csv).toMatch(/"IE","IN","SCC",true,\d+,\d+/);
      expect(await seriousViolations(page)).toEqual([]);
      await shot(page, 'auditor');
      // The audit log's state: the newest signed checkpoint, saved as the file the offline verifier reads.
      const log = page.getByRole('region', { name: 'Audit log' });
      await expect.poll(() => log.innerText(), { timeout: 20_000 }).toMatch(/Tree size\s+[\d,]+ events/);
      expect(await log.innerText()).toMatch(/waiting to be sealed/);
      const saved = await downloaded(page, log.getByRole('button', { name: 'Download checkpoint' }));
      expect(saved.name).toMatch(/^audit-checkpoint-\d+\.json$/);
      const checkpoint = JSON.parse(saved.text);
      expect(Object.keys(checkpoint).sort()).toEqual([
        'issuedAt',
        'keyId',
        'origin',
        'rootHash',
        'signature',
        'treeSize',
      ]);
      expect(await log.innerText()).toContain(checkpoint.rootHash);
      const events = await downloaded(
        page,
        log.getByRole('button', { name: "Download the period's audit events as CSV" }),
      );
      expect(events.name).toMatch(/^audit-log-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.csv$/);
      expect(events.text.split('\r\n')[0]).toMatch(/^"seq","position","occurredAt","actor"/);
      expect(events.text).toMatch(/"recordTransfer"/);
      const pack = await downloaded(page, log.getByRole('button', { name: "Download the period's evidence pack" }));
      expect(pack.name).toMatch(/^evidence-pack-\d{4}-\d\d-\d\d-\d{4}-\d\d-\d\d\.zip$/);
      expect(pack.text.slice(0, 2)).toBe('PK');
      await log.scrollIntoViewIfNeeded();
      await shot(page, 'audit-log');
      // The audit log's chain, verified on request.
      await page.getByRole('button', { name: 'Verify the whole chain' }).click();
      await page.getByText(/Intact: [\d,]+ events checked/).waitFor();
      // The token went out only as a header: never in an address, never as a cookie.
      expect(urls.filter((u) => u.includes(tokens.auditor))).toEqual([]);
      expect(await context.cookies()).toEqual([]);
      // Sign-out forgets it: a reload finds the sign-in form, and nothing in sessionStorage.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByText('You signed out; the token is forgotten.').waitFor();
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      await page.reload();
      await page.getByLabel('Access token').waitFor();
      expect(elsewhere).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });

    test('a compliance officer sees a grant refused with its reason, picks the mechanism it names and creates it', async () => {
      const { page, context, elsewhere, errors } = await tab();
      await signIn(page, tokens.compliance);
      await page.goto(`${base}/#/grant`);
      await page.getByLabel('Exporting office').selectOption({ label: 'Berlin sales office (DE)' });
      // The picker asks the service: the words typed narrow the list to the one contractor.
      await page.getByLabel('Find by name').fill('helpdesk serv');
      await expect
        .poll(() => page.getByLabel('Contractor', { exact: true }).locator('option').allInnerTexts())
        .toEqual(['Choose a contractor', 'Helpdesk Services Pvt Ltd (IN, Active)']);
      await page
        .getByLabel('Contractor', { exact: true })
        .selectOption({ label: 'Helpdesk Services Pvt Ltd (IN, Active)' });
      const verdict = page.locator('.verdict');
      // No mechanism chosen: the policy refuses, saying which mechanism the route needs.
      await expect
        .poll(() => verdict.innerText(), { timeout: 20_000 })
        .toMatch(/Refused for India \(IN\): .*valid here: SCC module 2/);
      // The choices offered are the policy's validMechanisms, not read from the reason's words.
      expect(await verdict.getByRole('button').allInnerTexts()).toEqual(['Use SCC, module 2']);
      await expect.poll(() => page.getByRole('button', { name: 'Create grant' }).isDisabled()).toBe(true);
      expect(await seriousViolations(page)).toEqual([]);
      await shot(page, 'grant-refused');
      await page.getByRole('button', { name: 'Use SCC, module 2' }).click();
      await expect.poll(() => verdict.innerText(), { timeout: 20_000 }).toMatch(/^Allowed under SCC \(module 2\)/);
      expect(await page.getByLabel('Transfer mechanism').inputValue()).toBe('SCC');
      await page.getByLabel('Find by name').fill('nothing like it');
      await page.getByText('No contractor has that name.').waitFor();
      // The choice stays while another search lists other names.
      expect(await page.getByLabel('Contractor', { exact: true }).inputValue()).not.toBe('');
      await page.getByLabel('Purpose').selectOption('TECHNICAL_SUPPORT');
      await page
        .locator('label.check', { has: page.locator('code', { hasText: /^contact\.name$/ }) })
        .locator('input')
        .check();
      await page.getByLabel('Transfer impact assessment (reference)').fill('TIA-2026-031');
      await page.getByRole('button', { name: 'Create grant' }).click();
      await page.getByText(/Grant created: Active, SCC module 2/).waitFor();
      // The grant is in the registry as the form showed it.
      const { grants } = await graphql(
        tokens.compliance,
        '{ grants(first: 50, purpose: TECHNICAL_SUPPORT) { nodes { mechanism sccModule tiaReference office { name } contractor { legalName } } } }',
      );
      expect(grants.nodes).toContainEqual({
        mechanism: 'SCC',
        sccModule: 2,
        tiaReference: 'TIA-2026-031',
        office: { name: 'Berlin sales office' },
        contractor: { legalName: 'Helpdesk Services Pvt Ltd' },
      });
      // The contractor page shows it, beside locations, obligations, tokens and status history.
      await page.getByRole('link', { name: 'See Helpdesk Services Pvt Ltd' }).click();
      await page.getByRole('heading', { name: 'Status history' }).waitFor();
      await expect
        .poll(() => page.getByRole('region', { name: 'Grants' }).innerText())
        .toMatch(/Berlin sales office[\s\S]*SCC \(module 2\)/);
      await expect
        .poll(() => page.getByRole('region', { name: 'Status history' }).innerText())
        .toMatch(/Active\s+Due diligence completed/);
      expect(await seriousViolations(page)).toEqual([]);
      await page.goto(`${base}/#/queues`);
      await expect
        .poll(() => page.getByRole('region', { name: 'Disclosure requests overdue' }).innerText())
        .toMatch(/StA-M-2026-5512/);
      expect(await seriousViolations(page)).toEqual([]);
      await page.goto(`${base}/#/contractors`);
      await page.getByLabel('Status').selectOption('ONBOARDING');
      // The filtered page replaces the whole list: Mailsend, onboarding, and none of the active ones.
      await expect
        .poll(() => page.getByRole('table').innerText())
        .toMatch(/^(?![\s\S]*ParcelPoint)[\s\S]*Mailsend Pty Ltd/);
      // By name: the words a name starts with, with the other filters.
      await page.getByLabel('Status').selectOption('');
      await page.getByLabel('Name (words it starts with)').fill('card pay');
      await page.getByLabel('Name (words it starts with)').press('Enter');
      await expect
        .poll(() => page.getByRole('table').innerText())
        .toMatch(/^(?![\s\S]*Mailsend)[\s\S]*CardVault Payments Ltd/);
      expect(await seriousViolations(page)).toEqual([]);
      expect(elsewhere).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });

    test('a compliance officer re-papers the grant a policy change suspended, then issues and revokes a token', async () => {
      const { page, context, elsewhere, errors } = await tab();
      await signIn(page, tokens.compliance);
      await page.goto(`${base}/#/queues`);
      const findings = page.getByRole('region', { name: 'Policy findings' });
      // The demo's finding: US adequacy suspended, OrderFlow's grant from Berlin waits, the SCCs offered.
      const row = findings.getByRole('row').filter({ hasText: 'OrderFlow Inc.' });
      await expect
        .poll(() => row.innerText(), { timeout: 20_000 })
        .toMatch(
          /Berlin sales office \(DE\), Order fulfilment, ADEQUACY[\s\S]*Suspend adequacy: Demo: the EU-US Data Privacy Framework[\s\S]*US: the adequacy decision for US .* is suspended .*valid here: SCC module 2/i,
        );
      expect(await seriousViolations(page)).toEqual([]);
      await shot(page, 'queues');
      await row.getByRole('button', { name: 'Re-paper with SCC, module 2' }).click();
      await findings.getByText("Re-papered: OrderFlow Inc.'s grant now rests on SCC, module 2.").waitFor();
      await findings.getByText('No grant waits to be re-papered.').waitFor();
      const { grants } = await graphql(
        tokens.compliance,
        '{ grants(first: 50, purpose: ORDER_FULFILMENT) { nodes { status mechanism sccModule contractor { legalName } } } }',
      );
      expect(grants.nodes).toContainEqual({
        status: 'ACTIVE',
        mechanism: 'SCC',
        sccModule: 2,
        contractor: { legalName: 'OrderFlow Inc.' },
      });

      // Its page: issue a token for the re-papered grant, shown once, then revoke it.
      await page.goto(`${base}/#/contractors`);
      await page.getByRole('link', { name: 'OrderFlow Inc.' }).click();
      const tokensRegion = page.getByRole('region', { name: 'Access tokens' });
      // The lifetimes stop at the service's longest (10 hours here), which is offered itself.
      await expect
        .poll(() => tokensRegion.getByLabel('Lifetime').locator('option').allInnerTexts())
        .toEqual(['15 minutes', '1 hour', '8 hours', '10 hours (the longest allowed)']);
      await tokensRegion.getByLabel('Order fulfilment').check();
      await tokensRegion.getByLabel('contact.email').check();
      await tokensRegion.getByRole('button', { name: 'Issue token' }).click();
      const issued = await tokensRegion.getByLabel('The new token').inputValue();
      expect(issued).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      const viewer = async () =>
        fetch(`${base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${issued}` },
          body: JSON.stringify({ query: '{ viewer { kind categories purposes contractor { legalName } } }' }),
        });
      const signedIn = await (await viewer()).json();
      expect(signedIn.data.viewer).toEqual({
        kind: 'CONTRACTOR',
        categories: ['contact.email'],
        purposes: ['ORDER_FULFILMENT'],
        contractor: { legalName: 'OrderFlow Inc.' },
      });
      expect(await seriousViolations(page)).toEqual([]);
      await tokensRegion.scrollIntoViewIfNeeded();
      await shot(page, 'contractor-tokens');
      await tokensRegion.getByRole('button', { name: 'Done, hide it' }).click();
      expect(await tokensRegion.getByLabel('The new token').count()).toBe(0);
      const tokenRow = tokensRegion.getByRole('row').filter({ hasText: 'Active' });
      await tokenRow.getByRole('button', { name: /^Revoke / }).click();
      await tokenRow.getByLabel('Reason').fill('Handed over by mistake');
      await tokenRow.getByRole('button', { name: 'Confirm revoke' }).click();
      await expect
        .poll(() => tokensRegion.getByRole('row').nth(1).innerText())
        .toMatch(/Revoked\s+Handed over by mistake/);
      expect((await viewer()).status).toBe(401);
      // Nothing issued without a purpose: the service's refusal is shown, and no token.
      await tokensRegion.getByLabel('Order fulfilment').uncheck();
      await tokensRegion.getByRole('button', { name: 'Issue token' }).click();
      await expect.poll(() => tokensRegion.getByRole('alert').innerText()).toMatch(/^Not issued: Invalid input/);
      expect(await tokensRegion.getByLabel('The new token').count()).toBe(0);
      expect(elsewhere).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });

    test('a contractor acknowledges an obligation and sees its access history', async () => {
      const { page, context, elsewhere, errors } = await tab();
      await signIn(page, tokens.contractor);
      await page.getByRole('heading', { name: 'ParcelPoint Logistics B.V.' }).waitFor();
      const history = page.getByRole('region', { name: 'Your access history' });
      // The demo's two reads of shared records.
      await expect.poll(() => history.getByRole('row').count(), { timeout: 20_000 }).toBe(3);
      await page.getByRole('button', { name: 'Acknowledge Audit cooperation' }).click();
      await page.getByText('Acknowledged: Audit cooperation.').waitFor();
      await expect.poll(() => page.getByRole('button', { name: /^Acknowledge/ }).count()).toBe(0);
      // Now every obligation is acknowledged, the records can be read; the read joins the history.
      await page.getByRole('button', { name: 'Read shared records' }).click();
      await page.getByRole('table', { name: 'Records you may read for this purpose' }).waitFor();
      await expect.poll(() => history.getByRole('row').count()).toBe(4);
      expect(await seriousViolations(page)).toEqual([]);
      await shot(page, 'contractor');
      expect(elsewhere).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });
  },
);
