// The evidence pack an auditor takes home: one ZIP for a period [from, to) holding the transfers, transparency
// report and records of processing CSVs (the CSV exports' own lines), the transfer policy in force, the audit log's
// verification (chain and evidence rows), the latest signed checkpoint with its public key and an inclusion proof
// against it for every sealed event of the period, a manifest of every file's SHA-256, and a detached Ed25519 JWS
// over the manifest made with the service's signing key, which /.well-known/jwks.json publishes (and the manifest
// carries, for checking the pack's integrity offline; only the published key says who made it). Streamed: files
// are hashed as they are sent, the manifest and its signature come last. `npm run verify -- --pack` checks it all.
import { createHash } from 'node:crypto';
import { CompactSign } from 'jose';
import type { CheckpointSigner } from '../audit/checkpoint.js';
import type { KeyRing } from '../auth/keys.js';
import type { Principal } from '../auth/principal.js';
import type { Clock } from '../clock.js';
import type { Db } from '../db/client.js';
import { DomainError } from '../errors.js';
import { latestCheckpoint, periodInclusionProofs, verifyAuditLog } from '../registry/audit-log.js';
import { purposeLimits, transferPolicy } from '../registry/policy.js';
import { assertPeriod } from '../registry/validation.js';
import { periodParams, recordsCsvLines, transferCsvLines, transparencyCsvLines } from './csv.js';
import { problem, streamedBody } from './responses.js';
import { zipStream, type ZipFile } from './zip.js';

export const EVIDENCE_PACK_PATH = '/export/evidence-pack.zip';
export const MANIFEST = 'manifest.json';
export const SIGNATURE = 'manifest.json.jws';
export const CHECKPOINT = 'checkpoint.json';
export const CHECKPOINT_KEYS = 'checkpoint-keys.json';
export const PROOFS = 'inclusion-proofs.jsonl';

export interface ManifestEntry {
  name: string;
  bytes: number;
  sha256: string;
}

const encoder = new TextEncoder();

async function* bytesOf(lines: AsyncIterable<string> | Iterable<string>): AsyncGenerator<Uint8Array> {
  for await (const line of lines) yield encoder.encode(line);
}

const json = (value: unknown) => bytesOf([`${JSON.stringify(value, null, 2)}\n`]);

/** Passes a file's bytes through, recording its size and SHA-256 in `entries` once the last byte went out. */
function hashed(name: string, data: AsyncIterable<Uint8Array>, entries: ManifestEntry[]): ZipFile {
  return {
    name,
    data: (async function* () {
      const hash = createHash('sha256');
      let bytes = 0;
      for await (const chunk of data) {
        hash.update(chunk);
        bytes += chunk.length;
        yield chunk;
      }
      entries.push({ name, bytes, sha256: hash.digest('hex') });
    })(),
  };
}

/** A detached compact JWS (RFC 7515 appendix F: the payload part left empty) over `payload`. */
async function detachedSignature(keys: KeyRing, payload: Uint8Array): Promise<string> {
  const { kid, privateKey } = keys.signingKey;
  const jws = await new CompactSign(payload)
    .setProtectedHeader({ alg: 'EdDSA', kid, typ: 'evidence-pack-manifest+jws' })
    .sign(privateKey);
  const [head, , signature] = jws.split('.');
  return `${head}..${signature}\n`;
}

/** GET /export/evidence-pack.zip?from=…&to=… for a staff token (compliance or auditor). */
export async function evidencePack(
  request: Request,
  url: URL,
  principal: Principal,
  { db, clock, keys, checkpointSigner }: { db: Db; clock: Clock; keys: KeyRing; checkpointSigner: CheckpointSigner },
): Promise<Response> {
  if (request.method !== 'GET') return problem(405, 'METHOD_NOT_ALLOWED', 'Use GET');
  if (principal.kind !== 'staff') return problem(403, 'FORBIDDEN', 'The evidence pack needs a staff token');
  let period: { from: Date; to: Date };
  try {
    const unknown = [...url.searchParams.keys()].filter((k) => k !== 'from' && k !== 'to');
    if (unknown.length) return problem(400, 'VALIDATION_FAILED', `${unknown[0]}: unknown parameter; known: from, to`);
    period = periodParams(url.searchParams);
    assertPeriod(period.from, period.to, 'to');
  } catch (e) {
    if (e instanceof DomainError) return problem(400, e.code, e.message);
    throw e;
  }
  const { from, to } = period;
  const now = clock.now();
  // The records of processing as they stood at the period's end (or now, for a period not over yet).
  const recordsAt = to < now ? to : now;
  const transferParams = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  const entries: ManifestEntry[] = [];

  async function* files(): AsyncGenerator<ZipFile> {
    yield hashed('transfers.csv', bytesOf(await transferCsvLines(db, transferParams, now)), entries);
    yield hashed('transparency-report.csv', bytesOf(await transparencyCsvLines(db, from, to)), entries);
    yield hashed('records-of-processing.csv', bytesOf(await recordsCsvLines(db, recordsAt)), entries);
    // The policy as it stood at the period's start and at its end (changes within it are in the audit log).
    const policyAt = async (at: Date) => ({
      at: at.toISOString(),
      tables: await transferPolicy(db, at),
      purposeLimits: await purposeLimits(db, at),
    });
    const policy = { start: await policyAt(from < now ? from : now), end: await policyAt(recordsAt) };
    yield hashed('policy.json', json(policy), entries);
    // The checkpoint first: the verification then covers at least the events it signs.
    const checkpoint = await latestCheckpoint(db);
    const verification = await verifyAuditLog(db);
    yield hashed('verification.json', json(verification), entries);
    yield hashed(CHECKPOINT, json(checkpoint), entries);
    yield hashed(CHECKPOINT_KEYS, json(checkpointSigner.jwks()), entries);
    // One line per sealed event of the period (or of its transfers) that the checkpoint's tree holds, with its path.
    let proofs = 0;
    yield hashed(
      PROOFS,
      bytesOf(
        (async function* () {
          if (!checkpoint) return;
          for await (const p of periodInclusionProofs(db, period, checkpoint.treeSize)) {
            proofs += 1;
            yield `${JSON.stringify(p)}\n`;
          }
        })(),
      ),
      entries,
    );
    const publicKey = keys.jwks().keys.find((k) => k.kid === keys.signingKey.kid);
    const manifest = encoder.encode(
      `${JSON.stringify(
        {
          format: 'transfer-registry evidence pack 1',
          generatedAt: now.toISOString(),
          generatedBy: principal.subject,
          period: { from: from.toISOString(), to: to.toISOString() },
          recordsOfProcessingAt: recordsAt.toISOString(),
          auditLog: {
            ok: verification.ok,
            headSeq: verification.headSeq,
            headHash: verification.headHash,
            pending: verification.pending,
          },
          // The newest signed tree head (null before the sealer signed one), and the inclusion of the period's
          // sealed events in its tree: an auditor checks both, and the log's growth since, with the offline verifier.
          checkpoint,
          inclusionProofs: {
            file: PROOFS,
            events: proofs,
            treeSize: checkpoint?.treeSize ?? 0,
            covers:
              'sealed events in the tree of the checkpoint that occurred in [from, to) or recorded a transfer of it',
          },
          signature: {
            file: SIGNATURE,
            alg: 'EdDSA',
            jwks: '/.well-known/jwks.json',
            kid: keys.signingKey.kid,
            // Proves the pack intact, not who made it: that takes the key the registry publishes.
            publicKey,
          },
          files: entries,
        },
        null,
        2,
      )}\n`,
    );
    yield {
      name: MANIFEST,
      data: (async function* () {
        yield manifest;
      })(),
    };
    yield { name: SIGNATURE, data: bytesOf([await detachedSignature(keys, manifest)]) };
  }

  const stamp = `${from.toISOString().slice(0, 10)}_${to.toISOString().slice(0, 10)}`;
  const zip = zipStream(files(), now);
  const body = streamedBody(zip);
  return new Response(body, {
    headers: {
      'content-type': 'application/zip',
      'content-disposition': `attachment; filename="evidence-pack_${stamp}.zip"`,
      'cache-control': 'no-store',
    },
  });
}
