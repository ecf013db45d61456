// When a contractor's obligation is in force, once: from its effectiveFrom day up to (not including) its expiresOn
// day, judged on the registry's clock. The records fetch refuses a contractor with an unacknowledged obligation in
// force; the records of processing list the security measures in force; the Obligation type shows it.
import { and, gt, isNull, lte, or, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { obligations } from '../db/tables.js';
import { dayOf } from './validation.js';

/** The obligations table or an alias of it, in a hand-written statement or a relational-query `RAW` filter. */
export interface ObligationColumns { effectiveFrom: AnyPgColumn; expiresOn: AnyPgColumn }

export function obligationInForceAt(o: { effectiveFrom: string; expiresOn: string | null }, at: Date): boolean {
  const day = dayOf(at);
  return o.effectiveFrom <= day && (!o.expiresOn || o.expiresOn > day);
}

/** SQL: the obligation is in force at `at` — exactly when obligationInForceAt says so. */
export function obligationInForce(at: Date, o: ObligationColumns = obligations): SQL {
  const day = dayOf(at);
  return and(lte(o.effectiveFrom, day), or(isNull(o.expiresOn), gt(o.expiresOn, day)))!;
}
