// Appending to the hash-chained audit log, inside the transaction of the change it records. Changes reach it only
// through the registry's one write path (src/registry/tx.ts), so no change is without its event.
import { desc, sql } from 'drizzle-orm';
import type { Principal } from '../auth/principal.js';
import type { Tx } from '../db/client.js';
import { auditEvents } from '../db/tables.js';
import { GENESIS_HASH, eventHash } from './chain.js';
import type { RowHash } from './rows.js';

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

export async function appendAuditEvents(tx: Tx, principal: Principal, entries: AuditEntry[]): Promise<void> {
  if (!entries.length) return;
  // One writer at a time extends the chain: no forks, no gaps. Held only until this transaction ends.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('audit_events'))`);
  const [head] = await tx
    .select({ seq: auditEvents.seq, hash: auditEvents.hash })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  let seq = head?.seq ?? 0;
  let prevHash = head?.hash ?? GENESIS_HASH;
  const { actor, actorRole } = actorOf(principal);
  const occurredAt = new Date().toISOString();
  const rows = entries.map((e) => {
    seq += 1;
    const fields = {
      seq,
      occurredAt,
      actor,
      actorRole,
      action: e.action,
      entityType: e.entityType,
      entityId: String(e.entityId),
      before: plain(e.before),
      after: plain(e.after),
      rowHashes: e.rowHashes ?? [],
    };
    const hash = eventHash(prevHash, fields);
    const row = { ...fields, prevHash, hash };
    prevHash = hash;
    return row;
  });
  await tx.insert(auditEvents).values(rows);
}
