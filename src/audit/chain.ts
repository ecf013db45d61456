// What an audit event's hashes cover: one canonical serialisation of the event's fields (its log entry), used by
// the sealer, by verification inside the service and by the offline verifier alike. A field added to an event
// (a column of audit_events) goes into `EventFields` and `eventFields`, and so into every hash.
import { createHash } from 'node:crypto';
import type { RowHash } from './row-check.js';

export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth, so equal values always encode to equal bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** An event as the log holds it: its place in the log and everything it says. */
export interface EventFields {
  /** Place in the log, from 1. */
  position: number;
  /** Number given when written (order of writing, gaps allowed). */
  seq: number;
  occurredAt: string;
  actor: string;
  actorRole: string;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  /**
   * The content hashes of the evidence rows the change wrote (src/audit/rows.ts). In the entry only when there are
   * some, so events without rows (and every event written before the column) hash as before.
   */
  rowHashes?: readonly RowHash[];
}

/**
 * The columns of an event as they are hashed, for raw SQL over `audit_events` (alias `e`): occurred_at
 * rendered exactly as it was written (ISO 8601, milliseconds, Z).
 */
export const EVENT_COLUMNS = `e.seq, to_char(e.occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at,
  e.actor, e.actor_role, e.action, e.entity_type, e.entity_id, e.before, e.after, e.row_hashes`;

export interface EventRow {
  seq: string | number;
  occurred_at: string;
  actor: string;
  actor_role: string;
  action: string;
  entity_type: string;
  entity_id: string;
  before: unknown;
  after: unknown;
  /** jsonb; a driver may hand it over as text. */
  row_hashes?: RowHash[] | string | null;
}

function rowHashesOf(v: EventRow['row_hashes']): { rowHashes?: RowHash[] } {
  const rows = (typeof v === 'string' ? JSON.parse(v) : v) as RowHash[] | null | undefined;
  return rows?.length ? { rowHashes: rows } : {};
}

export function eventFields(position: number, r: EventRow): EventFields {
  return {
    position,
    seq: Number(r.seq),
    occurredAt: r.occurred_at,
    actor: r.actor,
    actorRole: r.actor_role,
    action: r.action,
    entityType: r.entity_type,
    entityId: r.entity_id,
    before: r.before ?? null,
    after: r.after ?? null,
    ...rowHashesOf(r.row_hashes),
  };
}

/** The log entry of an event: the bytes its Merkle leaf hashes (RFC 9162: leaf = SHA-256(0x00 || entry)). */
export function logEntry(e: EventFields): string {
  return canonicalJson({
    ...e,
    before: e.before ?? null,
    after: e.after ?? null,
    rowHashes: e.rowHashes?.length ? e.rowHashes : undefined,
  });
}

/** The hash chain: each link covers the previous link and the entry. */
export function chainHash(prevHash: string, entry: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(entry).digest('hex');
}
