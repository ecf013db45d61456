// Starts the real app on an isolated database: a fresh in-memory PGlite, or, with DATABASE_URL set,
// a fresh database on that PostgreSQL server (dropped afterwards). Every request goes through yoga.fetch.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import type { Clock } from '../src/clock.js';
import { loadConfig } from '../src/config.js';
import type { StaffRole } from '../src/db/enums.js';
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
  stop(): Promise<void>;
}

export const onPostgres = Boolean(process.env.DATABASE_URL);

export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-test-'));
  let databaseUrl: string | undefined;
  let dropDatabase: (() => Promise<void>) | undefined;
  if (process.env.DATABASE_URL) {
    // A database of its own per test file: isolated data, migrations journal and all.
    const name = `registry_t_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
    const admin = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    const url = new URL(process.env.DATABASE_URL);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => { await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end(); };
  }
  const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...env });
  const clock = testClock();
  const services = await openServices(config, { memory: !databaseUrl, clock });
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
    async stop() {
      await services.close();
      await dropDatabase?.();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
