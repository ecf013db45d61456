// Revocation holds on every instance: two server processes on one PostgreSQL; a token revoked through one
// is refused by the other within a second. Needs a real PostgreSQL (DATABASE_URL); CI always sets it.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { onPostgres, startHarness, type Harness } from './harness.js';
import { contractorWithToken, createOffice, grant, issueToken, registerContractor, setStatus } from './fixtures.js';
import { freePort } from './private-postgres.js';

if (!onPostgres)
  console.warn('two-instances.test.ts skipped: two server processes need a shared PostgreSQL; set DATABASE_URL');

const secret = randomBytes(32).toString('base64url');
let h: Harness;
const servers: ChildProcess[] = [];
/** Two ports the system reports free (a port made up from the pid could be another test's). */
const ports: number[] = [];

async function startServer(port: number): Promise<void> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      DATABASE_URL: h.config.databaseUrl,
      KEY_ENCRYPTION_SECRET: secret,
      PORT: String(port),
      HOST: '127.0.0.1',
      NODE_ENV: 'production',
      DATA_DIR: h.config.dataDir,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  servers.push(child);
  // Starting tsx takes seconds, more on a busy machine; a server that exited will not come up.
  const startBy = Date.now() + 45_000;
  while (Date.now() < startBy && child.exitCode === null) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on ${port} did not start (exit code ${child.exitCode})`);
}

const viewer = (port: number, token: string) =>
  fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ viewer { kind } }' }),
  });

beforeAll(async () => {
  if (!onPostgres) return;
  h = await startHarness({ KEY_ENCRYPTION_SECRET: secret });
  while (ports.length < 2) {
    const port = await freePort();
    if (!ports.includes(port)) ports.push(port);
  }
  await Promise.all(ports.map(startServer));
}, 90_000);
afterAll(async () => {
  for (const s of servers) s.kill('SIGTERM');
  await Promise.all(servers.map((s) => new Promise((r) => (s.exitCode !== null ? r(null) : s.once('exit', r)))));
  await h?.stop();
});

test.skipIf(!onPostgres)('a token revoked through one instance is refused by the other within a second', async () => {
  const compliance = await h.staffToken('COMPLIANCE');
  const c = await contractorWithToken(h, compliance, { name: 'Two Instance Co' });
  for (const port of ports) expect((await viewer(port, c.token)).status).toBe(200);
  const revoke = await fetch(`http://127.0.0.1:${ports[0]}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${compliance}` },
    body: JSON.stringify({
      query: 'mutation($id: ID!) { revokeAccessToken(input: { id: $id, reason: "stolen" }) { __typename } }',
      variables: { id: c.accessTokenId },
    }),
  });
  expect(((await revoke.json()) as any).data.revokeAccessToken.__typename).toBe('RevokeAccessTokenPayload');
  const revokedAt = Date.now();
  let refusedAfter = -1;
  while (Date.now() - revokedAt < 1000) {
    if ((await viewer(ports[1]!, c.token)).status === 401) {
      refusedAfter = Date.now() - revokedAt;
      break;
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(refusedAfter, 'instance B still accepted the token a second after revocation').toBeGreaterThanOrEqual(0);
  expect((await viewer(ports[0]!, c.token)).status).toBe(401);
  console.log(`instance B refused the revoked token ${refusedAfter} ms after the revocation committed`);
});

test.skipIf(!onPostgres)('suspending a contractor through one instance stops its tokens on the other', async () => {
  const compliance = await h.staffToken('COMPLIANCE');
  const c = await contractorWithToken(h, compliance, { name: 'Suspend Two Co' });
  expect((await viewer(ports[1]!, c.token)).status).toBe(200);
  await fetch(`http://127.0.0.1:${ports[0]}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${compliance}` },
    body: JSON.stringify({
      query:
        'mutation($id: ID!) { setContractorStatus(input: { id: $id, status: SUSPENDED, reason: "breach" }) { __typename } }',
      variables: { id: c.contractor.id },
    }),
  });
  const start = Date.now();
  let status = 200;
  while (Date.now() - start < 1000 && status !== 401) status = (await viewer(ports[1]!, c.token)).status;
  expect(status).toBe(401);
});

test.skipIf(!onPostgres)(
  'a policy change effective in a moment takes effect on both instances, applied exactly once, with no job run by hand',
  async () => {
    const compliance = await h.staffToken('COMPLIANCE');
    const office = await createOffice(h, compliance, { name: 'Two-instance Berlin', country: 'DE', city: 'Berlin' });
    const c = await registerContractor(h, compliance, {
      legalName: 'Two Instance DPF Inc',
      country: 'US',
      certifications: ['EU_US_DPF'],
    });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    await grant(h, compliance, { contractorId: c.id, officeId: office.id });
    const { token } = await issueToken(h, compliance, {
      contractorId: c.id,
      categories: ['contact.email'],
      purposes: ['TECHNICAL_SUPPORT'],
    });
    for (const port of ports) expect((await viewer(port, token)).status).toBe(200);
    const effectiveAt = new Date(Date.now() + 1500);
    const applied = await fetch(`http://127.0.0.1:${ports[0]}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${compliance}` },
      body: JSON.stringify({
        query: `mutation($at: DateTime!) { applyPolicyChange(input: { reason: "DPF struck down", effectiveAt: $at,
          endAdequacy: { jurisdiction: "EU_EEA", country: "US" } }) { __typename ... on PolicyChangeApplied { change { appliedAt } } } }`,
        variables: { at: effectiveAt.toISOString() },
      }),
    });
    const body = (await applied.json()) as any;
    expect(body.data.applyPolicyChange).toEqual({ __typename: 'PolicyChangeApplied', change: { appliedAt: null } });
    // Before the instant both still accept it.
    expect((await viewer(ports[1]!, token)).status).toBe(200);
    const refused = new Set<number>();
    while (Date.now() < effectiveAt.getTime() + 3000 && refused.size < 2) {
      for (const port of ports) if ((await viewer(port, token)).status === 401) refused.add(port);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(Date.now()).toBeGreaterThanOrEqual(effectiveAt.getTime());
    expect([...refused].sort()).toEqual([...ports].sort());
    // Three schedulers (two servers and the harness) raced for it; one applied it.
    await new Promise((r) => setTimeout(r, 500));
    const events = await h.asOwner(
      `select count(*)::int as n from audit_events where action = 'policyChangeTookEffect'`,
    );
    expect(events).toEqual([{ n: 1 }]);
  },
);
