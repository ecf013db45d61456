// GraphiQL works as a person opens it: the standard introspection query (what GraphiQL's Docs and
// autocomplete, and every code generator, send) passes the query limits for staff outside production,
// over real HTTP; it stays refused to contractor tokens and in production.
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

const post = (base: string, token: string, query: string) => fetch(`${base}/graphql`, {
  method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query }),
}).then(async (r) => ({ status: r.status, body: (await r.json()) as { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] } }));

// What GraphiQL sends (every option on), and graphql-js' default (what code generators send).
const introspectionQueries = {
  'GraphiQL (all options)': getIntrospectionQuery({ descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true }),
  'graphql-js default': getIntrospectionQuery(),
};

let h: Harness;
let base: string;
let server: Server;
beforeAll(async () => {
  h = await startHarness();
  ({ base, server } = await listen(h));
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await h?.stop();
});

describe('the standard introspection query over HTTP', () => {
  test.each(Object.entries(introspectionQueries))('staff outside production get the whole schema: %s', async (_, query) => {
    for (const role of ['COMPLIANCE', 'AUDITOR'] as const) {
      const r = await post(base, await h.staffToken(role), query);
      expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
      const schema = buildClientSchema(r.body.data as IntrospectionQuery);
      expect(Object.keys(schema.getQueryType()!.getFields())).toContain('contractors');
      expect(Object.keys(schema.getMutationType()!.getFields())).toContain('addObligation');
    }
  });

  test('contractor tokens are refused', async () => {
    const { token } = await contractorWithToken(h, await h.staffToken('COMPLIANCE'), { name: 'Introspecting Co' });
    const r = await post(base, token, getIntrospectionQuery());
    expect(r.body.data ?? undefined).toBeUndefined();
    expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(r.body.errors?.[0]?.message).toMatch(/Introspection is not available to contractor tokens/);
  });

  test('in production it is refused to staff too', async () => {
    const p = await startHarness({ NODE_ENV: 'production' });
    const { base: prodBase, server: prodServer } = await listen(p);
    try {
      const r = await post(prodBase, await p.staffToken('COMPLIANCE'), getIntrospectionQuery());
      expect(r.body.data ?? undefined).toBeUndefined();
      expect(r.body.errors?.[0]?.message).toMatch(/Introspection is not available in production/);
    } finally {
      await new Promise((r) => prodServer.close(r));
      await p.stop();
    }
  });

  test('introspection that recurses through types is still refused, and ordinary queries keep the depth limit', async () => {
    const staff = await h.staffToken('COMPLIANCE');
    // Each `fields { type { fields …` level multiplies the answer: graphql-js' own introspection depth rule refuses it.
    const recursive = await post(base, staff, '{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }');
    expect(recursive.body.data ?? undefined).toBeUndefined();
    expect(recursive.body.errors?.map((e) => e.message)).toContain('Maximum introspection depth exceeded');
    let deep = 'id';
    for (let i = 0; i < 4; i++) deep = `grants(first: 1) { nodes { contractor { ${deep} } } }`;
    const r = await post(base, staff, `{ contractors(first: 1) { nodes { ${deep} } } }`);
    expect(r.body.errors?.[0]?.message).toMatch(/Query depth limit of 12 exceeded/);
  });
});
