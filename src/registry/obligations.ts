// Confidentiality obligations per contractor (GDPR Art. 28(3)(a)–(h)) and their acknowledgement by the contractor.
// "Current on a day" (effective, not yet expired) is defined here once, as a function and as the SQL predicate
// that says the same thing; the records fetch (an unacknowledged current obligation blocks it) and the records of
// processing (current security measures) use it too.
import { and, eq, gt, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { OBLIGATION_KINDS } from '../db/enums.js';
import { obligations } from '../db/tables.js';
import { ForbiddenError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { assertMayChange, lockContractor } from './contractor-status.js';
import { publicId } from './ids.js';
import { write, type RegistryDeps } from './tx.js';
import { dayOf, optionalText, parseInput, rowId, text } from './validation.js';

export type ObligationRow = typeof obligations.$inferSelect;

/** In force on `day` (YYYY-MM-DD): effective from then or earlier, and not expired by then. */
export const isCurrentOn = (o: Pick<ObligationRow, 'effectiveFrom' | 'expiresOn'>, day: string): boolean =>
  o.effectiveFrom <= day && (!o.expiresOn || o.expiresOn > day);

/** The obligations table or an alias of it (`alias(obligations, 'ob')`) in a hand-written statement. */
export interface ObligationColumns {
  effectiveFrom: AnyPgColumn;
  expiresOn: AnyPgColumn;
}

/** SQL: the obligation is current on `day`, exactly when isCurrentOn says so. */
export const currentOn = (day: string, o: ObligationColumns = obligations): SQL =>
  and(lte(o.effectiveFrom, day), or(isNull(o.expiresOn), gt(o.expiresOn, day)))!;

/**
 * The relational-query `where` of the `obligations` list: one contractor's, those not yet acknowledged, and those
 * whose expiry or review date falls within `dueWithinDays` of `now` (or has passed).
 */
export function obligationFilters(
  f: { contractorId?: number; dueWithinDays?: number | null; unacknowledgedOnly?: boolean | null },
  now: Date,
) {
  if (f.dueWithinDays != null && (f.dueWithinDays < 0 || f.dueWithinDays > 3650))
    throw ValidationError.field('dueWithinDays', 'must be between 0 and 3650');
  const horizon = f.dueWithinDays != null ? dayOf(new Date(now.getTime() + f.dueWithinDays * 86_400_000)) : undefined;
  return {
    ...(f.contractorId ? { contractorId: f.contractorId } : {}),
    ...(f.unacknowledgedOnly ? { acknowledgedAt: { isNull: true as const } } : {}),
    ...(horizon
      ? { RAW: (o: typeof obligations) => sql`(${o.expiresOn} <= ${horizon} or ${o.reviewDueOn} <= ${horizon})` }
      : {}),
  };
}

const addObligationSchema = z
  .object({
    contractorId: rowId,
    kind: z.enum(OBLIGATION_KINDS),
    text: text(5000),
    sourceDocument: text(300),
    clause: optionalText(100),
    breachNotificationHours: z.number().int().min(1).max(720).nullish(),
    effectiveFrom: z.string(),
    expiresOn: z.string().nullish(),
    reviewDueOn: z.string().nullish(),
  })
  .strict();

/** A new obligation of a contractor that may still change (not TERMINATED). */
export async function addObligation(deps: RegistryDeps, principal: Principal, input: unknown): Promise<ObligationRow> {
  const data = parseInput(addObligationSchema, input);
  if ((data.kind === 'BREACH_NOTIFICATION') !== (data.breachNotificationHours != null)) {
    throw ValidationError.field(
      'input.breachNotificationHours',
      data.kind === 'BREACH_NOTIFICATION' ? 'required for BREACH_NOTIFICATION' : 'only for BREACH_NOTIFICATION',
    );
  }
  if (data.expiresOn && data.expiresOn <= data.effectiveFrom)
    throw ValidationError.field('input.expiresOn', 'must be after effectiveFrom');
  if (data.reviewDueOn && data.reviewDueOn < data.effectiveFrom)
    throw ValidationError.field('input.reviewDueOn', 'must not be before effectiveFrom');
  return write(deps, principal, async ({ tx, wrote }) => {
    assertMayChange(await lockContractor(tx, data.contractorId), 'take new obligations');
    const [row] = await tx.insert(obligations).values(data).returning();
    wrote(obligations, [row!]);
    return {
      result: row!,
      audit: { action: 'addObligation', entityType: 'Obligation', entityId: row!.id, after: row },
    };
  });
}

const acknowledgeObligationSchema = z.object({ id: rowId }).strict();

/** The contractor acknowledges one of its own obligations, with its own token; once. */
export async function acknowledgeObligation(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<ObligationRow> {
  const { id } = parseInput(acknowledgeObligationSchema, input);
  if (principal.kind !== 'contractor') throw new ForbiddenError('Only the contractor can acknowledge its obligations');
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const [before] = await tx.select().from(obligations).where(eq(obligations.id, id)).for('update');
    // Another contractor's obligation reads as not found: its existence is not disclosed.
    if (!before || before.contractorId !== principal.contractorId)
      throw new NotFoundError('Obligation', publicId('Obligation', id));
    if (before.acknowledgedAt) throw new InvalidStateError('Already acknowledged', 'ACKNOWLEDGED');
    const [after] = await tx
      .update(obligations)
      .set({ acknowledgedBy: principal.subject, acknowledgedAt: now })
      .where(eq(obligations.id, id))
      .returning();
    wrote(obligations, [after!]);
    return {
      result: after!,
      audit: { action: 'acknowledgeObligation', entityType: 'Obligation', entityId: id, before, after },
    };
  });
}
