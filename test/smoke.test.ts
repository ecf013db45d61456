import { afterAll, beforeAll, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

test('viewer', async () => {
  const token = await h.staffToken('COMPLIANCE');
  const r = await h.gql(token, '{ viewer { kind subject role scopes } }');
  expect(r.body).toEqual({
    data: {
      viewer: {
        kind: 'STAFF',
        subject: 'compliance@example.com',
        role: 'COMPLIANCE',
        scopes: ['registry:read', 'registry:write'],
      },
    },
  });
});
