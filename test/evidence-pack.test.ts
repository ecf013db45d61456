// The evidence pack: a ZIP a real unzip opens, whose manifest lists every file with its SHA-256 and is signed
// (detached Ed25519 JWS) by a key /.well-known/jwks.json publishes; the period's CSVs from the exports; typed
// 400s for a bad period, staff only.
import { execFile, execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { base64url, CompactSign, compactVerify, createLocalJWKSet, exportJWK, generateKeyPair } from 'jose';
import { checkpointSigner, type Checkpoint } from '../src/audit/checkpoint.js';
import { readZip } from '../src/audit/unzip.js';
import { zipStream } from '../src/http/zip.js';
import { leafHash as leafHashOf } from '../src/audit/merkle.js';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { formatPackReport, verifyPack } from '../src/audit/pack.js';
import { periodEntries, type PeriodCursor } from '../src/audit/tree.js';
import { startHarness, type Harness } from './harness.js';
import { contractorWithToken } from './fixtures.js';
import { parseCsv, recordOk, smallRegistry } from './transfer-fixtures.js';

let h: Harness;
let compliance: string;
let auditor: string;
let dir: string;
const FROM = '2025-01-01T00:00:00Z';
const TO = '2025-07-01T00:00:00Z';

const get = (path: string, token?: string) =>
  h.app.fetch(`http://registry.test${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** Downloads the pack and unpacks it with Debian's unzip (after `unzip -t` tests every entry's CRC). */
async function unpack(query: string): Promise<{ zip: string; out: string; files: Record<string, Buffer> }> {
  const res = await get(`/export/evidence-pack.zip?${query}`, auditor);
  expect(res.status, await res.clone().text()).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/zip');
  const zip = join(dir, `pack-${Math.random().toString(36).slice(2)}.zip`);
  writeFileSync(zip, Buffer.from(await res.arrayBuffer()));
  expect(execFileSync('unzip', ['-t', zip]).toString()).toMatch(/No errors detected/);
  const out = mkdtempSync(join(dir, 'out-'));
  execFileSync('unzip', ['-q', zip, '-d', out]);
  const files = Object.fromEntries(readdirSync(out).map((n) => [n, readFileSync(join(out, n))]));
  return { zip, out, files };
}

async function verifySignature(manifest: Buffer, jws: string) {
  const [head, , signature] = jws.trim().split('.');
  const jwks = createLocalJWKSet(await (await get('/.well-known/jwks.json')).json());
  return compactVerify(`${head}.${base64url.encode(manifest)}.${signature}`, jwks);
}

beforeAll(async () => {
  h = await startHarness();
  compliance = await h.staffToken('COMPLIANCE');
  auditor = await h.staffToken('AUDITOR');
  dir = mkdtempSync(join(tmpdir(), 'evidence-pack-'));
  const reg = await smallRegistry(h, compliance);
  await recordOk(h, compliance, {
    officeId: reg.office.id,
    contractorId: reg.india.id,
    recordCount: 7,
    occurredAt: '2025-03-01T10:00:00Z',
  });
  await recordOk(h, compliance, {
    officeId: reg.office.id,
    contractorId: reg.fr.id,
    recordCount: 3,
    occurredAt: '2025-09-01T10:00:00Z',
  });
});
afterAll(async () => {
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the pack', () => {
  test('opens with unzip and python zipfile; the manifest lists every file with its SHA-256; the signature verifies', async () => {
    await h.sealer.sealNow();
    const { zip, files } = await unpack(`from=${FROM}&to=${TO}`);
    const manifest = JSON.parse(files['manifest.json']!.toString());
    const listed = manifest.files.map((f: { name: string }) => f.name).sort();
    expect(listed).toEqual(
      [
        'checkpoint-keys.json',
        'checkpoint.json',
        'inclusion-proofs.jsonl',
        'policy.json',
        'records-of-processing.csv',
        'transfers.csv',
        'transparency-report.csv',
        'verification.json',
      ].sort(),
    );
    expect(Object.keys(files).sort()).toEqual([...listed, 'manifest.json', 'manifest.json.jws'].sort());
    for (const f of manifest.files) {
      expect(createHash('sha256').update(files[f.name]!).digest('hex'), f.name).toBe(f.sha256);
      expect(files[f.name]!.length).toBe(f.bytes);
    }
    expect(manifest).toMatchObject({
      period: { from: '2025-01-01T00:00:00.000Z', to: '2025-07-01T00:00:00.000Z' },
      auditLog: { ok: true, pending: 0 },
    });
    // The newest signed checkpoint: the one the sealer just signed over every event, as the log serves it.
    const latest = (await h.gql(auditor, '{ auditCheckpoint { origin treeSize rootHash issuedAt keyId signature } }'))
      .body.data.auditCheckpoint;
    expect(manifest.checkpoint).toEqual(latest);
    expect(manifest.checkpoint.treeSize).toBe(manifest.auditLog.headSeq);
    const { protectedHeader } = await verifySignature(files['manifest.json']!, files['manifest.json.jws']!.toString());
    expect(protectedHeader).toMatchObject({ alg: 'EdDSA', kid: manifest.signature.kid });

    // A second reader: Python's zipfile checks every CRC (testzip) and reads the same bytes.
    const py = execFileSync('python3', [
      '-c',
      `import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
m = json.loads(z.read('manifest.json'))
print(json.dumps({f['name']: hashlib.sha256(z.read(f['name'])).hexdigest() == f['sha256'] for f in m['files']}))`,
      zip,
    ]).toString();
    expect(Object.values(JSON.parse(py))).toEqual(manifest.files.map(() => true));
  });

  test("the period's transfers only; the verification and policy are in it", async () => {
    const { files } = await unpack(`from=${FROM}&to=${TO}`);
    const [header, ...rows] = parseCsv(files['transfers.csv']!.toString());
    expect(rows).toHaveLength(1);
    expect(rows[0]![header!.indexOf('recordCount')]).toBe('7');
    expect(rows[0]![header!.indexOf('importerCountry')]).toBe('IN');
    expect(parseCsv(files['transparency-report.csv']!.toString())[0]).toContain('authorityType');
    const verification = JSON.parse(files['verification.json']!.toString());
    expect(verification).toMatchObject({ ok: true, firstBroken: null, rows: { ok: true, problemCount: 0 } });
    // The events were written now, outside the period: the proofs are those of the events that recorded its transfer.
    const proofs = files['inclusion-proofs.jsonl']!.toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(proofs.map((p) => JSON.parse(p.entry))).toEqual([
      expect.objectContaining({ action: 'recordTransfer', after: expect.objectContaining({ recordCount: 7 }) }),
    ]);
    const policy = JSON.parse(files['policy.json']!.toString());
    expect(policy.start.at).toBe('2025-01-01T00:00:00.000Z');
    expect(policy.end.at).toBe('2025-07-01T00:00:00.000Z');
    expect(policy.end.tables).toBeTruthy();
  });

  test('a pack whose manifest or file was changed is caught', async () => {
    const { files } = await unpack(`from=${FROM}&to=${TO}`);
    const manifest = files['manifest.json']!;
    const forged = Buffer.from(manifest.toString().replace(/"sha256": "[0-9a-f]/, '"sha256": "x'));
    await expect(verifySignature(forged, files['manifest.json.jws']!.toString())).rejects.toThrow(/signature/);
    const listed = JSON.parse(manifest.toString()).files.find((f: { name: string }) => f.name === 'transfers.csv');
    const edited = Buffer.from(files['transfers.csv']!.toString().replace(',7,', ',1,'));
    expect(createHash('sha256').update(edited).digest('hex')).not.toBe(listed.sha256);
  });

  test('tampering in the database shows in the pack: the verification names the row', async () => {
    await h.asOwner('alter table transfers disable trigger transfers_append_only');
    await h.asOwner('update transfers set record_count = 1 where record_count = 7');
    await h.asOwner('alter table transfers enable trigger transfers_append_only');
    const { files } = await unpack(`from=${FROM}&to=${TO}`);
    expect(JSON.parse(files['manifest.json']!.toString()).auditLog.ok).toBe(false);
    const verification = JSON.parse(files['verification.json']!.toString());
    expect(verification.rows.problems).toEqual([expect.objectContaining({ table: 'transfers' })]);
    await h.asOwner('alter table transfers disable trigger transfers_append_only');
    await h.asOwner('update transfers set record_count = 7 where record_count = 1');
    await h.asOwner('alter table transfers enable trigger transfers_append_only');
  });
});

/** The pack `zip` with entry `name` replaced by `edit(bytes)`, written anew by Python's zipfile (CRCs recomputed). */
function repacked(zip: string, name: string, edit: (b: Buffer) => Buffer): string {
  const out = join(dir, `forged-${Math.random().toString(36).slice(2)}.zip`);
  const replacement = join(dir, `entry-${Math.random().toString(36).slice(2)}`);
  writeFileSync(replacement, edit(execFileSync('unzip', ['-p', zip, name])));
  execFileSync('python3', [
    '-c',
    `import sys, zipfile
src, dst, name, repl = sys.argv[1:]
with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, 'w') as b:
    for i in a.infolist():
        b.writestr(i.filename, open(repl, 'rb').read() if i.filename == name else a.read(i.filename))`,
    zip,
    out,
    name,
    replacement,
  ]);
  return out;
}

const checkPack = (zip: string, url?: string) =>
  verifyPack(readFileSync(zip), {
    file: zip,
    url,
    fetch: ((input: URL, init?: RequestInit) => h.app.fetch(input, init ?? {})) as typeof fetch,
  });

describe('checked offline: npm run verify -- --pack', () => {
  // A period around now: the audit events were written now (the transfers' own times are in 2025).
  const period = () => `from=2020-01-01T00:00:00Z&to=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 19)}Z`;

  test('one inclusion proof per sealed event of the period against the latest checkpoint; the pack verifies', async () => {
    await h.sealer.sealNow();
    const { zip, files } = await unpack(period());
    const manifest = JSON.parse(files['manifest.json']!.toString());
    const checkpoint = JSON.parse(files['checkpoint.json']!.toString());
    expect(checkpoint).toEqual(manifest.checkpoint);
    const lines = files['inclusion-proofs.jsonl']!.toString()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const [{ n }]: any[] = await h.asOwner(
      `select count(*)::int as n from audit_seals where position <= ${checkpoint.treeSize}`,
    );
    expect(lines).toHaveLength(Number(n));
    expect(manifest.inclusionProofs).toMatchObject({ events: lines.length, treeSize: checkpoint.treeSize });
    expect(lines[0]).toEqual({
      position: expect.any(Number),
      seq: expect.any(Number),
      occurredAt: expect.any(String),
      entry: expect.any(String),
      leafHash: expect.any(String),
      path: expect.any(Array),
    });

    // Against the keys the registry publishes, and against the pack's own.
    const published = await checkPack(zip, 'http://registry.test');
    expect(published.ok, formatPackReport(published)).toBe(true);
    expect(published.findings.map((f) => f.check)).toEqual([
      'manifest',
      'pack signature',
      'checkpoint',
      'inclusion proofs',
    ]);
    expect(formatPackReport(published)).toContain(`${lines.length} events of the period are included`);
    const own = await checkPack(zip);
    expect(own.ok).toBe(true);
    expect(own.findings.find((f) => f.check === 'pack signature')?.detail).toContain('only --url shows');

    // The command: exit code 0 and its report.
    const run = await promisify(execFile)('node', ['--import', 'tsx', 'src/cli/verify.ts', '--pack', zip]);
    expect(run.stdout).toContain('VERIFIED: the pack is whole');
  }, 60_000);

  test("a period's events page by page (by time, then its transfers' events) as in one page", async () => {
    await h.sealer.sealNow();
    const [{ n }]: any[] = await h.asOwner('select max(position)::int as n from audit_seals');
    const all = async (period: { from: Date; to: Date }, limit: number) => {
      const out: number[] = [];
      let cursor: PeriodCursor | null = null;
      do {
        const page: Awaited<ReturnType<typeof periodEntries>> = await periodEntries(
          h.database.db,
          period,
          Number(n),
          cursor,
          limit,
        );
        out.push(...page.entries.map((e) => e.position));
        cursor = page.next;
      } while (cursor);
      return out;
    };
    const wide = { from: new Date(FROM), to: new Date(Date.now() + 86_400_000) };
    const narrow = { from: new Date(FROM), to: new Date(TO) };
    expect(await all(wide, 2)).toEqual(await all(wide, 1000));
    expect((await all(wide, 1000)).length).toBe(Number(n));
    expect(await all(narrow, 1)).toEqual(await all(narrow, 1000));
    expect(await all(narrow, 1000)).toHaveLength(1);
  });

  test('a proof changed: its position named; a CSV byte changed: its file named; the command exits 1', async () => {
    const { zip } = await unpack(period());
    const forgedProof = repacked(zip, 'inclusion-proofs.jsonl', (b) => {
      const [first, ...rest] = b.toString().split('\n');
      const p = JSON.parse(first!);
      p.path[0] = leafHashOf('forged');
      return Buffer.from([JSON.stringify(p), ...rest].join('\n'));
    });
    const proofReport = await checkPack(forgedProof, 'http://registry.test');
    expect(proofReport.ok).toBe(false);
    const firstPosition = JSON.parse(
      execFileSync('unzip', ['-p', zip, 'inclusion-proofs.jsonl']).toString().split('\n')[0]!,
    ).position;
    expect(proofReport.findings.find((f) => f.check === 'inclusion proofs')).toMatchObject({
      ok: false,
      positions: [firstPosition],
    });
    expect(proofReport.findings.find((f) => f.check === 'manifest')?.detail).toBe(
      'inclusion-proofs.jsonl differs from its SHA-256 in the manifest',
    );

    const forgedCsv = repacked(zip, 'transfers.csv', (b) => Buffer.from(b.toString().replace(',7,', ',1,')));
    const csvReport = await checkPack(forgedCsv);
    expect(csvReport.findings.filter((f) => !f.ok)).toEqual([
      { ok: false, check: 'manifest', detail: 'transfers.csv differs from its SHA-256 in the manifest' },
    ]);
    const run = await promisify(execFile)('node', ['--import', 'tsx', 'src/cli/verify.ts', '--pack', forgedCsv]).then(
      () => ({ code: 0, out: '' }),
      (e) => ({ code: e.code as number, out: `${e.stdout}` }),
    );
    expect(run.code).toBe(1);
    expect(run.out).toContain('FAIL  manifest: transfers.csv differs');

    // A byte flipped in the archive itself: the CRC names the file.
    const raw = readFileSync(zip);
    const at = raw.indexOf(Buffer.from('transfers.csv')) + 200;
    raw[at] = raw[at]! ^ 1;
    const flipped = join(dir, 'flipped.zip');
    writeFileSync(flipped, raw);
    expect((await checkPack(flipped)).findings[0]).toMatchObject({ ok: false, check: 'archive' });

    // A manifest re-signed by anyone's key passes on its own keys only: the published key tells.
    const forgedManifest = repacked(zip, 'manifest.json', (b) =>
      Buffer.from(b.toString().replace('"format"', '"format" ')),
    );
    expect(
      (await checkPack(forgedManifest, 'http://registry.test')).findings.find((f) => f.check === 'pack signature'),
    ).toMatchObject({
      ok: false,
      detail: 'the manifest does not match its signature',
    });
  }, 60_000);
});

describe('a pack forged with keys of its own', () => {
  test('passes on its own keys; a saved checkpoint pins the checkpoint key and the published keys refuse it', async () => {
    await h.sealer.sealNow();
    const saved = (await (await get('/.well-known/audit-checkpoint')).json()) as Checkpoint;
    const { zip } = await unpack(`from=${FROM}&to=${TO}`);
    const files = readZip(readFileSync(zip));
    // The forger signs the real tree head with a checkpoint key of their own, labelled with the registry's key id,
    // and re-signs the manifest with a JWS key of their own.
    const mine = checkpointSigner(randomBytes(32));
    const { keyId: _mine, signature: _sig, ...body } = JSON.parse(files.get('checkpoint.json')!.toString());
    const forgedCheckpoint = { ...mine.sign(body), keyId: saved.keyId };
    const forgedKeys = { keys: mine.jwks().keys.map((k) => ({ ...k, kid: saved.keyId })) };
    files.set('checkpoint.json', Buffer.from(`${JSON.stringify(forgedCheckpoint, null, 2)}\n`));
    files.set('checkpoint-keys.json', Buffer.from(`${JSON.stringify(forgedKeys, null, 2)}\n`));
    const manifest = JSON.parse(files.get('manifest.json')!.toString());
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    manifest.checkpoint = forgedCheckpoint;
    manifest.signature.publicKey = { ...(await exportJWK(publicKey)), kid: manifest.signature.kid };
    for (const f of manifest.files) {
      const bytes = files.get(f.name)!;
      f.bytes = bytes.length;
      f.sha256 = createHash('sha256').update(bytes).digest('hex');
    }
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    files.set('manifest.json', manifestBytes);
    const [head, , signature] = (
      await new CompactSign(manifestBytes)
        .setProtectedHeader({ alg: 'EdDSA', kid: manifest.signature.kid })
        .sign(privateKey)
    ).split('.');
    files.set('manifest.json.jws', Buffer.from(`${head}..${signature}\n`));
    const forged = join(dir, 'forged-keys.zip');
    const chunks: Uint8Array[] = [];
    for await (const c of zipStream(
      (async function* () {
        for (const [name, bytes] of files)
          yield {
            name,
            data: (async function* () {
              yield bytes;
            })(),
          };
      })(),
      new Date(),
    ))
      chunks.push(c);
    writeFileSync(forged, Buffer.concat(chunks));

    // On its own keys it is whole: that is all the pack's own keys can show.
    expect((await checkPack(forged)).ok).toBe(true);
    // A checkpoint saved from the registry pins its checkpoint key by thumbprint: the forged key is named.
    const pinned = await verifyPack(readFileSync(forged), { file: forged, saved });
    expect(pinned.findings.find((f) => f.check === 'checkpoint')).toMatchObject({
      ok: false,
      detail: expect.stringContaining(`not by the key of the saved checkpoint (${saved.keyId})`),
    });
    // The real pack passes the same pin.
    const real = await verifyPack(readFileSync(zip), { file: zip, saved });
    expect(real.ok, formatPackReport(real)).toBe(true);
    expect(real.findings.find((f) => f.check === 'checkpoint')?.detail).toContain('the key of the saved checkpoint');
    // The published keys refuse both signatures.
    const published = await checkPack(forged, 'http://registry.test');
    expect(published.findings.filter((f) => !f.ok).map((f) => f.check)).toEqual(['pack signature', 'checkpoint']);
  });
});

describe('refused', () => {
  test('a bad or missing period is a 400 with a typed JSON error, naming the parameter', async () => {
    for (const [query, field] of [
      [`to=${TO}`, 'from'],
      [`from=${FROM}`, 'to'],
      [`from=yesterday&to=${TO}`, 'from'],
      [`from=${TO}&to=${FROM}`, 'to'],
      [`from=${FROM}&to=${TO}&contractorId=1`, 'contractorId'],
    ]) {
      const res = await get(`/export/evidence-pack.zip?${query}`, auditor);
      expect(res.status, query).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/json');
      const body = await res.json();
      expect(body.errors[0].extensions.code, query).toBe('VALIDATION_FAILED');
      expect(body.errors[0].message, query).toContain(field);
    }
  });

  test('no token: 401; a contractor token: 403', async () => {
    expect((await get(`/export/evidence-pack.zip?from=${FROM}&to=${TO}`)).status).toBe(401);
    const c = await contractorWithToken(h, compliance, { name: 'Curious Co' });
    const res = await get(`/export/evidence-pack.zip?from=${FROM}&to=${TO}`, c.token);
    expect(res.status).toBe(403);
    expect((await res.json()).errors[0].extensions.code).toBe('FORBIDDEN');
  });
});
