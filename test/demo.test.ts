// The demo data loads cleanly through the API: every grant passes the transfer policy.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { hasData, loadDemoData } from '../src/cli/demo-data.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.stop(); });

test('demo registry loads and reads back', async () => {
  const token = await h.staffToken('COMPLIANCE');
  expect(await hasData(h.app, token)).toBe(false);
  await loadDemoData(h.app, token);
  expect(await hasData(h.app, token)).toBe(true);
  const r = await h.gql(await h.staffToken('AUDITOR'), '{ contractors(first: 50) { nodes { legalName country status grants(first: 10) { nodes { mechanism office { country } } } } } }');
  const byName = Object.fromEntries(r.body.data.contractors.nodes.map((c: { legalName: string }) => [c.legalName, c]));
  expect(Object.keys(byName)).toHaveLength(6);
  expect(byName['Helpdesk Services Pvt Ltd'].grants.nodes[0].mechanism).toBe('SCC');
  expect(byName['OrderFlow Inc.'].grants.nodes[0].mechanism).toBe('ADEQUACY');
  expect(byName['ParcelPoint Logistics B.V.'].grants.nodes[0].mechanism).toBe('NOT_REQUIRED');
  expect(byName['Mailsend Pty Ltd'].status).toBe('ONBOARDING');
});
