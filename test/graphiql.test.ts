// GraphiQL works as a person opens it: the standard introspection query (what GraphiQL's Docs and
// autocomplete, and every code generator, send) passes the query limits for staff outside production,
// over real HTTP; it stays refused to contractor tokens and in production. The page and everything it
// loads come from the service itself, and a real browser with every other address blocked shows the Docs.
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { buildClientSchema, getIntrospectionQuery, type IntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { contractorWithToken } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

/** The app on a real HTTP listener on 127.0.0.1. */
async function listen(h: Harness): Promise<{ base: string; server: Server }> {
  const server = createServer(h.app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { base: `http://127.0.0.1:${(server.address() as { port: number }).port}`, server };
}

const post = (base: string, token: string, query: string) =>
  fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query }),
  }).then(async (r) => ({
    status: r.status,
    body: (await r.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] },
  }));

// What GraphiQL sends (every option on), and graphql-js' default (what code generators send).
const introspectionQueries = {
  'GraphiQL (all options)': getIntrospectionQuery({
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
    oneOf: true,
  }),
  'graphql-js default': getIntrospectionQuery(),
};

let h: Harness;
let base: string;
let server: Server;
/** NODE_ENV=production: no introspection, no GraphiQL. */
let prod: Harness;
let prodBase: string;
let prodServer: Server;
beforeAll(async () => {
  [h, prod] = await Promise.all([startHarness(), startHarness({ NODE_ENV: 'production' })]);
  ({ base, server } = await listen(h));
  ({ base: prodBase, server: prodServer } = await listen(prod));
});
afterAll(async () => {
  await Promise.all([server, prodServer].map((s) => new Promise((r) => (s ? s.close(r) : r(undefined)))));
  await Promise.all([h?.stop(), prod?.stop()]);
});

describe('the standard introspection query over HTTP', () => {
  test.each(Object.entries(introspectionQueries))(
    'staff outside production get the whole schema: %s',
    async (_, query) => {
      for (const role of ['COMPLIANCE', 'AUDITOR'] as const) {
        const r = await post(base, await h.staffToken(role), query);
        expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
        const schema = buildClientSchema(r.body.data as IntrospectionQuery);
        expect(Object.keys(schema.getQueryType()!.getFields())).toContain('contractors');
        expect(Object.keys(schema.getMutationType()!.getFields())).toContain('addObligation');
      }
    },
  );

  test('contractor tokens are refused', async () => {
    const { token } = await contractorWithToken(h, await h.staffToken('COMPLIANCE'), { name: 'Introspecting Co' });
    const r = await post(base, token, getIntrospectionQuery());
    expect(r.body.data ?? undefined).toBeUndefined();
    expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.body.errors?.[0]?.message).toMatch(/Introspection is not available to contractor tokens/);
  });

  test('in production it is refused to staff too', async () => {
    const r = await post(prodBase, await prod.staffToken('COMPLIANCE'), getIntrospectionQuery());
    expect(r.body.data ?? undefined).toBeUndefined();
    expect(r.body.errors?.[0]?.message).toMatch(/Introspection is not available in production/);
  });

  test('introspection that recurses through types is still refused, and ordinary queries keep the depth limit', async () => {
    const staff = await h.staffToken('COMPLIANCE');
    // Each `fields { type { fields …` level multiplies the answer: graphql-js' own introspection depth rule refuses it.
    const recursive = await post(
      base,
      staff,
      '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }',
    );
    expect(recursive.body.data ?? undefined).toBeUndefined();
    expect(recursive.body.errors?.map((e) => e.message)).toContain('Maximum introspection depth exceeded');
    let deep = 'id';
    for (let i = 0; i < 4; i++) deep = `grants(first: 1) { nodes { contractor { ${deep} } } }`;
    const r = await post(base, staff, `{ contractors(first: 1) { nodes { ${deep} } } }`);
    expect(r.body.errors?.[0]?.message).toMatch(/Query depth limit of 12 exceeded/);
  });
});

describe('the GraphiQL page needs nothing but this service', () => {
  const page = () => fetch(`${base}/graphql`, { headers: { accept: 'text/html' } });

  test('the page and every asset it names are served here and name no other host', async () => {
    const res = await page();
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).not.toMatch(/(https?:)?\/\/[\w-]+\.[\w.-]+/); // no absolute or protocol-relative URL at all
    expect(html).not.toMatch(/Loading/);
    // Every path the page names: its script, style, icon and the editor's workers.
    const paths = [...new Set(html.match(/\/graphiql\/[\w.-]+/g))];
    expect(paths).toEqual(
      expect.arrayContaining([
        '/graphiql/graphiql.js',
        '/graphiql/graphiql.css',
        '/graphiql/favicon.ico',
        '/graphiql/json.worker.js',
        '/graphiql/graphql.worker.js',
        '/graphiql/editorWorkerService.worker.js',
      ]),
    );
    for (const path of paths) {
      const asset = await fetch(`${base}${path}`);
      expect(asset.status, path).toBe(200);
      if (path.endsWith('.ico')) {
        expect(asset.headers.get('content-type')).toBe('image/x-icon');
        continue;
      }
      const text = await asset.text();
      expect(text.length, path).toBeGreaterThan(1000);
      // Nothing that loads code, styles or fonts from elsewhere: CSS url() only as data:, no @import; no CDN in scripts.
      if (path.endsWith('.css')) expect(text.match(/url\((?!["']?data:)[^)]*\)/g) ?? [], path).toEqual([]);
      expect(text, path).not.toMatch(
        /@import|importScripts\(\s*["'`]http|unpkg\.com|jsdelivr|cdnjs|esm\.sh|skypack|googleapis|githubusercontent/,
      );
    }
  });

  test('assets are revalidated by ETag; an unknown name is 404', async () => {
    const first = await fetch(`${base}/graphiql/graphiql.css`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await fetch(`${base}/graphiql/graphiql.css`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(`${base}/graphiql/nope.js`)).status).toBe(404);
    expect((await fetch(`${base}/graphiql/../graphql`)).status).not.toBe(200);
  });

  test('the page says how to set the Authorization header', async () => {
    const html = await (await page()).text();
    expect(html).toContain('\\"Authorization\\": \\"Bearer \\u003cpaste a token here>\\"');
    expect(html).toContain('npm run --silent token -- --role compliance');
  });

  test('in production there are no GraphiQL assets', async () => {
    expect((await fetch(`${prodBase}/graphiql/graphiql.js`)).status).toBe(404);
  });
});

const chromiumPath = '/usr/bin/chromium';
if (!existsSync(chromiumPath))
  console.warn(
    `graphiql.test.ts: the browser check is skipped: no ${chromiumPath} (apt-get install -y chromium; .ci/run installs it)`,
  );

describe.skipIf(!existsSync(chromiumPath))('GraphiQL in Chromium, every other address blocked', () => {
  test('the page loads; with a staff token in the headers the Docs explorer lists the schema', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: chromiumPath });
    try {
      const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
      await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
      const tab = await context.newPage();
      const elsewhere: string[] = [];
      const pageErrors: string[] = [];
      // Only this service (and the blob:/data: URLs the page makes itself) may be reached.
      await tab.route('**/*', (route) => {
        const url = new URL(route.request().url());
        if (url.protocol === 'blob:' || url.protocol === 'data:' || url.origin === base) return route.continue();
        elsewhere.push(url.href);
        return route.abort('blockedbyclient');
      });
      tab.on('pageerror', (e) => pageErrors.push(e.message));
      await tab.goto(`${base}/graphql`);
      const headersEditor = tab.locator('.graphiql-editor-tool .monaco-editor').last();
      // Monaco draws spaces as no-break spaces.
      const headersText = async () => (await headersEditor.locator('.view-lines').innerText()).replace(/\u00a0/g, ' ');
      await expect.poll(headersText, { timeout: 20_000 }).toContain('"Authorization": "Bearer <paste a token here>"');
      // As a person would: select the headers and paste the JSON with a freshly minted staff token.
      const token = await h.staffToken('COMPLIANCE');
      await headersEditor.click();
      await tab.keyboard.press('Control+A');
      await tab.evaluate(
        (text) => navigator.clipboard.writeText(text),
        JSON.stringify({ Authorization: `Bearer ${token}` }),
      );
      await tab.keyboard.press('Control+V');
      await tab.getByRole('button', { name: /Re-fetch GraphQL schema/ }).click();
      await tab.getByRole('button', { name: 'Show Documentation Explorer' }).click();
      const docs = tab.locator('.graphiql-doc-explorer');
      await expect
        .poll(() => docs.innerText(), { timeout: 20_000 })
        .toMatch(/query: Query[\s\S]*mutation: Mutation[\s\S]*ContractorConnection/);
      expect(elsewhere).toEqual([]);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 90_000);
});
