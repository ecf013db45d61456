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
  /** The first problems found, in table order (at most `limit`), and how many there were in all. */
  problems: RowProblem[];
  problemCount: number;
}

const eventName = (e: AttestingEvent) =>
  e.position === undefined ? `event ${e.seq}` : `event at position ${e.position}`;
const id = (table: string, key: string) => `${table}\u0000${key}`;

/**
 * Judges rows against the latest event (by number) naming each: feed it every event's row hashes (`attest`, in any
 * order), then every row of every evidence table (`check`), then `finish`. Names each row altered after its event,
 * deleted though its event says it exists, existing though no event wrote it, or gone though an event recorded it.
 */
export class RowChecker {
  private readonly expected = new Map<string, { event: AttestingEvent; hash: string | null }>();
  private readonly problems: RowProblem[] = [];
  private problemCount = 0;
  private checked = 0;
  private unattested = 0;

  constructor(private readonly limit = 100) {}

  /** Rows of seeded tables no event names, so far. */
  get unattestedCount(): number {
    return this.unattested;
  }

  attest(event: AttestingEvent, hashes: readonly RowHash[]): void {
    for (const h of hashes) {
      const k = id(h.table, h.key);
      const had = this.expected.get(k);
      if (!had || had.event.seq < event.seq) this.expected.set(k, { event, hash: h.hash });
    }
  }

  private problem(p: RowProblem) {
    this.problemCount += 1;
    if (this.problems.length < this.limit) this.problems.push(p);
  }

  private named(table: string, key: string, e: AttestingEvent, reason: string) {
    this.problem({ table, key, seq: e.seq, ...(e.position === undefined ? {} : { position: e.position }), reason });
  }

  /** One canonical row of `t`; returns its key. */
  check(t: RowTable, row: Record<string, unknown>): string {
    const key = keyOfCanonical(t, row);
    const k = id(t.name, key);
    const want = this.expected.get(k);
    this.expected.delete(k);
    this.checked += 1;
    if (!want) {
      if (t.seeded) this.unattested += 1;
      else this.problem({ table: t.name, key, seq: null, reason: 'no event wrote this row' });
    } else if (want.hash === null)
      this.named(t.name, key, want.event, `${eventName(want.event)} deleted this row, yet it exists`);
    else if (rowHash(t.name, row) !== want.hash)
      this.named(t.name, key, want.event, `altered since ${eventName(want.event)}: its hash differs`);
    return key;
  }

  /** The result; what no row answered was named by an event and is no longer in its table. */
  finish(): RowVerification {
    const gone = [...this.expected].filter(([, v]) => v.hash !== null).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    for (const [k, { event }] of gone) {
      const [table, key] = k.split('\u0000') as [string, string];
      this.named(table, key, event, `deleted: ${eventName(event)} recorded this row, it is gone`);
    }
    this.expected.clear();
    return {
      ok: this.problemCount === 0,
      checked: this.checked,
      unattested: this.unattested,
      problems: this.problems,
      problemCount: this.problemCount,
    };
  }
}
