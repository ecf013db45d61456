// The offline verifier: what an outside auditor runs against a live registry and a checkpoint they saved earlier.
// It trusts nothing but that checkpoint and uses only what anyone can fetch over HTTP with an auditor token: the
// checkpoint keys and signed checkpoints (/.well-known/…), and through GraphQL the log's head, entries and
// RFC 9162 proofs, which it checks with the RFC's verification algorithms (merkle.ts).
//
// Where it happened. A change that left the stored tree alone is named at its exact position (the entry no longer
// hashes to its leaf). A change whose hashes were all recomputed (the tree, the chain, even fresh checkpoints signed
// by the service over the forged tree) can only be placed between signed checkpoints issued before the saved one:
// the newest of them the log is still consistent with, and the next. The finer the checkpoints, the finer that.
import { checkpointSignatureError, type Checkpoint, type PublicJwk } from './checkpoint.js';
import { appendLeaf, frontierRoot, leafHash, verifyConsistency, verifyInclusion, type Frontier } from './merkle.js';
import { RowChecker, type RowHash, type RowProblem, type RowTable } from './row-check.js';

export interface OfflineOptions {
  /** The registry's base URL. */
  url: string;
  /** A staff token (AUDITOR). */
  token: string;
  /** The checkpoint saved earlier. */
  saved: Checkpoint;
  /** Positions whose inclusion to check, besides the first and last of the saved checkpoint and a sample. */
  events?: number[];
  /** Randomly chosen positions to check as well (default 8). */
  sample?: number;
  /** Re-hash every event of the log. */
  full?: boolean;
  /**
   * Re-hash every evidence row the registry holds and compare it with the row hash the newest event naming it
   * carries (implies `full`: only events whose entries re-hash into the signed tree are believed).
   */
  rows?: boolean;
  fetch?: typeof fetch;
}

export interface Finding {
  ok: boolean;
  check: string;
  detail: string;
  /** Positions named by a failure: exactly, or the first and last of the range it lies in. */
  positions?: number[];
  range?: [number, number];
  /** Evidence rows that differ from the events that wrote them (the first 100). */
  rows?: RowProblem[];
}

export interface OfflineReport {
  ok: boolean;
  url: string;
  saved: { treeSize: number; rootHash: string; issuedAt: string };
  latest?: { treeSize: number; rootHash: string; issuedAt: string };
  sealed?: number;
  pending?: number;
  findings: Finding[];
}

class Remote {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly fetcher: typeof fetch,
  ) {}

  async get<T>(path: string): Promise<T> {
    const res = await this.fetcher(new URL(path, this.base));
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
    return (await res.json()) as T;
  }

  /** The data of a GraphQL query, or the first error's message as a thrown Error. */
  async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const res = await this.fetcher(new URL('/graphql', this.base), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
    if (body.errors?.length) throw new Error(body.errors[0]!.message);
    if (!res.ok || !body.data) throw new Error(`HTTP ${res.status}`);
    return body.data;
  }
}

const CHECKPOINT_FIELDS = 'origin treeSize rootHash issuedAt keyId signature';

export function isCheckpoint(v: unknown): v is Checkpoint {
  const c = v as Checkpoint;
  return (
    typeof c === 'object' &&
    c !== null &&
    typeof c.origin === 'string' &&
    Number.isSafeInteger(c.treeSize) &&
    c.treeSize > 0 &&
    /^[0-9a-f]{64}$/.test(c.rootHash) &&
    typeof c.issuedAt === 'string' &&
    typeof c.keyId === 'string' &&
    typeof c.signature === 'string'
  );
}

const short = (c: Checkpoint) => ({ treeSize: c.treeSize, rootHash: c.rootHash, issuedAt: c.issuedAt });

/** The leaf of an entry, if the entry says it sits at `position`; else null. */
function leafAt(entry: string, position: number): string | null {
  try {
    return (JSON.parse(entry) as { position?: unknown }).position === position ? leafHash(entry) : null;
  } catch {
    return null;
  }
}

function pick(n: number, max: number): number[] {
  const out = new Set<number>();
  while (out.size < Math.min(n, max)) out.add(1 + Math.floor(Math.random() * max));
  return [...out];
}

export async function verifyRemoteLog(o: OfflineOptions): Promise<OfflineReport> {
  const remote = new Remote(o.url, o.token, o.fetch ?? fetch);
  const saved = o.saved;
  const findings: Finding[] = [];
  const report: OfflineReport = { ok: false, url: o.url, saved: short(saved), findings };
  const add = (f: Finding) => findings.push(f);
  const done = () => ({ ...report, ok: findings.every((f) => f.ok) });

  const keys = await remote.get<{ keys: PublicJwk[] }>('/.well-known/audit-checkpoint-keys.json');
  const savedSig = checkpointSignatureError(saved, keys);
  add({ ok: !savedSig, check: 'saved checkpoint signature', detail: savedSig ?? `signed by key ${saved.keyId}` });

  const latest = await remote.get<Checkpoint>('/.well-known/audit-checkpoint');
  report.latest = short(latest);
  const latestSig = isCheckpoint(latest) ? checkpointSignatureError(latest, keys) : 'not a checkpoint';
  add({ ok: !latestSig, check: 'latest checkpoint signature', detail: latestSig ?? `signed by key ${latest.keyId}` });
  if (latest.origin !== saved.origin)
    add({ ok: false, check: 'origin', detail: `saved from ${saved.origin}, the registry now says ${latest.origin}` });

  const { auditLogHead: head } = await remote.gql<{
    auditLogHead: { treeSize: number; rootHash: string; pending: number };
  }>('{ auditLogHead { treeSize rootHash pending } }');
  report.sealed = head.treeSize;
  report.pending = head.pending;

  // Truncation: the log, or its newest checkpoint, holds fewer events than the saved checkpoint.
  const holds = Math.min(head.treeSize, latest.treeSize);
  if (holds < saved.treeSize) {
    add({
      ok: false,
      check: 'truncation',
      detail: `the saved checkpoint covers ${saved.treeSize} events; the log now holds ${head.treeSize} (newest checkpoint: ${latest.treeSize}): events ${holds + 1}..${saved.treeSize} are missing`,
      range: [holds + 1, saved.treeSize],
    });
    return done();
  }
  add({
    ok: true,
    check: 'truncation',
    detail: `the log holds ${head.treeSize} sealed events (${head.pending} waiting)`,
  });

  // Consistency: today's signed tree extends the saved one.
  const consistent = async (
    from: Checkpoint | { treeSize: number; rootHash: string },
    to: { treeSize: number; rootHash: string },
  ) => {
    if (from.treeSize === to.treeSize) return from.rootHash === to.rootHash;
    try {
      const { consistencyProof: p } = await remote.gql<{ consistencyProof: { path: string[] } }>(
        'query($from: Int!, $to: Int!) { consistencyProof(from: $from, to: $to) { path } }',
        { from: from.treeSize, to: to.treeSize },
      );
      return verifyConsistency(from.treeSize, to.treeSize, from.rootHash, to.rootHash, p.path);
    } catch {
      return false;
    }
  };
  const extendsSaved = await consistent(saved, latest);
  add({
    ok: extendsSaved,
    check: 'consistency',
    detail: extendsSaved
      ? `the log of ${latest.treeSize} events extends the saved ${saved.treeSize}`
      : `the log of ${latest.treeSize} events is not an extension of the saved checkpoint (${saved.treeSize} events): events before it were changed, removed, reordered or inserted`,
  });
  if (!extendsSaved) add(await locate(remote, saved, keys, head, consistent));

  // Inclusion of chosen events in the saved tree (and in today's).
  const positions = [...new Set([1, saved.treeSize, ...(o.events ?? []), ...pick(o.sample ?? 8, saved.treeSize)])]
    .filter((p) => p >= 1 && p <= head.treeSize)
    .sort((a, b) => a - b);
  const notIncluded: number[] = [];
  const archivedIncluded: number[] = [];
  for (const p of positions) {
    const against = p <= saved.treeSize ? saved : latest;
    if (p > against.treeSize) continue;
    try {
      const { inclusionProof: proof } = await remote.gql<{
        inclusionProof: { entry: { entry: string | null; archived: boolean; leafHash: string }; path: string[] };
      }>(
        'query($p: Int!, $n: Int!) { inclusionProof(position: $p, treeSize: $n) { entry { entry archived leafHash } path } }',
        { p, n: against.treeSize },
      );
      // An archived event's entry is in the archive's file: its stored leaf must still be in the signed tree.
      if (proof.entry.archived) archivedIncluded.push(p);
      const leaf = proof.entry.archived ? proof.entry.leafHash : leafAt(proof.entry.entry ?? '', p);
      if (!leaf || !verifyInclusion(p - 1, against.treeSize, leaf, proof.path, against.rootHash)) notIncluded.push(p);
    } catch {
      notIncluded.push(p);
    }
  }
  add({
    ok: notIncluded.length === 0,
    check: 'inclusion',
    detail: notIncluded.length
      ? `events at positions ${notIncluded.join(', ')} do not prove their inclusion in the signed tree (of ${positions.length} checked)`
      : `events at positions ${positions.join(', ')} are included${archivedIncluded.length ? ` (${archivedIncluded.join(', ')} archived: by their stored leaves)` : ''}`,
    ...(notIncluded.length ? { positions: notIncluded } : {}),
  });

  if (o.full || o.rows) {
    const checker = o.rows ? new RowChecker() : undefined;
    const stats = { archived: 0 };
    add(await rehashAll(remote, saved, latest, head.treeSize, checker, stats));
    if (checker) add(await rehashRows(remote, checker, latest, head, stats.archived));
  }
  return done();
}

/**
 * Between which signed checkpoints the log first departs from the saved one. Only checkpoints signed no later than
 * the saved one count (anything signed after the change may sign the forged tree); of those, the newest the log is
 * still consistent with, found by bisection (consistency is monotone: a prefix of an intact prefix is intact).
 */
async function locate(
  remote: Remote,
  saved: Checkpoint,
  keys: { keys: PublicJwk[] },
  head: { treeSize: number; rootHash: string },
  consistent: (from: Checkpoint, to: { treeSize: number; rootHash: string }) => Promise<boolean>,
): Promise<Finding> {
  const history: Checkpoint[] = [];
  for (let from = 1; from < saved.treeSize;) {
    const { auditCheckpoints: page } = await remote.gql<{ auditCheckpoints: Checkpoint[] }>(
      `query($from: Int!, $to: Int!) { auditCheckpoints(from: $from, to: $to, first: 100) { ${CHECKPOINT_FIELDS} } }`,
      { from, to: saved.treeSize - 1 },
    );
    history.push(
      ...page.filter(
        (c) =>
          c.treeSize < saved.treeSize && c.issuedAt <= saved.issuedAt && checkpointSignatureError(c, keys) === null,
      ),
    );
    if (page.length < 100) break;
    from = page[page.length - 1]!.treeSize + 1;
  }
  let lo = -1; // history[lo] is consistent with the log (−1: none is)
  let hi = history.length; // history[hi] is not (history.length: the saved checkpoint)
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (await consistent(history[mid]!, head)) lo = mid;
    else hi = mid;
  }
  const intactUpTo = lo >= 0 ? history[lo]!.treeSize : 0;
  const notAfter = hi < history.length ? history[hi]!.treeSize : saved.treeSize;
  return {
    ok: false,
    check: 'where',
    detail:
      intactUpTo + 1 === notAfter
        ? `the log first differs at position ${notAfter}: events 1..${intactUpTo} are as signed on ${lo >= 0 ? history[lo]!.issuedAt : '—'}, the event at ${notAfter} is not`
        : `the log first differs between positions ${intactUpTo + 1} and ${notAfter}: events 1..${intactUpTo} are intact (checkpoint ${intactUpTo}), the tree of ${notAfter} events is not (${history.length} signed checkpoints before the saved one to go by)`,
    range: [intactUpTo + 1, notAfter],
  };
}

interface RemoteEntry {
  position: number;
  /** Null when the event was archived with its month. */
  entry: string | null;
  archived?: boolean;
  leafHash: string;
}

/** Sealed entries from position `from` to `to`, page by page, as the registry serves them. */
async function* entries(remote: Remote, from: number, to: number): AsyncGenerator<RemoteEntry> {
  while (from <= to) {
    const { auditEntries: page } = await remote.gql<{ auditEntries: RemoteEntry[] }>(
      'query($from: Int!) { auditEntries(from: $from, first: 100) { position entry archived leafHash } }',
      { from },
    );
    for (const e of page) if (e.position <= to) yield e;
    if (!page.length) return;
    from = page[page.length - 1]!.position + 1;
  }
}

/** The row hashes an entry carries, if it re-hashes to its sealed leaf; else null (it is not believed). */
function rowHashesOf(e: RemoteEntry): { seq: number; rowHashes: RowHash[] } | null {
  if (e.entry === null) return null;
  const leaf = leafAt(e.entry, e.position);
  if (leaf === null || leaf !== e.leafHash) return null;
  const { seq, rowHashes } = JSON.parse(e.entry) as { seq: number; rowHashes?: RowHash[] };
  return { seq, rowHashes: rowHashes ?? [] };
}

/**
 * Re-hashes every sealed entry, rebuilds the tree and compares its roots with both checkpoints. Each entry that
 * hashes to its sealed leaf hands its row hashes to `checker`, if given.
 */
async function rehashAll(
  remote: Remote,
  saved: Checkpoint,
  latest: Checkpoint,
  size: number,
  checker?: RowChecker,
  stats: { archived: number } = { archived: 0 },
): Promise<Finding> {
  const tree: Frontier = { size: 0, edge: [] };
  const altered: number[] = [];
  let archived = 0;
  const roots = new Map<number, string>();
  for await (const e of entries(remote, 1, size)) {
    if (e.position !== tree.size + 1)
      return {
        ok: false,
        check: 'full re-hash',
        detail: `event ${tree.size + 1} is missing from the log (next is ${e.position})`,
        positions: [tree.size + 1],
      };
    if (e.archived || e.entry === null) {
      // Archived with its month: not re-hashable here; its stored leaf goes into the roots checked below.
      archived += 1;
      stats.archived = archived;
      appendLeaf(tree, e.leafHash, () => {});
    } else {
      const believed = rowHashesOf(e);
      if (!believed) altered.push(e.position);
      else if (checker && believed.rowHashes.length)
        checker.attest({ seq: believed.seq, position: e.position }, believed.rowHashes);
      appendLeaf(tree, leafAt(e.entry, e.position) ?? leafHash(e.entry), () => {});
    }
    if (tree.size === saved.treeSize || tree.size === latest.treeSize) roots.set(tree.size, frontierRoot(tree));
  }
  const problems: string[] = [];
  if (tree.size < size) problems.push(`only ${tree.size} of ${size} entries could be read`);
  if (altered.length)
    problems.push(
      `entries at positions ${altered.slice(0, 20).join(', ')}${altered.length > 20 ? ', …' : ''} no longer hash to the leaf sealed for them`,
    );
  if (roots.get(saved.treeSize) !== saved.rootHash)
    problems.push(`the first ${saved.treeSize} entries, re-hashed, do not give the saved checkpoint's root`);
  if (roots.get(latest.treeSize) !== latest.rootHash)
    problems.push(`the first ${latest.treeSize} entries, re-hashed, do not give the latest checkpoint's root`);
  return {
    ok: problems.length === 0,
    check: 'full re-hash',
    detail: problems.length
      ? problems.join('; ')
      : `all ${tree.size - archived} entries re-hashed${archived ? ` (${archived} archived: their stored leaves used)` : ''}; both roots match`,
    ...(altered.length ? { positions: altered } : {}),
  };
}

const ROW_PAGE = 100;

/**
 * Reads every evidence table's rows in canonical form, page by page (the keyset bound is the key this verifier
 * computed of the last row, not one the registry suggests), re-hashes each and judges it against the events
 * `checker` was given.
 */
async function rehashRows(
  remote: Remote,
  checker: RowChecker,
  latest: Checkpoint,
  head: { treeSize: number; pending: number },
  archived: number,
): Promise<Finding> {
  const { evidenceTables: tables } = await remote.gql<{ evidenceTables: RowTable[] }>(
    '{ evidenceTables { name seeded key } }',
  );
  for (const t of tables) {
    let after: string | null = null;
    for (;;) {
      const { evidenceRows: page }: { evidenceRows: { rows: Record<string, unknown>[]; hasNextPage: boolean } } =
        await remote.gql(
          'query($t: String!, $after: String, $n: Int) { evidenceRows(table: $t, after: $after, first: $n) { rows hasNextPage } }',
          { t: t.name, after, n: ROW_PAGE },
        );
      const before: string | null = after;
      for (const row of page.rows) after = checker.check(t, row);
      // A page that does not move on ends the table (a registry that repeats itself gets its rows counted twice).
      if (!page.hasNextPage || !page.rows.length || after === before) break;
    }
  }
  // Changes sealed while the rows were read: their events may vouch for a row as it was read (never against one).
  const { auditLogHead: now } = await remote.gql<{ auditLogHead: { treeSize: number } }>(
    '{ auditLogHead { treeSize } }',
  );
  for await (const e of entries(remote, head.treeSize + 1, now.treeSize)) {
    const believed = rowHashesOf(e);
    if (believed?.rowHashes.length) checker.attestLate({ seq: believed.seq, position: e.position }, believed.rowHashes);
  }
  const r = checker.finish();
  const caveats = [
    ...(archived
      ? [
          `${archived} events were archived with their month: rows only they vouch for show as written by no event here; check those against the archive files`,
        ]
      : []),
    ...(head.treeSize > latest.treeSize
      ? [`${head.treeSize - latest.treeSize} of the events are not under a signed checkpoint yet`]
      : []),
    ...(now.treeSize > head.treeSize
      ? [`${now.treeSize - head.treeSize} events sealed while the rows were read vouch for rows written meanwhile`]
      : []),
    ...(head.pending
      ? [`${head.pending} events waited to be sealed: rows they wrote show as differences until they are`]
      : []),
  ];
  const unattested = r.unattested ? `; ${r.unattested} rows of seeded tables no event names` : '';
  return {
    ok: r.ok,
    check: 'evidence rows',
    detail: `${
      r.ok
        ? `${r.checked} rows of ${tables.length} tables re-hashed: each matches the newest event that wrote it${unattested}`
        : `${r.problemCount} of the evidence rows differ from the events that wrote them (${r.checked} re-hashed${unattested})`
    }${caveats.length ? ` (${caveats.join('; ')})` : ''}`,
    ...(r.problems.length ? { rows: r.problems } : {}),
  };
}

/** The report as a person reads it. */
export function formatReport(r: OfflineReport): string {
  const lines = [
    `Audit log of ${r.url}`,
    `saved checkpoint: ${r.saved.treeSize} events, root ${r.saved.rootHash}, signed ${r.saved.issuedAt}`,
    ...(r.latest
      ? [`latest checkpoint: ${r.latest.treeSize} events, root ${r.latest.rootHash}, signed ${r.latest.issuedAt}`]
      : []),
    ...(r.sealed !== undefined ? [`sealed now: ${r.sealed} events; waiting to be sealed: ${r.pending}`] : []),
    '',
    ...r.findings.flatMap((f) => [
      `${f.ok ? 'ok  ' : 'FAIL'}  ${f.check}: ${f.detail}`,
      ...(f.rows ?? []).map(
        (p) => `        ${p.table} ${p.key}: ${p.reason}${p.seq !== null ? ` (event number ${p.seq})` : ''}`,
      ),
    ]),
    '',
    r.ok ? 'VERIFIED: the log extends the saved checkpoint.' : 'NOT VERIFIED.',
  ];
  return lines.join('\n');
}
