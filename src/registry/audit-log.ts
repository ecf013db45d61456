// The audit log as staff read it: filtered, newest first, and the verification of its hash chain and of the
// evidence rows its events vouch for. Events are written only by the one write path (tx.ts → audit/write.ts);
// nothing here changes them.
import { z } from 'zod';
import { verifyEvidenceRows, type RowVerification } from '../audit/rows.js';
import { verifyAuditChain, type ChainVerification } from '../audit/verify.js';
import type { Queryable } from '../db/client.js';
import { parseInput } from './validation.js';

/** The chain's verification, and the rows': `ok` only when both hold. */
export interface AuditLogVerification extends ChainVerification {
  rows: RowVerification;
}

const auditLogFilterSchema = z
  .object({
    actor: z.string().max(300).nullish(),
    entityType: z.string().max(100).nullish(),
    entityId: z.string().max(200).nullish(),
    from: z.date().nullish(),
    to: z.date().nullish(),
  })
  .strict();

/** The relational-query `where` of the `auditLog` list: actor, entity (type and optionally id), time range [from, to). */
export function auditLogFilters(args: unknown) {
  const f = parseInput(auditLogFilterSchema, args, 'args');
  return {
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.entityType ? { entityType: f.entityType } : {}),
    ...(f.entityId ? { entityId: f.entityId } : {}),
    ...(f.from || f.to
      ? {
          occurredAt: { ...(f.from ? { gte: f.from.toISOString() } : {}), ...(f.to ? { lt: f.to.toISOString() } : {}) },
        }
      : {}),
  };
}

/**
 * Recomputes the whole hash chain and names the first broken event, if any; then re-hashes every evidence row
 * against the latest event naming it and names each row that differs, is gone, or was written by no event.
 */
export async function verifyAuditLog(db: Queryable): Promise<AuditLogVerification> {
  const chain = await verifyAuditChain(db);
  const rows = await verifyEvidenceRows(db);
  return { ...chain, ok: chain.ok && rows.ok, rows };
}
