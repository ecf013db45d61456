// A contractor's status lifecycle and what each status allows, once. Every aggregate that touches a contractor
// (its record, grants, obligations, tokens, transfers) locks it here and asks here whether the change may happen.
import { eq } from 'drizzle-orm';
import type { ContractorStatus } from '../db/enums.js';
import type { Queryable } from '../db/client.js';
import { contractors } from '../db/tables.js';
import { InvalidStateError, NotFoundError } from '../errors.js';
import { publicId } from './ids.js';

export type ContractorRow = typeof contractors.$inferSelect;

/** Allowed status moves; anything else is INVALID_STATE. TERMINATED is final. */
export const STATUS_MOVES: Record<ContractorStatus, readonly ContractorStatus[]> = {
  ONBOARDING: ['ACTIVE', 'TERMINATED'],
  ACTIVE: ['SUSPENDED', 'TERMINATED'],
  SUSPENDED: ['ACTIVE', 'TERMINATED'],
  TERMINATED: [],
};

/** The contractor row as it reads now, unlocked (for a question, not a change), or NOT_FOUND. */
export async function findContractor(db: Queryable, id: number): Promise<ContractorRow> {
  const [row] = await db.select().from(contractors).where(eq(contractors.id, id));
  if (!row) throw new NotFoundError('Contractor', publicId('Contractor', id));
  return row;
}

/**
 * The contractor row, locked until the transaction ends: `update` for a change to it or to what hangs on it
 * (grants, tokens, obligations), `share` to read it as the condition of a change elsewhere (a grant or transfer to it).
 */
export async function lockContractor(
  tx: Queryable,
  id: number,
  mode: 'update' | 'share' = 'update',
): Promise<ContractorRow> {
  const [row] = await tx.select().from(contractors).where(eq(contractors.id, id)).for(mode);
  if (!row) throw new NotFoundError('Contractor', publicId('Contractor', id));
  return row;
}

/** TERMINATED is final: the record, its locations and obligations stay as they were. */
export function assertMayChange(c: Pick<ContractorRow, 'status'>, what = 'be changed'): void {
  if (c.status === 'TERMINATED') throw new InvalidStateError(`A TERMINATED contractor cannot ${what}`, c.status);
}

/** A SUSPENDED or TERMINATED contractor receives nothing new: no grant, no transfer. */
export function assertMayReceive(c: Pick<ContractorRow, 'status'>, what: string): void {
  if (c.status === 'SUSPENDED' || c.status === 'TERMINATED')
    throw new InvalidStateError(`A ${c.status} contractor cannot receive ${what}`, c.status);
}

/** Tokens open the registry to the contractor itself: only while it is ACTIVE (also for a token issued before). */
export const mayHoldTokens = (c: Pick<ContractorRow, 'status'>): boolean => c.status === 'ACTIVE';

export function assertMayHoldTokens(c: Pick<ContractorRow, 'status'>): void {
  if (!mayHoldTokens(c))
    throw new InvalidStateError(`Tokens are issued only to ACTIVE contractors; this one is ${c.status}`, c.status);
}
