// The GraphQL-over-HTTP spec audits (graphql-http), with a valid token on every request: every MUST passes.
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let token: string;
beforeAll(async () => {
  h = await startHarness();
  token = await h.staffToken('AUDITOR');
});
afterAll(async () => {
  await h?.stop();
});

describe('GraphQL over HTTP', () => {
  for (const audit of serverAudits({
    url: 'http://registry.test/graphql',
    fetchFn: (input: RequestInfo | URL, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return h.app.fetch(input as string, { ...init, headers });
    },
  })) {
    if (!audit.name.startsWith('MUST')) continue;
    test(audit.name, async () => {
      const result = await audit.fn();
      expect(result.status, 'reason' in result ? result.reason : '').toBe('ok');
    });
  }
});
