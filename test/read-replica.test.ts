// DATABASE_READ_URL: a streaming replica this test starts itself (initdb, then pg_basebackup from it, each on a port
// of its own, never the machine's shared server). Auditors' queries and CSV exports read from the replica; mutations
// and everyone else's queries from the primary; a token that has just changed something reads from the primary for
// READ_YOUR_WRITES_MS. Which database answered is seen by pausing the replica's replay: a change made meanwhile is
// on the primary only.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { onlyRow } from '../src/db/rows.js';
import { openServices, type Services } from '../src/services.js';
import type { Harness } from './harness.js';
import { findPostgres, startPrivatePostgres, startStreamingReplica, type PrivatePostgres } from './private-postgres.js';
import { csv, parseCsv, recordOk, smallRegistry } from './transfer-fixtures.js';

const found = findPostgres();
const skip = 'skip' in found ? found.skip : undefined;
if (skip) console.warn(`read-replica.test.ts skipped: ${skip}`);

const WINDOW_MS = 1_500;
const DB = 'registry_replica';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const inDb = (url: string) => {
  const u = new URL(url);
  u.pathname = `/${DB}`;
  return u.toString();
};

let primary: PrivatePostgres;
let replica: PrivatePostgres;
let primarySql: postgres.Sql;
let replicaSql: postgres.Sql;
let services: Services;
let h: Harness;
let dataDir: string;

beforeAll(async () => {
  if (skip) return;
  const { bin } = found as { bin: string };
  primary = await startPrivatePostgres(bin);
  const admin = postgres(primary.url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${DB}`);
  await admin.end();
  replica = await startStreamingReplica(bin, primary);
  primarySql = postgres(inDb(primary.url), { max: 1, onnotice: () => {} });
  replicaSql = postgres(inDb(replica.url), { max: 1, onnotice: () => {} });
  dataDir = mkdtempSync(join(tmpdir(), 'registry-replica-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    DATABASE_URL: inDb(primary.url),
    DATABASE_READ_URL: inDb(replica.url),
    READ_YOUR_WRITES_MS: String(WINDOW_MS),
    KEY_ENCRYPTION_SECRET: randomBytes(32).toString('base64url'),
    RATE_LIMIT_PER_TOKEN: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    DB_CONNECT_TIMEOUT_SECONDS: '2',
  });
  services = await openServices(config);
  const app = createApp(services);
  // What the fixtures use of a harness: GraphQL and CSV through app.fetch.
  h = {
    app,
    async gql(token: string | undefined, query: string, variables?: Record<string, unknown>) {
      const res = await app.fetch('http://registry.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      return { status: res.status, body: await res.json(), headers: res.headers };
    },
  } as unknown as Harness;
}, 120_000);

afterAll(async () => {
  await services?.close();
  await primarySql?.end();
  await replicaSql?.end();
  await replica?.destroy();
  await primary?.destroy();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

const token = async (role: 'COMPLIANCE' | 'AUDITOR', subject: string) =>
  (await issueStaffToken(services.keys, services.tokenSettings, role, subject, 3600)).token;

/** Waits until the replica has replayed everything the primary has written so far. */
async function caughtUp() {
  const { lsn } = onlyRow(await primarySql<{ lsn: string }[]>`select pg_current_wal_lsn()::text as lsn`);
  for (let i = 0; i < 200; i++) {
    const { done } = onlyRow(
      await replicaSql<{ done: boolean }[]>`select pg_last_wal_replay_lsn() >= ${lsn}::pg_lsn as done`,
    );
    if (done) return;
    await sleep(50);
  }
  throw new Error(`the replica did not reach ${lsn} within 10 s`);
}

const TRANSFER_IDS = `{ transfers(first: 100) { edges { node { id } } } }`;

async function transferIds(t: string): Promise<string[]> {
  const r = await h.gql(t, TRANSFER_IDS);
  expect(r.body.errors, JSON.stringify(r.body.errors)).toBeUndefined();
  return r.body.data.transfers.edges.map((e: { node: { id: string } }) => e.node.id);
}

async function exportedIds(t: string): Promise<string[]> {
  const r = await csv(h, t, '/export/transfers.csv');
  expect(r.status, r.text).toBe(200);
  return parseCsv(r.text)
    .slice(1)
    .map((row) => row[0]!);
}

describe.skipIf(skip)('read replica (DATABASE_READ_URL)', () => {
  test('auditors and CSV exports read the replica; a token that just wrote reads the primary for a while', async () => {
    const compliance = await token('COMPLIANCE', 'writer@example.com');
    const otherCompliance = await token('COMPLIANCE', 'colleague@example.com');
    const auditor = await token('AUDITOR', 'auditor@example.com');
    const { office, fr } = await smallRegistry(h, compliance);
    const route = { officeId: office.id, contractorId: fr.id };
    const first = await recordOk(h, compliance, route);
    await caughtUp();
    expect(await transferIds(auditor)).toEqual([first.id]);

    // From here on the replica keeps what it has: whatever it answers without the second transfer came from it.
    await replicaSql`select pg_wal_replay_pause()`;
    try {
      const second = await recordOk(h, compliance, route);
      // Mutations and compliance queries run on the primary.
      expect(await transferIds(compliance)).toEqual([second.id, first.id]);
      // The auditor's query is read-only: the replica answers.
      expect(await transferIds(auditor)).toEqual([first.id]);
      // The writer's own export, just after its change, reads the primary; anyone else's export the replica.
      expect(await exportedIds(compliance)).toEqual([second.id, first.id]);
      expect(await exportedIds(otherCompliance)).toEqual([first.id]);
      expect(await exportedIds(auditor)).toEqual([first.id]);
      // Once the window has passed, the writer's exports go to the replica too.
      await sleep(WINDOW_MS + 200);
      expect(await exportedIds(compliance)).toEqual([first.id]);
      expect(await transferIds(compliance)).toEqual([second.id, first.id]);
    } finally {
      await replicaSql`select pg_wal_replay_resume()`;
    }
    await caughtUp();
    const all = await transferIds(auditor);
    expect(all).toHaveLength(2);
    expect(await exportedIds(otherCompliance)).toEqual(all);
  }, 60_000);

  test('a replica that is down fails the reads sent to it, and nothing else', async () => {
    const compliance = await token('COMPLIANCE', 'writer2@example.com');
    const auditor = await token('AUDITOR', 'auditor2@example.com');
    await replica.stop('fast');
    try {
      const down = await h.gql(auditor, TRANSFER_IDS);
      expect(down.status, JSON.stringify(down.body)).toBe(503);
      expect(down.body.errors?.[0]?.extensions?.code).toBe('DATABASE_UNAVAILABLE');
      const exported = await csv(h, auditor, '/export/transfers.csv');
      expect(exported.status).toBe(503);
      // The primary serves everyone else, and the writer's own reads within the window.
      expect(await transferIds(compliance)).toHaveLength(2);
      const { office, fr } = await smallRegistry(h, compliance, ' 2');
      await recordOk(h, compliance, { officeId: office.id, contractorId: fr.id });
      expect(await exportedIds(compliance)).toHaveLength(3);
    } finally {
      await replica.start();
    }
  }, 60_000);

  test('DATABASE_READ_URL needs DATABASE_URL', () => {
    expect(() => loadConfig({ DATABASE_READ_URL: 'postgres://postgres@127.0.0.1:1/x' })).toThrow(
      /DATABASE_READ_URL needs DATABASE_URL/,
    );
    expect(() => loadConfig({ DATABASE_URL: 'postgres://a@b/c', DATABASE_READ_URL: 'not a url' })).toThrow(
      /DATABASE_READ_URL/,
    );
  });
});
