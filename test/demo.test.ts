// The demo data loads cleanly through the registry's functions: every grant passes the transfer policy. Loading it from the
// command line never loses it: the embedded database is held by one process at a time.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadDemoData } from '../src/cli/demo-data.js';
import { LOCK_FILE } from '../src/db/data-dir-lock.js';
import { hasOffices } from '../src/registry/offices.js';
import { registryDeps } from '../src/services.js';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { npm, npmEnv, npmStart, run, type Server } from './npm-process.js';

if (onPostgres)
  console.warn('demo.test.ts: the embedded-database processes are tested in the run without DATABASE_URL');

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

test('demo registry loads and reads back', async () => {
  expect(await hasOffices(h.database.db)).toBe(false);
  await loadDemoData(registryDeps(h));
  expect(await hasOffices(h.database.db)).toBe(true);
  const r = await h.gql(
    await h.staffToken('AUDITOR'),
    '{ contractors(first: 50) { nodes { id legalName country status grants(first: 10) { nodes { mechanism office { country } } } } } }',
  );
  const byName = Object.fromEntries(r.body.data.contractors.nodes.map((c: { legalName: string }) => [c.legalName, c]));
  expect(Object.keys(byName)).toHaveLength(6);
  expect(byName['Helpdesk Services Pvt Ltd'].grants.nodes[0].mechanism).toBe('SCC');
  expect(byName['OrderFlow Inc.'].grants.nodes[0].mechanism).toBe('ADEQUACY');
  expect(byName['ParcelPoint Logistics B.V.'].grants.nodes[0].mechanism).toBe('NOT_REQUIRED');
  expect(byName['Mailsend Pty Ltd'].status).toBe('ONBOARDING');
  // Audited as any change: every event of the load names the demo loader, a compliance officer.
  const log = await h.gql(
    await h.staffToken('AUDITOR'),
    '{ auditLog(first: 100) { nodes { actor actorRole action } } }',
  );
  const events = log.body.data.auditLog.nodes as { actor: string; actorRole: string; action: string }[];
  expect(events.length).toBeGreaterThan(40);
  // Audited as any change: the load's events name the demo loader, a compliance officer, and the contractor's own
  // reads and acknowledgements name that contractor.
  const parcelId = byName['ParcelPoint Logistics B.V.'].id;
  expect(new Set(events.map((e) => `${e.actor} ${e.actorRole}`))).toEqual(
    new Set(['demo-loader COMPLIANCE', `${parcelId} CONTRACTOR`]),
  );
  expect(events.map((e) => e.action)).toContain('addObligation');
}, 240_000);

test('the demo is alive: a year of transfers, disclosure requests in every state, reads of shared records', async () => {
  const auditor = await h.staffToken('AUDITOR');
  const now = h.clock.now();
  const yearAgo = new Date(now.getTime() - 366 * 86_400_000).toISOString();
  const r = await h.gql(
    auditor,
    `query($from: DateTime!, $to: DateTime!) {
      monthlyTransferVolume(from: $from, to: $to) { month transfers }
      transferFlows(from: $from, to: $to) { exporterCountry importerCountry mechanism thirdCountry }
      disclosureRequests(first: 20) { nodes { status overdue } }
      transfers(first: 1, kind: CONTRACTOR_ACCESS) { nodes { importerContractor { legalName } } }
    }`,
    { from: yearAgo, to: now.toISOString() },
  );
  expect(r.body.errors).toBeUndefined();
  const d = r.body.data;
  // Every one of the last twelve months has transfers.
  expect(d.monthlyTransferVolume.length).toBeGreaterThanOrEqual(12);
  expect(d.monthlyTransferVolume.every((m: { transfers: number }) => m.transfers > 0)).toBe(true);
  const flows = d.transferFlows.map(
    (f: Record<string, unknown>) => `${f.exporterCountry}>${f.importerCountry} ${f.mechanism} ${f.thirdCountry}`,
  );
  expect(flows).toEqual(
    expect.arrayContaining([
      'IE>IN SCC true',
      // The onward hop from the Indian processor to its Japanese sub-processor is judged under the office's EU
      // regime, where Japan is adequate.
      'IN>JP ADEQUACY true',
      'IE>NL NOT_REQUIRED false',
      'DE>US ADEQUACY true',
    ]),
  );
  const statuses = new Set(d.disclosureRequests.nodes.map((n: { status: string }) => n.status));
  expect(statuses).toEqual(
    new Set(['RECEIVED', 'UNDER_REVIEW', 'DISCLOSED', 'PARTIALLY_DISCLOSED', 'REJECTED', 'WITHDRAWN']),
  );
  expect(d.disclosureRequests.nodes.some((n: { overdue: boolean }) => n.overdue)).toBe(true);
  expect(d.transfers.nodes[0].importerContractor.legalName).toBe('ParcelPoint Logistics B.V.');
  // An unacknowledged obligation waits for the contractor.
  const o = await h.gql(
    auditor,
    '{ obligations(first: 50, unacknowledgedOnly: true) { nodes { contractor { legalName } kind } } }',
  );
  expect(o.body.data.obligations.nodes).toContainEqual({
    contractor: { legalName: 'ParcelPoint Logistics B.V.' },
    kind: 'AUDIT_COOPERATION',
  });
  // A policy finding waits: the US adequacy suspended, OrderFlow's grant is to be re-papered with the SCCs.
  const f = await h.gql(
    auditor,
    '{ policyFindings(first: 10) { nodes { status contractor { legalName } policySuspensionReason suspendedByChange { kind } } } }',
  );
  expect(f.body.data.policyFindings.nodes).toEqual([
    {
      status: 'SUSPENDED_BY_POLICY',
      contractor: { legalName: 'OrderFlow Inc.' },
      policySuspensionReason: expect.stringMatching(/valid here: SCC module 2/),
      suspendedByChange: { kind: 'suspendAdequacy' },
    },
  ]);
});

// The embedded database belongs to one process: the server, or `npm run demo`, or `npm run db:migrate`.
// A second one stops with a message naming the holder; the token command works beside the server.
describe.skipIf(onPostgres)('the embedded database, as npm start and npm run demo use it', { timeout: 480_000 }, () => {
  let dataDir: string;
  let server: Server | undefined;
  beforeAll(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'registry-demo-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const offices = async (base: string, token: string) => {
    const r = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ offices(first: 20) { nodes { name } } }' }),
    });
    return ((await r.json()) as { data: { offices: { nodes: unknown[] } } }).data.offices.nodes.length;
  };
  const mintToken = async () => {
    const t = await npm(
      ['run', '--silent', 'token', '--', '--role', 'auditor', '--subject', 'bob@example.com'],
      npmEnv(dataDir),
    );
    expect(t.code, t.stderr).toBe(0);
    return t.stdout.trim();
  };

  test('while the server runs, npm run demo and a second server stop with a message; the token command works', async () => {
    server = await npmStart(dataDir);
    const demo = await npm(['run', 'demo'], npmEnv(dataDir));
    expect(demo.code).not.toBe(0);
    expect(demo.stdout).not.toMatch(/Demo registry loaded/);
    expect(demo.stderr).toMatch(
      new RegExp(`The embedded database in ${dataDir} is in use by process \\d+ \\(.*server\\.ts.*\\)`),
    );
    expect(demo.stderr).toMatch(/stop that one first/);
    expect(demo.stderr).not.toMatch(/at .*\.ts:\d+/); // the message, not a stack trace

    const second = await npmStart(dataDir);
    expect(await second.exited).not.toBe(0);
    expect(second.output().stderr).toMatch(/is in use by process \d+/);

    // The first server is untouched and answers a token minted beside it.
    expect(await offices(server.base, await mintToken())).toBe(0);
    await server.stop();
    expect(server.output().stdout).toMatch(/"msg":"stopped"/); // a graceful shutdown, which releases the lock
    server = undefined;
    expect(existsSync(join(dataDir, LOCK_FILE))).toBe(false);
  });

  test('with the server stopped npm run demo loads; npm start -- --demo then says the registry has data, and the data is there', async () => {
    const demo = await run('npm', ['run', 'demo'], { env: npmEnv(dataDir), timeoutMs: 240_000 });
    expect(demo.code, demo.stderr).toBe(0);
    expect(demo.stdout).toMatch(/Demo registry loaded/);
    server = await npmStart(dataDir, ['--demo']);
    expect(server.output().stdout).toMatch(
      /The registry already has data; demo not loaded\. To start afresh: stop the server, delete .*, then npm start -- --demo\./,
    );
    expect(await offices(server.base, await mintToken())).toBe(7);
  });

  test("a lock left by a process that is gone, or by a pid now someone else's, is taken over", async () => {
    await server?.stop();
    server = undefined;
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    const lock = join(dataDir, LOCK_FILE);
    for (const holder of [{ pid: gone }, { pid: process.pid, startTime: '1' }]) {
      writeFileSync(lock, JSON.stringify({ ...holder, command: 'server.ts', since: '2026-01-01T00:00:00Z' }));
      const demo = await run('npm', ['run', 'demo'], { env: npmEnv(dataDir), timeoutMs: 240_000 });
      expect(demo.code, demo.stderr).toBe(0);
      expect(demo.stdout).toMatch(/already has data/);
      expect(existsSync(lock)).toBe(false);
    }
  });
});
