// Re-hashing evidence rows against the events that vouch for them, as pure code: what a row's content hash is, what
// its key is as text, and how the rows of the tables are judged against the row hashes the events carry. The
// service (rows.ts, over SQL) and the offline verifier (offline.ts, over HTTP) both run exactly this, so an
// auditor recomputes the same hashes the service wrote, without trusting its answer.
import { createHash } from 'node:crypto';
import { canonicalJson } from './chain.js';

/** One row an event vouches for: its table, its primary key (text), and its hash (null: the change deleted it). */
export interface RowHash {
  table: string;
  key: string;
  hash: string | null;
}

/** What a re-hash needs to know of an evidence table. */
export interface RowTable {
  name: string;
  /** Migrations put rows in it. */
  seeded: boolean;
  /** Primary-key columns (SQL names), in key order. */
  key: readonly string[];
}

/** The content hash of a canonical row: SHA-256 over the table's name and the row's canonical JSON. */
export function rowHash(table: string, canonicalRow: unknown): string {
  return createHash('sha256').update(table).update('\n').update(canonicalJson(canonicalRow)).digest('hex');
}

/** A primary key as text: the value of a one-column key, else the JSON array of the values as text. */
export function keyText(values: unknown[]): string {
  // A Date (a version's valid_from) as the canonical projection writes it: ISO UTC with microseconds.
  const text = values.map((v) => (v instanceof Date ? v.toISOString().replace(/Z$/, '000Z') : String(v)));
  return text.length === 1 ? text[0]! : JSON.stringify(text);
}

/** The key of a canonical row (column names, values as text). */
export const keyOfCanonical = (t: RowTable, row: Record<string, unknown>): string => keyText(t.key.map((k) => row[k]));

/** An event that carries row hashes: its number and, when the caller knows it, its place in the log. */
export interface AttestingEvent {
  seq: number;
  position?: number;
}

export interface RowProblem {
  table: string;
  key: string;
  /** The latest event naming the row; null when no event names it. */
  seq: number | null;
  /** That event's place in the log, when the verifier read it there. */
  position?: number;
  reason: string;
}

export interface RowVerification {
  ok: boolean;
  /** Evidence rows re-hashed. */
  checked: number;
  /** Rows of seeded tables (as the migrations left them) that no event names. */
  unattested: number;
  /** Rows named by an event that were archived with their month (in the archive's files, not here). */
  archived: number;
  /** The first problems found, in table order (at most `limit`), and how many there were in all. */
  problems: RowProblem[];
  problemCount: number;
}

const eventName = (e: AttestingEvent) =>
  e.position === undefined ? `event ${e.seq}` : `event at position ${e.position}`;
const id = (table: string, key: string) => `${table}\u0000${key}`;

type Attestation = { event: AttestingEvent; hash: string | null };

/** A row (or a row's absence) that did not match when it was read; `hash` is what was read (null: it is gone). */
interface Candidate {
  table: string;
  key: string;
  hash: string | null;
  kind: 'unattested' | 'unwritten' | 'deleted-but-exists' | 'altered' | 'gone';
  event?: AttestingEvent;
}

/**
 * Judges rows against the latest event (by number) naming each: feed it every event's row hashes (`attest`, in any
 * order), then every row of every evidence table (`check`), then `finish`. Names each row altered after its event,
 * deleted though its event says it exists, existing though no event wrote it, or gone though an event recorded it.
 *
 * The registry keeps changing while the rows are read: a row written after the events were read has its event
 * among those read afterwards. Those events (`attestLate`) can only clear a mismatch — the row as read is exactly
 * what such an event says — never make one: a row changed again after it was read is judged as it was read.
 */
export class RowChecker {
  private readonly expected = new Map<string, Attestation>();
  private readonly late = new Map<string, Attestation>();
  private readonly seen = new Set<string>();
  private readonly candidates: Candidate[] = [];
  private checked = 0;
  private unattested = 0;

  constructor(private readonly limit = 100) {}

  private static record(into: Map<string, Attestation>, event: AttestingEvent, hashes: readonly RowHash[]) {
    for (const h of hashes) {
      const k = id(h.table, h.key);
      const had = into.get(k);
      if (!had || had.event.seq < event.seq) into.set(k, { event, hash: h.hash });
    }
  }

  attest(event: AttestingEvent, hashes: readonly RowHash[]): void {
    RowChecker.record(this.expected, event, hashes);
  }

  /** Row hashes of an event read after the rows were: they may clear a mismatch, never make one. */
  attestLate(event: AttestingEvent, hashes: readonly RowHash[]): void {
    RowChecker.record(this.late, event, hashes);
  }

  /** The latest attestation read for a row of `table` (its event and the hash it carries), or undefined. */
  attestationOf(table: string, key: string): { event: AttestingEvent; hash: string | null } | undefined {
    return this.expected.get(id(table, key));
  }

  /** Rows of seeded tables no event names, so far. */
  get unattestedCount(): number {
    return this.unattested;
  }

  /** One canonical row of `t`; returns its key. */
  check(t: RowTable, row: Record<string, unknown>): string {
    const key = keyOfCanonical(t, row);
    const k = id(t.name, key);
    this.seen.add(k);
    this.checked += 1;
    const want = this.expected.get(k);
    const hash = rowHash(t.name, row);
    const candidate = (kind: Candidate['kind']) =>
      this.candidates.push({ table: t.name, key, hash, kind, ...(want ? { event: want.event } : {}) });
    if (!want) {
      if (t.seeded) {
        this.unattested += 1;
        candidate('unattested');
      } else candidate('unwritten');
    } else if (want.hash === null) candidate('deleted-but-exists');
    else if (hash !== want.hash) candidate('altered');
    return key;
  }

  /** Rows an event recorded that no `check` answered (so far): gone from their tables. */
  gone(): { table: string; key: string }[] {
    return [...this.expected]
      .filter(([k, v]) => v.hash !== null && !this.seen.has(k))
      .map(([k]) => {
        const [table, key] = k.split('\u0000') as [string, string];
        return { table, key };
      });
  }

  /**
   * The result; what no row answered was named by an event and is no longer in its table — unless it is in
   * `archived` (`table\u0000key`): archived with its month, on purpose.
   */
  finish(archived: ReadonlySet<string> = new Set()): RowVerification {
    const gone: Candidate[] = [...this.expected]
      .filter(([k, v]) => v.hash !== null && !this.seen.has(k) && !archived.has(k))
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, { event }]) => {
        const [table, key] = k.split('\u0000') as [string, string];
        return { table, key, hash: null, kind: 'gone', event };
      });
    const problems: RowProblem[] = [];
    let problemCount = 0;
    let unattested = this.unattested;
    for (const c of [...this.candidates, ...gone]) {
      const later = this.late.get(id(c.table, c.key));
      if (later && later.hash === c.hash) {
        if (c.kind === 'unattested') unattested -= 1;
        continue;
      }
      if (c.kind === 'unattested') continue;
      problemCount += 1;
      if (problems.length >= this.limit) continue;
      const e = c.event;
      const at = e && {
        seq: e.seq,
        ...(e.position === undefined ? {} : { position: e.position }),
      };
      const base = { table: c.table, key: c.key };
      if (c.kind === 'unwritten') problems.push({ ...base, seq: null, reason: 'no event wrote this row' });
      else if (c.kind === 'deleted-but-exists')
        problems.push({ ...base, ...at!, reason: `${eventName(e!)} deleted this row, yet it exists` });
      else if (c.kind === 'altered')
        problems.push({ ...base, ...at!, reason: `altered since ${eventName(e!)}: its hash differs` });
      else problems.push({ ...base, ...at!, reason: `deleted: ${eventName(e!)} recorded this row, it is gone` });
    }
    return {
      ok: problemCount === 0,
      checked: this.checked,
      unattested,
      archived: archived.size,
      problems,
      problemCount,
    };
  }
}
