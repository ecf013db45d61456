// "A grant in effect at time t", once: stored status ACTIVE (not revoked, not marked expired), validFrom ≤ t,
// t before validUntil (or no end), and no policy change suspending it by t. Before validFrom a grant reads
// SCHEDULED and gives nothing; from validUntil it reads EXPIRED; from the effective instant of a policy change
// that no longer allows its route it reads SUSPENDED_BY_POLICY (until re-papered) and gives nothing. The TS
// function and the SQL predicate below say the same thing; every path that asks whether a grant counts (the status
// field and filter, token issue, the records fetch, recorded transfers, records of processing, the live-grant
// checks) uses one of them, with `t` from the app's clock — or a past instant, to judge a grant as it stood then.
// It imports nothing of the other aggregates, so each of them (tokens, records, transfers) can ask it.
import { and, eq, gt, isNotNull, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { GrantStatus, GrantStatusAt } from '../db/enums.js';
import { grants } from '../db/tables.js';

/** The grants table or an alias of it (`alias(grants, 'g')`) in a hand-written statement. */
export interface GrantColumns {
  status: AnyPgColumn;
  validFrom: AnyPgColumn;
  validUntil: AnyPgColumn;
  suspendedByPolicyFrom: AnyPgColumn;
}

export function grantStatusAt(
  g: { status: GrantStatus; validFrom: Date; validUntil: Date | null; suspendedByPolicyFrom: Date | null },
  at: Date,
): GrantStatusAt {
  if (g.status !== 'ACTIVE') return g.status;
  if (g.validUntil && g.validUntil <= at) return 'EXPIRED';
  if (g.suspendedByPolicyFrom && g.suspendedByPolicyFrom <= at) return 'SUSPENDED_BY_POLICY';
  if (g.validFrom > at) return 'SCHEDULED';
  return 'ACTIVE';
}

/** SQL: the grant reads `status` at `at` — exactly when grantStatusAt says so. */
export function grantStatusIs(status: GrantStatusAt, at: Date, g: GrantColumns = grants): SQL {
  const notEnded = or(isNull(g.validUntil), gt(g.validUntil, at))!;
  const notSuspended = or(isNull(g.suspendedByPolicyFrom), gt(g.suspendedByPolicyFrom, at))!;
  switch (status) {
    case 'ACTIVE':
      return and(eq(g.status, 'ACTIVE'), lte(g.validFrom, at), notEnded, notSuspended)!;
    case 'SCHEDULED':
      return and(eq(g.status, 'ACTIVE'), gt(g.validFrom, at), notEnded, notSuspended)!;
    case 'SUSPENDED_BY_POLICY':
      return and(
        eq(g.status, 'ACTIVE'),
        notEnded,
        isNotNull(g.suspendedByPolicyFrom),
        lte(g.suspendedByPolicyFrom, at),
      )!;
    case 'EXPIRED':
      return or(eq(g.status, 'EXPIRED'), and(eq(g.status, 'ACTIVE'), lte(g.validUntil, at)))!;
    case 'REVOKED':
      return eq(g.status, 'REVOKED');
  }
}

/**
 * SQL: the status the grant reads at `at`, as text — grantStatusAt's answer, made of the predicates above (they
 * exclude one another and cover every stored status), for a statement that returns the status itself.
 */
export function grantStatusAtSql(at: Date, g: GrantColumns = grants): SQL {
  const order = ['REVOKED', 'EXPIRED', 'SUSPENDED_BY_POLICY', 'SCHEDULED', 'ACTIVE'] as const;
  return sql`(case ${sql.join(
    order.map((s) => sql`when ${grantStatusIs(s, at, g)} then ${sql.raw(`'${s}'`)}`),
    sql` `,
  )} end)`;
}

/** SQL: the grant is in effect at `at` and gives what it names. */
export const grantInEffect = (at: Date, g: GrantColumns = grants): SQL => grantStatusIs('ACTIVE', at, g);

/**
 * SQL: the grant has not ended and is not suspended: in effect or scheduled. A change to its contractor or office
 * must keep such a grant's route valid.
 */
export const grantLive = (at: Date, g: GrantColumns = grants): SQL =>
  or(grantStatusIs('ACTIVE', at, g), grantStatusIs('SCHEDULED', at, g))!;

/** SQL: the grant has not ended (not revoked, not expired): live, or suspended by policy and waiting to be re-papered. */
export const grantNotEnded = (at: Date, g: GrantColumns = grants): SQL =>
  and(eq(g.status, 'ACTIVE'), or(isNull(g.validUntil), gt(g.validUntil, at)))!;
