// Least privilege on PostgreSQL: the service runs as a role that reads and writes rows and nothing more.
// Every PostgreSQL test runs the service on such a role (test/harness.ts); here the refusals themselves are
// proved on the service's own connection, and `npm run db:roles` / `npm run db:migrate` are run as a
// person would, on a database first migrated the old way (as a superuser). Needs DATABASE_URL (a superuser).
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/client.js';
import { rowsOf } from '../src/db/rows.js';
import { openServices } from '../src/services.js';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { databaseUrlFor, TEST_ROLES } from './migrated-database.js';
import { createOffice } from './fixtures.js';

if (!onPostgres) console.warn('database-roles.test.ts skipped: database roles need PostgreSQL; set DATABASE_URL');

const run = promisify(execFile);

/** The SQLSTATE and message PostgreSQL answers `text` with on the service's connection, or null if it ran. */
async function refusal(h: Harness, text: string): Promise<{ code: string; message: string } | null> {
  return h.database.db.execute(sql.raw(text)).then(
    () => null,
    (e: any) => {
      const err = e.cause ?? e;
      return { code: err.code, message: err.message };
    },
  );
}

describe.skipIf(!onPostgres)('the service role', () => {
  let h: Harness;
  let compliance: string;
  beforeAll(async () => {
    h = await startHarness();
    compliance = await h.staffToken('COMPLIANCE');
    await createOffice(h, compliance);
  });
  afterAll(async () => {
    await h?.stop();
  });

  test('is the service connection: a login role with no superuser, role, database, replication or RLS-bypass rights', async () => {
    const [me] = rowsOf<any>(
      await h.database.db
        .execute(sql`select current_user as name, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
      from pg_roles where rolname = current_user`),
    );
    expect(me).toEqual({
      name: TEST_ROLES.service,
      rolsuper: false,
      rolcreaterole: false,
      rolcreatedb: false,
      rolreplication: false,
      rolbypassrls: false,
    });
  });

  test.each([
    "update audit_events set actor = 'mallory'",
    'delete from audit_events',
    'update transfers set record_count = 0',
    'delete from transfers',
  ])('%s: permission denied, before any trigger runs', async (text) => {
    expect(await refusal(h, text)).toEqual({
      code: '42501',
      message: expect.stringMatching(/^permission denied for table (audit_events|transfers)$/),
    });
  });

  test.each([
    'offices_history',
    'contractors_history',
    'processing_locations_history',
    'grants_history',
    'obligations_history',
  ])(
    '%s: the service reads what the registry held and cannot write, rewrite, close or delete a version',
    async (table) => {
      const [row] = rowsOf<{ n: number }>(
        await h.database.db.execute(sql.raw(`select count(*)::int as n from ${table}`)),
      );
      expect(row!.n).toBeGreaterThanOrEqual(table === 'offices_history' ? 1 : 0);
      for (const text of [
        `insert into ${table} (id, held_from) values (1, now())`,
        `update ${table} set held_from = now()`,
        `update ${table} set held_until = now() where held_until is null`,
        `delete from ${table}`,
        `truncate ${table}`,
        `alter table ${table} disable trigger all`,
      ])
        expect(await refusal(h, text), text).toMatchObject({ code: '42501' });
    },
  );

  test("month partitions: the service may only ask for the coming months' partitions, for the two history tables", async () => {
    expect(await refusal(h, `select registry_ensure_partitions(now(), 0)`)).toBeNull();
    expect(await refusal(h, `select registry_month_partition('transfers'::regclass, '2031-01-01')`)).toEqual({
      code: '42501',
      message: 'permission denied for function registry_month_partition',
    });
    const [acl] = await h.asOwner(`select coalesce(array_to_string(proacl, ','), '') as acl from pg_proc
      where proname = 'registry_month_partition'`);
    // Not executable by PUBLIC (an ACL entry "=X/owner").
    expect((acl as { acl: string }).acl).not.toMatch(/(^|,)=X/);
    const other = await h.asOwner(`select registry_month_partition('offices'::regclass, '2031-01-01')`).then(
      () => null,
      (e: any) => ({ code: (e.cause ?? e).code, message: (e.cause ?? e).message }),
    );
    expect(other).toEqual({
      code: '22023',
      message: 'registry_month_partition: offices is not a partitioned history table',
    });
    const [made] = await h.asOwner(`select to_regclass('offices_2031_01') is null as absent`);
    expect(made).toEqual({ absent: true });
  });

  test("the owner cannot rewrite history either: a version's values stay, its period closes once, none is deleted", async () => {
    const refused = (text: string) =>
      h.asOwner(text).then(
        () => null,
        (e: any) => String((e.cause ?? e).message),
      );
    expect(await refused(`update offices_history set city = 'Elsewhere'`)).toMatch(
      /offices_history keeps what the registry held: UPDATE refused/,
    );
    expect(await refused(`delete from offices_history`)).toMatch(/DELETE refused/);
    expect(await refused(`truncate offices_history`)).toMatch(/append-only: TRUNCATE refused/);
    expect(await refused(`update offices_history set held_until = held_from - interval '1 day'`)).toMatch(
      /offices_history_period/,
    );
  });

  test('cannot switch the append-only triggers off: session_replication_role, ALTER TABLE … DISABLE TRIGGER', async () => {
    expect(await refusal(h, 'set session_replication_role = replica')).toEqual({
      code: '42501',
      message: 'permission denied to set parameter "session_replication_role"',
    });
    expect(await refusal(h, 'set local session_replication_role = replica')).toMatchObject({ code: '42501' });
    expect(await refusal(h, 'alter table audit_events disable trigger audit_events_append_only')).toEqual({
      code: '42501',
      message: 'must be owner of table audit_events',
    });
    expect(await refusal(h, 'alter table transfers disable trigger all')).toEqual({
      code: '42501',
      message: 'must be owner of table transfers',
    });
  });

  test('no TRUNCATE, no DDL', async () => {
    for (const table of ['offices', 'audit_events', 'transfers', 'signing_keys']) {
      expect(await refusal(h, `truncate ${table}`)).toEqual({
        code: '42501',
        message: `permission denied for table ${table}`,
      });
    }
    expect(await refusal(h, 'create table stash (x int)')).toMatchObject({
      code: '42501',
      message: expect.stringMatching(/permission denied for schema public/),
    });
    expect(await refusal(h, 'drop table offices')).toEqual({
      code: '42501',
      message: 'must be owner of table offices',
    });
    expect(await refusal(h, 'alter table offices add column note text')).toEqual({
      code: '42501',
      message: 'must be owner of table offices',
    });
    expect(await refusal(h, 'create schema stash')).toMatchObject({ code: '42501' });
    expect(await refusal(h, "insert into drizzle.__drizzle_migrations (hash) values ('x')")).toMatchObject({
      code: '42501',
    });
  });

  test('history is still written and read: the office created above has its audit event', async () => {
    const [row] = rowsOf<{ n: number }>(
      await h.database.db.execute(sql`select count(*)::int as n from audit_events where action = 'createOffice'`),
    );
    expect(row!.n).toBe(1);
  });
});

describe.skipIf(!onPostgres)('npm run db:roles and db:migrate', () => {
  const tag = `${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  const database = `registry_roles_${tag}`;
  const owner = `registry_r${tag}_owner`;
  const service = `registry_r${tag}_service`;
  const env = { DATABASE_URL: '', MIGRATION_DATABASE_URL: '' };
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-roles-'));
  let admin: postgres.Sql;
  const cli = (script: string, args: string[] = [], extra: Record<string, string> = {}) =>
    run(process.execPath, ['--import', 'tsx', `src/cli/${script}.ts`, ...args], {
      env: { ...process.env, ...env, DATA_DIR: dataDir, ...extra },
    }).then(
      ({ stdout }) => ({ code: 0, out: stdout }),
      (e: any) => ({ code: e.code as number, out: `${e.stdout}${e.stderr}` }),
    );

  beforeAll(async () => {
    if (!onPostgres) return;
    env.DATABASE_URL = databaseUrlFor(service, database);
    env.MIGRATION_DATABASE_URL = databaseUrlFor(owner, database);
    admin = postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
    // The old way: migrated by the superuser, which then owns every table.
    await admin.unsafe(`create database ${database}`);
    const url = new URL(process.env.DATABASE_URL!);
    url.pathname = `/${database}`;
    const old = await openDatabase({ databaseUrl: url.toString(), max: 1 });
    try {
      await old.migrate();
    } finally {
      await old.close();
    }
  }, 60_000);
  afterAll(async () => {
    if (!admin) return;
    await admin.unsafe(`drop database if exists ${database} with (force)`);
    await admin.unsafe(`drop role if exists ${service}`);
    await admin.unsafe(`drop role if exists ${owner}`);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('refuses to make the administrator the service role, and changes nothing', async () => {
    const r = await cli('db-roles', ['--admin', process.env.DATABASE_URL!], {
      DATABASE_URL: databaseUrlFor(new URL(process.env.DATABASE_URL!).username, database),
    });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/cannot be the owner or the service's role/);
    expect(await admin`select 1 from pg_roles where rolname in (${owner}, ${service})`).toHaveLength(0);
    expect((await cli('db-roles')).out).toMatch(/--admin, DATABASE_URL and MIGRATION_DATABASE_URL are all required/);
  });

  test('hands the database to the owner, grants the service role its rows; the service then starts and works on that role alone', async () => {
    const roles = await cli('db-roles', ['--admin', process.env.DATABASE_URL!]);
    expect(roles, roles.out).toMatchObject({ code: 0 });
    expect(roles.out).toContain(`database ${database}: ${owner} owns it`);
    // Repeating it is harmless.
    expect((await cli('db-roles', ['--admin', process.env.DATABASE_URL!])).code).toBe(0);
    const migrated = await cli('migrate');
    expect(migrated, migrated.out).toMatchObject({ code: 0 });
    expect(migrated.out).toMatch(/as the owner in MIGRATION_DATABASE_URL/);

    const asOwner = postgres(env.MIGRATION_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const foreign =
        await asOwner`select tablename from pg_tables where schemaname in ('public', 'drizzle') and tableowner <> ${owner}`;
      expect(foreign).toEqual([]);
      const [db] = await asOwner<
        { owner: string }[]
      >`select pg_get_userbyid(datdba) as owner from pg_database where datname = current_database()`;
      expect(db!.owner).toBe(owner);
      // Exactly SELECT and INSERT on the history; only SELECT on what the registry held (its triggers write it);
      // the four row privileges elsewhere; nothing else anywhere.
      const grants = await asOwner<{ table: string; privileges: string }[]>`
        select table_name as table, string_agg(privilege_type, ',' order by privilege_type) as privileges
        from information_schema.role_table_grants where grantee = ${service} and table_schema = 'public' group by table_name`;
      const byTable = Object.fromEntries(grants.map((g) => [g.table, g.privileges]));
      expect(byTable.audit_events).toBe('INSERT,SELECT');
      expect(byTable.transfers).toBe('INSERT,SELECT');
      expect(byTable.offices).toBe('DELETE,INSERT,SELECT,UPDATE');
      for (const table of Object.keys(byTable).filter((t) => t.endsWith('_history')))
        expect(byTable[table], table).toBe('SELECT');
      expect(byTable.grants_history).toBe('SELECT');
      expect(new Set(Object.values(byTable))).toEqual(
        new Set(['SELECT', 'INSERT,SELECT', 'DELETE,INSERT,SELECT,UPDATE']),
      );
    } finally {
      await asOwner.end();
    }

    // The service with DATABASE_URL only (no owner credentials): nothing pending, so it starts and writes.
    const services = await openServices(
      loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: env.DATABASE_URL }),
    );
    try {
      const [me] = rowsOf<{ name: string }>(await services.database.db.execute(sql`select current_user as name`));
      expect(me!.name).toBe(service);
      const refused = await services.database.db.execute(sql`update audit_events set actor = 'x'`).then(
        () => null,
        (e: any) => (e.cause ?? e).code,
      );
      expect(refused).toBe('42501');
    } finally {
      await services.close();
    }
  });

  test('with a migration pending, the service role alone refuses to start and says what to run', async () => {
    const asOwner = postgres(env.MIGRATION_DATABASE_URL, { max: 1, onnotice: () => {} });
    try {
      const [last] = await asOwner<
        { name: string }[]
      >`delete from drizzle.__drizzle_migrations where id = (select max(id) from drizzle.__drizzle_migrations) returning name`;
      const error = await openServices(
        loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, DATABASE_URL: env.DATABASE_URL }),
      ).then(
        async (s) => {
          await s.close();
          return null;
        },
        (e: Error) => e.message,
      );
      expect(error).toBe(
        `1 migration(s) pending (${last!.name}) and the role in DATABASE_URL may not apply them: ` +
          'run npm run db:migrate with MIGRATION_DATABASE_URL set to the owner role, or set it for the service',
      );
    } finally {
      await asOwner.end();
    }
  });
});
