// Checking an evidence pack offline (`npm run verify -- --pack pack.zip [--url …]`): every file against the
// manifest's SHA-256, the manifest's detached JWS, the checkpoint's signature, and every inclusion proof against the
// checkpoint's root (RFC 9162). What a key proves depends on where it comes from: the keys inside the pack show the
// pack is whole and self-consistent, but anyone can make a pack with keys of their own; the keys the registry
// publishes (--url: /.well-known/jwks.json and /.well-known/audit-checkpoint-keys.json) show the registry made it.
// Offline, a checkpoint the auditor saved from the registry earlier pins the checkpoint key (its id is the key's
// RFC 7638 thumbprint): the pack's checkpoint and proofs are then the registry's, though its files are only as
// trustworthy as the manifest's key.
import { createHash } from 'node:crypto';
import { base64url, compactVerify, importJWK, type JWK } from 'jose';
import { checkpointKeyId, checkpointSignatureError, type Checkpoint, type PublicJwk } from './checkpoint.js';
import { leafHash, verifyInclusion } from './merkle.js';
import type { Finding } from './offline.js';
import { readZip } from './unzip.js';

export interface PackReport {
  ok: boolean;
  file: string;
  /** Where the keys came from: the registry's published ones, or the pack's own. */
  keysFrom: string;
  period?: { from: string; to: string };
  findings: Finding[];
}

interface Manifest {
  period?: { from: string; to: string };
  checkpoint?: Checkpoint | null;
  inclusionProofs?: { file: string; events: number; treeSize: number };
  signature?: { file: string; kid: string; publicKey?: JWK };
  files?: { name: string; bytes: number; sha256: string }[];
}

interface Proof {
  position: number;
  entry: string;
  leafHash: string;
  path: string[];
}

const MANIFEST = 'manifest.json';

function parse<T>(bytes: Buffer | undefined, name: string): T {
  if (!bytes) throw new Error(`${name} is missing`);
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch {
    throw new Error(`${name} is not JSON`);
  }
}

async function published<T>(fetcher: typeof fetch, url: string, path: string): Promise<T> {
  const res = await fetcher(new URL(path, url));
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

export async function verifyPack(
  zip: Buffer,
  o: { file: string; url?: string; saved?: Checkpoint; fetch?: typeof fetch },
): Promise<PackReport> {
  const findings: Finding[] = [];
  const add = (f: Finding) => findings.push(f);
  const report: PackReport = {
    ok: false,
    file: o.file,
    keysFrom: o.url
      ? `the keys ${o.url} publishes`
      : `the keys in the pack itself${o.saved ? ', the checkpoint key pinned by the saved checkpoint' : ''}`,
    findings,
  };
  const done = () => ({ ...report, ok: findings.length > 0 && findings.every((f) => f.ok) });
  const fetcher = o.fetch ?? fetch;

  let files: Map<string, Buffer>;
  try {
    files = readZip(zip);
  } catch (e) {
    add({ ok: false, check: 'archive', detail: (e as Error).message });
    return done();
  }
  let manifest: Manifest;
  try {
    manifest = parse<Manifest>(files.get(MANIFEST), MANIFEST);
  } catch (e) {
    add({ ok: false, check: 'manifest', detail: (e as Error).message });
    return done();
  }
  report.period = manifest.period;

  // Every file as the manifest lists it, and nothing it does not list.
  const listed = manifest.files ?? [];
  const bad: string[] = [];
  for (const f of listed) {
    const bytes = files.get(f.name);
    if (!bytes) bad.push(`${f.name} is missing`);
    else if (bytes.length !== f.bytes || createHash('sha256').update(bytes).digest('hex') !== f.sha256)
      bad.push(`${f.name} differs from its SHA-256 in the manifest`);
  }
  const known = new Set([MANIFEST, manifest.signature?.file, ...listed.map((f) => f.name)]);
  for (const name of files.keys()) if (!known.has(name)) bad.push(`${name} is not in the manifest`);
  add({
    ok: bad.length === 0 && listed.length > 0,
    check: 'manifest',
    detail: bad.length ? bad.join('; ') : `${listed.length} files match their SHA-256`,
  });

  // The manifest's signature: a detached compact JWS (the payload part empty).
  try {
    const sig = manifest.signature;
    const jws = sig && files.get(sig.file)?.toString('utf8').trim();
    if (!sig || !jws) throw new Error('the pack holds no signature');
    const [head, , signature] = jws.split('.');
    let jwk: JWK | undefined;
    if (o.url) {
      const set = await published<{ keys: JWK[] }>(fetcher, o.url, '/.well-known/jwks.json');
      jwk = set.keys.find((k) => k.kid === sig.kid);
      if (!jwk) throw new Error(`the registry does not publish key ${sig.kid}`);
    } else jwk = sig.publicKey;
    if (!jwk) throw new Error('the manifest carries no public key: give --url');
    const key = await importJWK(jwk, 'EdDSA');
    await compactVerify(`${head}.${base64url.encode(files.get(MANIFEST)!)}.${signature}`, key);
    add({
      ok: true,
      check: 'pack signature',
      detail: o.url
        ? `the manifest is signed by key ${sig.kid}, which ${o.url} publishes`
        : `the manifest is signed by key ${sig.kid} as the manifest gives it: the pack is whole, but only --url shows the registry made it`,
    });
  } catch (e) {
    const message = (e as Error).message;
    add({
      ok: false,
      check: 'pack signature',
      detail:
        /signature/i.test(message) && !/holds no/.test(message) ? 'the manifest does not match its signature' : message,
    });
  }

  // The checkpoint and its signature.
  let checkpoint: Checkpoint | null = null;
  try {
    checkpoint = parse<Checkpoint | null>(files.get('checkpoint.json'), 'checkpoint.json');
    if (!checkpoint) throw new Error('the pack holds no checkpoint (the log had none signed)');
    if (JSON.stringify(checkpoint) !== JSON.stringify(manifest.checkpoint))
      throw new Error('checkpoint.json is not the checkpoint the manifest names');
    const keys = o.url
      ? await published<{ keys: PublicJwk[] }>(fetcher, o.url, '/.well-known/audit-checkpoint-keys.json')
      : parse<{ keys: PublicJwk[] }>(files.get('checkpoint-keys.json'), 'checkpoint-keys.json');
    const error = checkpointSignatureError(checkpoint, keys);
    if (error) throw new Error(error);
    let pinned = '';
    if (o.saved) {
      // The key that verified the signature must be the one of the saved checkpoint: its thumbprint, not its label.
      const x = keys.keys.find((k) => k.kid === checkpoint!.keyId)?.x ?? '';
      if (checkpointKeyId(x) !== o.saved.keyId)
        throw new Error(
          `signed by key ${checkpointKeyId(x)}, not by the key of the saved checkpoint (${o.saved.keyId})`,
        );
      if (checkpoint.origin !== o.saved.origin)
        throw new Error(`a checkpoint of ${checkpoint.origin}; the saved one is of ${o.saved.origin}`);
      if (checkpoint.treeSize === o.saved.treeSize && checkpoint.rootHash !== o.saved.rootHash)
        throw new Error(`the root of ${checkpoint.treeSize} events differs from the saved checkpoint's`);
      pinned = ', the key of the saved checkpoint';
    }
    add({
      ok: true,
      check: 'checkpoint',
      detail: `${checkpoint.treeSize} events, root ${checkpoint.rootHash}, signed ${checkpoint.issuedAt} by key ${checkpoint.keyId}${pinned}`,
    });
  } catch (e) {
    add({ ok: false, check: 'checkpoint', detail: (e as Error).message });
    checkpoint = null;
  }

  // Every inclusion proof against the checkpoint's root.
  if (checkpoint) {
    const name = manifest.inclusionProofs?.file ?? 'inclusion-proofs.jsonl';
    const text = files.get(name)?.toString('utf8');
    if (text === undefined) add({ ok: false, check: 'inclusion proofs', detail: `${name} is missing` });
    else {
      const failed: number[] = [];
      let count = 0;
      for (const [i, line] of text.split('\n').entries()) {
        if (!line) continue;
        count += 1;
        let p: Proof;
        try {
          p = JSON.parse(line) as Proof;
        } catch {
          failed.push(-(i + 1));
          continue;
        }
        let position: unknown;
        try {
          position = (JSON.parse(p.entry) as { position?: unknown }).position;
        } catch {
          position = undefined;
        }
        const leaf = leafHash(p.entry);
        if (
          position !== p.position ||
          leaf !== p.leafHash ||
          !verifyInclusion(p.position - 1, checkpoint.treeSize, leaf, p.path, checkpoint.rootHash)
        )
          failed.push(p.position);
      }
      const expected = manifest.inclusionProofs?.events;
      const problems = [
        ...(failed.length
          ? [
              `the events at positions ${failed
                .slice(0, 20)
                .map((p) => (p < 0 ? `(line ${-p}: not JSON)` : p))
                .join(', ')}${failed.length > 20 ? ', …' : ''} do not prove their inclusion in the checkpoint's tree`,
            ]
          : []),
        ...(expected !== undefined && expected !== count
          ? [`the manifest says ${expected} proofs, the file holds ${count}`]
          : []),
      ];
      add({
        ok: problems.length === 0,
        check: 'inclusion proofs',
        detail: problems.length
          ? problems.join('; ')
          : `${count} events of the period are included in the tree of ${checkpoint.treeSize} events`,
        ...(failed.length ? { positions: failed.filter((p) => p > 0) } : {}),
      });
    }
  }
  return done();
}

/** The pack's report as a person reads it. */
export function formatPackReport(r: PackReport): string {
  return [
    `Evidence pack ${r.file}${r.period ? ` for [${r.period.from}, ${r.period.to})` : ''}`,
    `checked with ${r.keysFrom}`,
    '',
    ...r.findings.map((f) => `${f.ok ? 'ok  ' : 'FAIL'}  ${f.check}: ${f.detail}`),
    '',
    r.ok ? 'VERIFIED: the pack is whole and its proofs hold.' : 'NOT VERIFIED.',
  ].join('\n');
}
