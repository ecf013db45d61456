// The seeded taxonomy holds the data the published privacy policy names, read through the API as staff see it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

const TREE = '{ dataCategories { key sensitivity children { key name sensitivity } } }';

describe('the taxonomy covers the data the seed policy names', () => {
  test('correspondence, cookie data, forum posts and inferred interests are listed with their sensitivity', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const r = await h.gql(auditor, TREE);
    expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
    const roots = r.body.data.dataCategories as {
      key: string;
      sensitivity: string;
      children: { key: string; name: string; sensitivity: string }[];
    }[];
    const leaves = new Map(roots.flatMap((root) => root.children.map((c) => [c.key, c.sensitivity] as const)));
    expect(Object.fromEntries([...leaves].filter(([key]) => NEW_LEAVES.includes(key)))).toEqual({
      'contact.correspondence': 'PERSONAL',
      'usage.browsing_preferences': 'PERSONAL',
      'usage.visit_history': 'PERSONAL',
      // "information you submit in a news discussion or forum is public information"
      'community.forum_post': 'PUBLIC',
      'marketing.inferred_interests': 'PERSONAL',
    });
    // A public post stays public down the tree: its group is PUBLIC too, so a grant of `community` reaches it.
    expect(roots.find((root) => root.key === 'community')).toMatchObject({ sensitivity: 'PUBLIC' });
  });
});

const NEW_LEAVES = [
  'contact.correspondence',
  'usage.browsing_preferences',
  'usage.visit_history',
  'community.forum_post',
  'marketing.inferred_interests',
];
