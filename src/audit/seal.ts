// The sealer: gives committed audit events their place in the log, a moment after they were written, in batches.
// Writing transactions only insert their events (a number from an identity, gaps allowed, and the transaction's
// id, xid8); none waits for another. Exactly one sealer runs at a time across instances (a transaction-level
// advisory try-lock: an instance that does not get it skips its turn).
//
// Which events, in which order. The sealer takes events in (xid, seq) order, after the last sealed (xid, seq), and
// only from transactions older than the oldest still in flight in this database (HORIZON below).
// Every transaction below that horizon has ended, so its events are all visible (or rolled back) and none can turn
// up later below a sealed one: a transaction that commits late has an xid at or above the horizon and is sealed in
// a later batch, after everything sealed before it. Sealed positions are never changed (the tables are
// append-only). The price: one long-running writing transaction holds back the sealing of everything after it
// (not its writes: they never wait), bounded by the statement and request timeouts.
//
// For each event the sealer stores its leaf hash and hash-chain link (`audit_seals`) and every complete Merkle
// subtree the new leaves finish (`audit_merkle_nodes`), so a root or a proof reads O(log n) stored hashes. Every
// N events or T seconds it signs a checkpoint of the tree.
import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import { auditCheckpoints, auditMerkleNodes, auditSeals } from '../db/tables.js';
import { EVENT_COLUMNS, GENESIS_HASH, chainHash, eventFields, logEntry, type EventRow } from './chain.js';
import type { Checkpoint, CheckpointSigner } from './checkpoint.js';
import { appendLeaf, frontierKeys, frontierRoot, leafHash, type Frontier } from './merkle.js';
import { loadSubtrees } from './tree.js';

export interface SealSettings {
  signer: CheckpointSigner;
  /** The log's name in its checkpoints: the token issuer. */
  origin: string;
  /** A checkpoint once this many events were sealed since the last one... */
  checkpointEvery: number;
  /** ...or once this many seconds passed since it, if any event was sealed meanwhile. */
  checkpointSeconds: number;
  now: () => Date;
  /** Events per transaction. */
  batch?: number;
}

export interface SealRun {
  /** Events sealed by this run. */
  sealed: number;
  treeSize: number;
  /** Checkpoints signed by this run. */
  checkpoints: Checkpoint[];
  /** Another instance held the sealer's lock: nothing done. */
  busy: boolean;
}

const CHUNK = 1000;

async function insertChunked<T>(rows: T[], insert: (chunk: T[]) => Promise<unknown>) {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

/**
 * The oldest transaction id that may still write an event: the oldest in flight in this database (the sessions of
 * the service's role, the only writer of events, as pg_stat_activity shows them to it), else the next id to be
 * given. pg_snapshot_xmin would do, but it spans the whole cluster: any long transaction of another database would
 * hold sealing back. pg_stat_activity shows 32-bit ids; age() against this transaction's own id gives the 64-bit one.
 * Events are read in a later statement (a later snapshot): a transaction that ended meanwhile is visible there.
 */
const HORIZON = sql`select least(
    pg_snapshot_xmax(pg_current_snapshot())::text::numeric,
    (select min(pg_current_xact_id()::text::numeric - age(a.backend_xid)) from pg_stat_activity a
      where a.datname = current_database() and a.backend_xid is not null and a.pid <> pg_backend_pid())
  )::text as horizon`;

/** One batch in one transaction. */
async function sealBatch(tx: Tx, s: SealSettings, batch: number) {
  const [lock] = rowsOf<{ locked: boolean }>(
    await tx.execute(sql`select pg_try_advisory_xact_lock(hashtext('audit_sealer')) as locked`),
  );
  if (!lock?.locked) return { busy: true, sealed: 0, treeSize: 0, checkpoint: null };
  const [head] = rowsOf<{ position: string | number; hash: string; xid: string; seq: string | number }>(
    await tx.execute(
      sql`select position, hash, event_xid::text as xid, event_seq as seq from audit_seals order by position desc limit 1`,
    ),
  );
  const size = Number(head?.position ?? 0);
  const [{ horizon } = { horizon: '0' }] = rowsOf<{ horizon: string }>(await tx.execute(HORIZON));
  const events = rowsOf<EventRow & { xid: string }>(
    await tx.execute(sql`select ${sql.raw(EVENT_COLUMNS)}, e.xid::text as xid from audit_events e
      where (e.xid, e.seq) > (${head?.xid ?? '0'}::xid8, ${Number(head?.seq ?? 0)}) and e.xid < ${horizon}::xid8
      order by e.xid, e.seq limit ${batch}`),
  );
  const found = await loadSubtrees(tx, frontierKeys(size));
  const frontier: Frontier = {
    size,
    edge: frontierKeys(size).map(({ level, index }) => [level, index, found.get(`${level}:${index}`)!]),
  };
  if (frontier.edge.some(([, , h]) => h === undefined))
    throw new Error(`the stored Merkle tree lacks subtrees of the tree of ${size} events`);
  const seals: (typeof auditSeals.$inferInsert)[] = [];
  const nodes: (typeof auditMerkleNodes.$inferInsert)[] = [];
  let prevHash = head?.hash ?? GENESIS_HASH;
  for (const e of events) {
    const position = frontier.size + 1;
    const entry = logEntry(eventFields(position, e));
    const leaf = leafHash(entry);
    const hash = chainHash(prevHash, entry);
    seals.push({ position, eventSeq: Number(e.seq), eventXid: e.xid, leafHash: leaf, prevHash, hash });
    prevHash = hash;
    appendLeaf(frontier, leaf, (level, index, h) => nodes.push({ level, index, hash: h }));
  }
  await insertChunked(seals, (c) => tx.insert(auditSeals).values(c));
  await insertChunked(nodes, (c) => tx.insert(auditMerkleNodes).values(c));

  let checkpoint: Checkpoint | null = null;
  const [last] = await tx
    .select({ treeSize: auditCheckpoints.treeSize, issuedAt: auditCheckpoints.issuedAt })
    .from(auditCheckpoints)
    .orderBy(sql`${auditCheckpoints.treeSize} desc`)
    .limit(1);
  const now = s.now();
  const since = frontier.size - (last?.treeSize ?? 0);
  const due =
    since > 0 &&
    (!last || since >= s.checkpointEvery || now.getTime() - Date.parse(last.issuedAt) >= s.checkpointSeconds * 1000);
  if (due) {
    checkpoint = s.signer.sign({
      origin: s.origin,
      treeSize: frontier.size,
      rootHash: frontierRoot(frontier),
      issuedAt: now.toISOString(),
    });
    await tx.insert(auditCheckpoints).values(checkpoint);
  }
  return { busy: false, sealed: events.length, treeSize: frontier.size, checkpoint };
}

/** Seals every event that may be sealed now, in batches; signs checkpoints as they fall due. */
export async function sealPending(db: Db, s: SealSettings): Promise<SealRun> {
  const batch = s.batch ?? 2000;
  const run: SealRun = { sealed: 0, treeSize: 0, checkpoints: [], busy: false };
  for (;;) {
    const r = await db.transaction((tx) => sealBatch(tx, s, batch));
    if (r.busy) return { ...run, busy: true };
    run.sealed += r.sealed;
    run.treeSize = r.treeSize;
    if (r.checkpoint) run.checkpoints.push(r.checkpoint);
    if (r.sealed < batch) return run;
  }
}

/**
 * The sealer of one instance: runs every `intervalMs` (0: only when asked), never two runs at once; `sealNow`
 * waits for a run that starts after the call, so everything committed before it is sealed when it resolves
 * (unless another instance holds the lock).
 */
export function startSealer(db: Db, s: SealSettings, intervalMs: number, onError: (e: unknown) => void) {
  let running: Promise<SealRun> | undefined;
  let queued: Promise<SealRun> | undefined;
  const run = (): Promise<SealRun> => {
    if (queued) return queued;
    const start = () => {
      queued = undefined;
      running = sealPending(db, s).finally(() => {
        running = undefined;
      });
      return running;
    };
    if (!running) return start();
    queued = running.then(start, start);
    return queued;
  };
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (!running) run().catch(onError);
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    sealNow: run,
    async stop() {
      if (timer) clearInterval(timer);
      await (queued ?? running)?.catch(() => {});
    },
  };
}

export type Sealer = ReturnType<typeof startSealer>;
