// Upgrading a database migrated before the history was partitioned: the partitions migration carries every
// transfer and audit event over unchanged (same ids, same values), into its month's partition, and numbering
// continues after the highest id. On PGlite, and on PostgreSQL when DATABASE_URL is set (a database of its own).
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { migrationsFolder } from '../src/db/client.js';
import { onPostgres } from './harness.js';
import { databaseUrlFor, serverAdmin } from './migrated-database.js';

/** The migrations up to (not including) the partitioning one: the database as the release before it left it. */
const before = mkdtempSync(join(tmpdir(), 'registry-migrations-'));
const partitioning = readdirSync(migrationsFolder).find((d) => d.endsWith('_partitions'))!;
const later = readdirSync(migrationsFolder).filter((d) => d >= partitioning);
cpSync(migrationsFolder, before, { recursive: true, filter: (src) => !later.some((d) => src.includes(d)) });

interface Target {
  query(text: string): Promise<Record<string, unknown>[]>;
  migrate(folder: string): Promise<unknown>;
  close(): Promise<void>;
}

async function pgliteTarget(): Promise<Target> {
  const client = new PGlite();
  const db = drizzlePglite({ client });
  return {
    query: async (text) => (await client.query<Record<string, unknown>>(text)).rows,
    migrate: (folder) => migratePglite(db, { migrationsFolder: folder }),
    close: () => client.close(),
  };
}

async function postgresTarget(): Promise<Target> {
  const name = `registry_upgrade_${process.pid}_${Date.now()}`;
  const admin = serverAdmin();
  await admin.unsafe(`create database ${name}`);
  const url = new URL(process.env.DATABASE_URL!);
  const client = postgres(databaseUrlFor(decodeURIComponent(url.username), name), { max: 1, onnotice: () => {} });
  const db = drizzlePostgres({ client });
  return {
    query: async (text) => [...(await client.unsafe(text))],
    migrate: (folder) => migratePostgres(db, { migrationsFolder: folder }),
    close: async () => {
      await client.end();
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

let db: Target;

beforeAll(async () => {
  db = onPostgres ? await postgresTarget() : await pgliteTarget();
});
afterAll(async () => {
  await db?.close();
  rmSync(before, { recursive: true, force: true });
});

const TRANSFERS = `select to_jsonb(t) - 'tableoid' as row from transfers t order by id`;
const EVENTS = `select to_jsonb(e) as row from audit_events e order by seq`;

test('transfers and audit events migrated before partitioning are carried over, each into its month', async () => {
  await db.migrate(before);
  expect(await db.query(`select relkind::text as k from pg_class where relname = 'transfers'`)).toEqual([{ k: 'r' }]);
  await db.query(
    `insert into offices (name, legal_entity, country, city) values ('Berlin', 'Example GmbH', 'DE', 'Berlin')`,
  );
  // Three months (one of them twice, across its last millisecond), and one far in the past.
  for (const at of [
    '2025-01-31T23:59:59.999Z',
    '2025-02-01T00:00:00.000Z',
    '2025-03-15T12:00:00.000Z',
    '2019-07-04T00:00:00Z',
  ])
    await db.query(`insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind,
      importer_authority, importer_country, categories, purpose, mechanism, policy_explanation, record_count,
      cross_border, third_country, recorded_by)
      select '${at}', 'LEGAL_DISCLOSURE', id, 'DE', 'AUTHORITY', 'Court', 'US', '{contact.email}', 'LEGAL_OBLIGATION',
        'LEGAL_CLAIMS', 'Art. 49(1)(e)', 3, true, true, 'alice@example.com' from offices`);
  for (const at of ['2025-01-10T00:00:00Z', '2025-02-10T00:00:00Z', '2025-03-10T00:00:00Z'])
    await db.query(`insert into audit_events (occurred_at, actor, actor_role, action, entity_type, entity_id, after, row_hashes)
      values ('${at}', 'alice@example.com', 'COMPLIANCE', 'recordTransfer', 'Transfer', '1', '{"n": 1}', '[{"table":"transfers","key":"1","hash":"ab"}]')`);
  const transfersBefore = await db.query(TRANSFERS);
  const eventsBefore = await db.query(EVENTS);
  expect(transfersBefore).toHaveLength(4);

  await db.migrate(migrationsFolder);

  expect(await db.query(`select relkind::text as k from pg_class where relname = 'transfers'`)).toEqual([{ k: 'p' }]);
  expect(await db.query(TRANSFERS)).toEqual(transfersBefore);
  expect(await db.query(EVENTS)).toEqual(eventsBefore);
  expect(
    await db.query(`select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD') as day, tableoid::regclass::text as p
      from transfers order by id`),
  ).toEqual([
    { day: '2025-01-31', p: 'transfers_2025_01' },
    { day: '2025-02-01', p: 'transfers_2025_02' },
    { day: '2025-03-15', p: 'transfers_2025_03' },
    { day: '2019-07-04', p: 'transfers_2019_07' },
  ]);
  expect(await db.query(`select tableoid::regclass::text as p from audit_events order by seq`)).toEqual([
    { p: 'audit_events_2025_01' },
    { p: 'audit_events_2025_02' },
    { p: 'audit_events_2025_03' },
  ]);
  // What the old table carried besides rows: the monthly volume's expression statistics.
  expect(await db.query(`select stxname as name from pg_statistic_ext where stxrelid = 'transfers'::regclass`)).toEqual(
    [{ name: 'transfers_month_stats' }],
  );
  // Numbering continues after the carried rows; the table is still append-only.
  await db.query(`insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind,
      importer_authority, importer_country, categories, purpose, mechanism, policy_explanation, record_count,
      cross_border, third_country, recorded_by)
      select '2025-03-16T00:00:00Z', 'LEGAL_DISCLOSURE', id, 'DE', 'AUTHORITY', 'Court', 'US', '{contact.email}',
        'LEGAL_OBLIGATION', 'LEGAL_CLAIMS', 'Art. 49(1)(e)', 3, true, true, 'alice@example.com' from offices`);
  expect(await db.query(`select max(id)::int as id from transfers`)).toEqual([{ id: 5 }]);
  await expect(db.query(`delete from transfers where id = 1`)).rejects.toThrow(/append-only/);
  await expect(db.query(`truncate transfers_2025_01`)).rejects.toThrow(/append-only/);
}, 120_000); // every migration, twice, on a fresh database
