// The audit log as staff read it: filtered, newest first, and the verification of its hash chain. Events are
// written only by the one write path (tx.ts → audit/write.ts); nothing here changes them.
import { z } from 'zod';
import { verifyAuditChain, type ChainVerification } from '../audit/verify.js';
import type { Queryable } from '../db/client.js';
import { parseInput } from './validation.js';

export type { ChainVerification };

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

/** Recomputes the whole hash chain and names the first broken event, if any. */
export const verifyAuditLog = (db: Queryable): Promise<ChainVerification> => verifyAuditChain(db);
