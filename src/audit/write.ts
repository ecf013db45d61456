// Writing audit events, inside the transaction of the change they record. Changes reach it only
// through the registry's one write path (src/registry/tx.ts), so no change is without its event.
import type { Principal } from '../auth/principal.js';
import type { Tx } from '../db/client.js';
import { auditEvents } from '../db/tables.js';
import type { RowHash } from './row-check.js';

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string | number;
  before?: unknown;
  after?: unknown;
  /** The evidence rows the change wrote, hashed as stored (set by write() in src/registry/tx.ts). */
  rowHashes?: RowHash[];
}

function actorOf(principal: Principal): { actor: string; actorRole: string } {
  return principal.kind === 'staff'
    ? { actor: principal.subject, actorRole: principal.role }
    : { actor: principal.subject, actorRole: 'CONTRACTOR' };
}

/** JSON-safe copy (dates → ISO strings), so what is hashed is exactly what jsonb stores and returns. */
const plain = (v: unknown) => (v === undefined ? null : JSON.parse(JSON.stringify(v)));

/**
 * Inserts the change's events, at the change's instant `at` (the app's clock, as the history versions it writes:
 * it also picks the month partition). Nothing is locked and nothing read: each event takes a number from the
 * table's identity and records its transaction's id; the sealer (seal.ts) gives it its place in the log after the
 * commit.
 */
export async function appendAuditEvents(tx: Tx, principal: Principal, entries: AuditEntry[], at: Date): Promise<void> {
  if (!entries.length) return;
  const { actor, actorRole } = actorOf(principal);
  const occurredAt = at.toISOString();
  await tx.insert(auditEvents).values(
    entries.map((e) => ({
      occurredAt,
      actor,
      actorRole,
      action: e.action,
      entityType: e.entityType,
      entityId: String(e.entityId),
      before: plain(e.before),
      after: plain(e.after),
      rowHashes: e.rowHashes ?? [],
    })),
  );
}
