// Starts the real app on an isolated database: a fresh in-memory PGlite, or, with DATABASE_URL set,
// a fresh database on that PostgreSQL server (dropped afterwards), migrated by the owner role and used by
// the service's own role, as `npm run db:roles` sets them up. Every request goes through yoga.fetch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import type { Clock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { rowsOf } from '../src/db/rows.js';
import type { StaffRole } from '../src/db/enums.js';
import { setUpDatabaseRoles } from '../src/db/roles.js';
import { openServices, type Services } from '../src/services.js';

/** Real time shifted by an offset a test moves: `advance(86_400_000)` makes the app live tomorrow. */
export interface TestClock extends Clock {
  advance(ms: number): void;
  /** Back to real time. */
  reset(): void;
}

export function testClock(): TestClock {
  let offset = 0;
  return { now: () => new Date(Date.now() + offset), advance: (ms) => { offset += ms; }, reset: () => { offset = 0; } };
}

export interface Harness extends Services {
  clock: TestClock;
  app: ReturnType<typeof createApp>;
  /** Every SQL statement the app sent since the last reset. */
  statements: string[];
  staffToken(role: StaffRole, subject?: string): Promise<string>;
  gql(token: string | undefined, query: string, variables?: Record<string, unknown>): Promise<{ status: number; body: any; headers: Headers }>;
  /** Raw SQL as the role that owns the tables (PostgreSQL: the migration owner; PGlite: its one connection), for tampering. */
  asOwner(text: string): Promise<unknown[]>;
  stop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

/** The roles the tests run as on PostgreSQL (shared by all test files; they log in like DATABASE_URL's user). */
export const TEST_ROLES = { owner: 'registry_test_owner', service: 'registry_test_service' };

/** DATABASE_URL with another role and database. */
export function databaseUrlFor(role: string, database: string): string {
  const url = new URL(process.env.DATABASE_URL!);
  url.username = role;
  url.pathname = `/${database}`;
  return url.toString();
}

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-test-'));
  let urls: { DATABASE_URL: string; MIGRATION_DATABASE_URL: string } | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  let owner: postgres.Sql | undefined;
  if (process.env.DATABASE_URL) {
    // A database of its own per test file: isolated data, migrations journal and all.
    const name = `registry_t_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    urls = { DATABASE_URL: databaseUrlFor(TEST_ROLES.service, name), MIGRATION_DATABASE_URL: databaseUrlFor(TEST_ROLES.owner, name) };
    await setUpDatabaseRoles(process.env.DATABASE_URL, urls.MIGRATION_DATABASE_URL, urls.DATABASE_URL);
    owner = postgres(urls.MIGRATION_DATABASE_URL, { max: 1, onnotice: () => {} });
    dropDatabase = async () => { await owner!.end(); await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end(); };
  }
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ...urls, ...env });
  const clock = testClock();
  const services = await openServices(config, { memory: !urls, clock });
  const app = createApp(services);
  const statements: string[] = [];
  services.database.onQuery.add((q) => statements.push(q));
  return {
    ...services,
    clock,
    app,
    statements,
    staffToken: async (role, subject = `${role.toLowerCase()}@example.com`) =>
      (await issueStaffToken(services.keys, services.tokenSettings, role, subject, 3600)).token,
    async gql(token, query, variables) {
      const res = await app.fetch('http://registry.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
    async asOwner(text) {
      if (owner) return [...(await owner.unsafe(text))];
      return rowsOf(await services.database.db.execute(sql.raw(text)));
    },
    async stop() {
      await services.close();
      await dropDatabase?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
