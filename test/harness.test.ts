// What every other test file relies on: its app starts on a database of its own that holds every committed
// migration. The run migrates once and each harness gets a copy (test/migrated-database.ts), so a stale or
// partial snapshot, or two harnesses sharing one database, must fail here rather than pass elsewhere.
import { readMigrationFiles } from 'drizzle-orm/migrator';
import { expect, test } from 'vitest';
import { migrationsFolder } from '../src/db/client.js';
import { onlyRow } from '../src/db/rows.js';
import { createOffice } from './fixtures.js';
import { startHarness, type Harness } from './harness.js';

const offices = async (h: Harness) =>
  onlyRow((await h.asOwner('select count(*)::int as n from offices')) as { n: number }[]).n;

test('each harness starts on a copy of its own, migrated to the last committed migration', async () => {
  const a = await startHarness();
  const b = await startHarness();
  try {
    const committed = readMigrationFiles({ migrationsFolder }).map((m) => m.name);
    for (const h of [a, b]) {
      const applied = (await h.asOwner('select name from drizzle.__drizzle_migrations order by id')) as {
        name: string;
      }[];
      expect(applied.map((r) => r.name)).toEqual(committed);
    }
    await createOffice(a, await a.staffToken('COMPLIANCE'));
    expect(await offices(a)).toBe(1);
    expect(await offices(b)).toBe(0);
  } finally {
    await a.stop();
    await b.stop();
  }
});
