// Signing keys live in the database on both PostgreSQL and the embedded database: a rotation commits the new key
// together with its audit event, or neither. On the embedded database the server keeps a copy of the key set in
// DATA_DIR for the token CLI, and takes over a key file made before the database held the keys.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { issueStaffToken } from '../src/auth/tokens.js';
import { rowsOf } from '../src/db/rows.js';
import { loadConfig } from '../src/config.js';
import { openKeyRing, tokenSettings } from '../src/services.js';
import { onPostgres, startHarness, type Harness } from './harness.js';

let h: Harness;
let compliance: string;
const ROTATE =
  'mutation { rotateSigningKey(input: { reason: "scheduled" }) { __typename ... on RotateSigningKeyPayload { kid publishedKids removedKids } } }';

const storedKeys = async () =>
  rowsOf<{ kid: string; retired: boolean }>(
    await h.database.db.execute(
      sql`select kid, retired_at is not null as retired from signing_keys order by created_at`,
    ),
  );
const rotationEvents = async () =>
  rowsOf<{ entity_id: string }>(
    await h.database.db.execute(sql`select entity_id from audit_events where action = 'rotateSigningKey' order by seq`),
  ).map((r) => r.entity_id);

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
});
afterAll(async () => {
  await h?.stop();
});

describe('rotateSigningKey', () => {
  test('the new key and its audit event commit together: when the event cannot be written, no key changes', async () => {
    const before = await storedKeys();
    const signingBefore = h.keys.signingKey.kid;
    // Schema changes: the tables' owner may make them, the service's role may not.
    await h.asOwner(`create function refuse_audit() returns trigger language plpgsql as $$
      begin raise exception 'audit log unavailable'; end $$`);
    await h.asOwner(
      'create trigger refuse_audit before insert on audit_events for each row execute function refuse_audit()',
    );
    try {
      const r = await h.gql(compliance, ROTATE);
      expect(r.body.errors?.[0]?.message).toBe('Unexpected error.');
    } finally {
      await h.asOwner('drop trigger refuse_audit on audit_events');
      await h.asOwner('drop function refuse_audit()');
    }
    expect(await storedKeys()).toEqual(before);
    expect(await rotationEvents()).toEqual([]);
    expect(h.keys.signingKey.kid).toBe(signingBefore);
    expect(h.keys.jwks().keys.map((k) => k.kid)).toEqual(before.map((k) => k.kid));
  });

  test('a rotation stores the key, retires the old one, writes its event, and this instance signs with it at once', async () => {
    const old = h.keys.signingKey.kid;
    const r = (await h.gql(compliance, ROTATE)).body.data.rotateSigningKey;
    expect(r).toMatchObject({ __typename: 'RotateSigningKeyPayload', publishedKids: [old, r.kid], removedKids: [] });
    expect(await storedKeys()).toEqual([
      { kid: old, retired: true },
      { kid: r.kid, retired: false },
    ]);
    expect(await rotationEvents()).toEqual([r.kid]);
    expect(h.keys.signingKey.kid).toBe(r.kid);
    const token = await h.staffToken('AUDITOR');
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe(r.kid);
    expect((await h.gql(token, '{ viewer { kind } }')).status).toBe(200);
  });
});

// On PostgreSQL these are skipped (reported as skipped): there the CLI reads the keys from the database.
describe.skipIf(onPostgres)('the embedded database', () => {
  test('the key file the token CLI reads follows every rotation, and its tokens are accepted', async () => {
    const r = (await h.gql(compliance, ROTATE)).body.data.rotateSigningKey;
    const file = JSON.parse(readFileSync(join(h.config.dataDir, 'signing-keys.json'), 'utf8')) as {
      kid: string;
      retiredAt: string | null;
    }[];
    expect(file.filter((k) => !k.retiredAt).map((k) => k.kid)).toEqual([r.kid]);
    expect(file.map((k) => k.kid)).toEqual((await storedKeys()).map((k) => k.kid));
    // What `npm run token` does on the embedded database: no database handle, the file only.
    const cliKeys = await openKeyRing(h.config, undefined);
    expect(cliKeys.signingKey.kid).toBe(r.kid);
    const { token } = await issueStaffToken(cliKeys, h.tokenSettings, 'AUDITOR', 'cli@example.com', 600);
    expect((await h.gql(token, '{ viewer { kind } }')).status).toBe(200);
  });

  test('a key file made before the database held the keys is taken over at start: its tokens stay valid', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'registry-keys-'));
    let second: Harness | undefined;
    try {
      const config = loadConfig({ NODE_ENV: 'test', DATA_DIR: dir });
      const earlier = await openKeyRing(config, undefined);
      const { token } = await issueStaffToken(earlier, tokenSettings(config), 'AUDITOR', 'early@example.com', 600);
      second = await startHarness({ DATA_DIR: dir });
      expect(second.keys.signingKey.kid).toBe(earlier.signingKey.kid);
      expect((await second.gql(token, '{ viewer { kind } }')).status).toBe(200);
      const kids = rowsOf<{ kid: string }>(await second.database.db.execute(sql`select kid from signing_keys`)).map(
        (k) => k.kid,
      );
      expect(kids).toEqual([earlier.signingKey.kid]);
    } finally {
      await second?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
