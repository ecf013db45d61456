// Migrations run once per test run, not once per test file. This vitest globalSetup migrates one database
// with the app's own migrate() (as `npm run db:migrate` does), and every harness starts from a copy of it:
// PGlite from a dump of its data directory (made by pglite-snapshot.ts), PostgreSQL with
// `create database … template`. A copy holds what migrations put there (seeded regimes, the migrations
// journal, the service role's rights) and nothing else: signing keys are made by each app at start, as in
// production.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/client.js';
import { setUpDatabaseRoles } from '../src/db/roles.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** PGlite: path of a tarball of a migrated data directory (null on PostgreSQL). */
    pgliteSnapshot: string | null;
    /** PostgreSQL: name of a migrated database on DATABASE_URL's server to copy (null on PGlite). */
    templateDatabase: string | null;
  }
}

/** The roles the tests run as on PostgreSQL (shared by all test files; they log in like DATABASE_URL's user). */
export const TEST_ROLES = { owner: 'registry_test_owner', service: 'registry_test_service' };

/** DATABASE_URL with another role and database. */
export function databaseUrlFor(role: string, database: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.username = role;
  url.pathname = `/${database}`;
  return url.toString();
}

export interface RoleUrls {
  DATABASE_URL: string;
  MIGRATION_DATABASE_URL: string;
}

/** The service's and the owner's URLs for database `name`, as the app's configuration takes them. */
export function roleUrls(name: string): RoleUrls {
  return {
    DATABASE_URL: databaseUrlFor(TEST_ROLES.service, name),
    MIGRATION_DATABASE_URL: databaseUrlFor(TEST_ROLES.owner, name),
  };
}

/** A connection as DATABASE_URL's user (a superuser), for creating and dropping databases. */
export function serverAdmin(): postgres.Sql {
  return postgres(process.env.DATABASE_URL!, { max: 1, onnotice: () => {} });
}

const run = promisify(execFile);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.DATABASE_URL) {
    // Unique per run: several runs may share one server.
    const name = `registry_template_${process.pid}_${Date.now()}`;
    const urls = roleUrls(name);
    // Made and migrated as in production: db:roles creates it for the owner, migrate() applies the migrations
    // as the owner and grants the service role its rights. Its connections close before any copy:
    // PostgreSQL refuses to copy a database someone is connected to.
    await setUpDatabaseRoles(process.env.DATABASE_URL, urls.MIGRATION_DATABASE_URL, urls.DATABASE_URL);
    const database = await openDatabase({
      databaseUrl: urls.DATABASE_URL,
      migrationUrl: urls.MIGRATION_DATABASE_URL,
      max: 1,
    });
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
    project.provide('templateDatabase', name);
    project.provide('pgliteSnapshot', null);
    return async () => {
      const admin = serverAdmin();
      try {
        await admin.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await admin.end();
      }
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'registry-snapshot-'));
  const path = join(dir, 'pgdata.tar');
  const remove = async () => {
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./pglite-snapshot.ts', import.meta.url)), path],
      { cwd: fileURLToPath(new URL('..', import.meta.url)) },
    );
  } catch (e) {
    await remove();
    throw e;
  }
  project.provide('pgliteSnapshot', path);
  project.provide('templateDatabase', null);
  return remove;
}
