// Starts the real app on an isolated database: an in-memory PGlite, or, with DATABASE_URL set, a database of
// its own on that PostgreSQL server (dropped afterwards), owned by the owner role and used by the service's
// own role, as `npm run db:roles` sets them up. Either is a copy of the database the run migrated once
// (migrated-database.ts). Every request goes through yoga.fetch.
import { Writable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { inject } from 'vitest';
import { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import type { Clock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import { rowsOf } from '../src/db/rows.js';
import type { StaffRole } from '../src/db/enums.js';
import { setUpDatabaseRoles } from '../src/db/roles.js';
import { openServices, type Services } from '../src/services.js';
import { roleUrls, serverAdmin, type RoleUrls } from './migrated-database.js';
import { createLogger, type Logger } from '../src/observability/logger.js';

/** Real time shifted by an offset a test moves: `advance(86_400_000)` makes the app live tomorrow. */
interface TestClock extends Clock {
  advance(ms: number): void;
  /** Back to real time. */
  reset(): void;
}

function testClock(): TestClock {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
    reset: () => {
      offset = 0;
    },
  };
}

export interface Harness extends Services {
  clock: TestClock;
  app: ReturnType<typeof createApp>;
  /** Every SQL statement the app sent since the last reset. */
  statements: string[];
  staffToken(role: StaffRole, subject?: string): Promise<string>;
  gql(
    token: string | undefined,
    query: string,
    variables?: Record<string, unknown>,
  ): Promise<{ status: number; body: any; headers: Headers }>;
  /** Raw SQL as the role that owns the tables (PostgreSQL: the migration owner; PGlite: its one connection), for tampering. */
  asOwner(text: string): Promise<unknown[]>;
  stop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

/** The migrated PGlite data directory, read from disk once per worker process. */
let snapshot: Blob | undefined;

function pgliteSnapshot(): Blob {
  const path = inject('pgliteSnapshot');
  if (!path)
    throw new Error('No migrated PGlite snapshot: run the tests through vitest.config.ts (its globalSetup makes one)');
  snapshot ??= new Blob([readFileSync(path)]);
  return snapshot;
}

/**
 * A database of its own, copied from the run's migrated template (isolated data, migrations journal and all),
 * then handed to the owner role with the service role's rights, as `npm run db:roles` leaves a database.
 */
async function copyTemplateDatabase(): Promise<{ urls: RoleUrls; drop(): Promise<void> }> {
  const template = inject('templateDatabase');
  if (!template)
    throw new Error(
      'No migrated template database: run the tests through vitest.config.ts (its globalSetup makes one)',
    );
  const name = `registry_t_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = serverAdmin();
  const drop = async () => {
    try {
      await admin.unsafe(`drop database if exists ${name} with (force)`);
    } finally {
      await admin.end();
    }
  };
  const urls = roleUrls(name);
  try {
    await admin.unsafe(`create database ${name} template ${template}`);
    await setUpDatabaseRoles(process.env.DATABASE_URL!, urls.MIGRATION_DATABASE_URL, urls.DATABASE_URL);
  } catch (e) {
    await drop().catch(() => {
      /* the error that matters is e */
    });
    throw e;
  }
  return { urls, drop };
}

export async function startHarness(env: Record<string, string> = {}, opts: { logger?: Logger } = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-test-'));
  const copy = onPostgres ? await copyTemplateDatabase() : undefined;
  const owner = copy && postgres(copy.urls.MIGRATION_DATABASE_URL, { max: 1, onnotice: () => {} });
  // The audit sealer runs when a test asks (h.sealer.sealNow()), so statement counts see no background work.
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    AUDIT_SEAL_INTERVAL_MS: '0',
    ...copy?.urls,
    ...env,
  });
  const clock = testClock();
  // Already migrated: a copy of the run's migrated database. Everything after migrate() is the production start.
  const services = await openServices(
    config,
    copy
      ? { migrate: false, clock, logger: opts.logger }
      : { memory: true, migrate: false, loadDataDir: pgliteSnapshot(), clock, logger: opts.logger },
  );
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
      await owner?.end();
      await copy?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A logger whose JSON lines land in `lines`: for tests that read what the service logs. */
export function capturingLogger(level: string): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger(level, sink), lines };
}
