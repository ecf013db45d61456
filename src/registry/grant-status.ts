// "A grant in effect at time t", once: stored status ACTIVE (not revoked, not marked expired), validFrom ≤ t,
// t before validUntil (or no end), and no policy change suspending it by t. Before validFrom a grant reads
// SCHEDULED and gives nothing; from validUntil it reads EXPIRED; from the effective instant of a policy change
// that no longer allows its route it reads SUSPENDED_BY_POLICY (until re-papered) and gives nothing. The TS
// function and the SQL predicate below say the same thing; every path that asks whether a grant counts (the status
// field and filter, token issue, the records fetch, recorded transfers, records of processing, the live-grant
// checks) uses one of them, with `t` from the app's clock — or a past instant, to judge a grant as it stood then.
// Whether a grant gives data now adds one condition on its chain (grantGivesData below): an onward grant gives
// data only through the processors above it, so only while each of them is ACTIVE.
// It imports nothing of the other aggregates, so each of them (tokens, records, transfers) can ask it.
import { and, eq, gt, inArray, isNotNull, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/client.js';
import type { GrantStatus, GrantStatusAt } from '../db/enums.js';
import { contractors, grants } from '../db/tables.js';
import { InvalidStateError } from '../errors.js';
import { publicId } from './ids.js';

/** The grants table or an alias of it (`alias(grants, 'g')`) in a hand-written statement. */
export interface GrantColumns {
  status: AnyPgColumn;
  validFrom: AnyPgColumn;
  validUntil: AnyPgColumn;
  suspendedByPolicyFrom: AnyPgColumn;
}

/** GrantColumns with what the chain above a grant is found by. */
export interface ChainColumns extends GrantColumns {
  parentGrantId: AnyPgColumn;
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

/**
 * SQL (an integer or null): the nearest processor above the grant on its chain — the contractor of its parent grant,
 * of that grant's parent, and so on — that is not ACTIVE. Null for a grant straight from an office, and for an
 * onward grant whose processors are all ACTIVE. The one definition of "held back by its processor": the predicate
 * below and the refusals that name the processor (heldBackBy) both read it.
 */
export const processorNotActiveAbove = (g: ChainColumns = grants): SQL<number | null> => sql`(
  with recursive up(parent_grant_id, contractor_id, depth) as (
    select p.parent_grant_id, p.contractor_id, 1 from grants p where p.id = ${g.parentGrantId}
    union all
    select p.parent_grant_id, p.contractor_id, up.depth + 1 from grants p join up on p.id = up.parent_grant_id
  )
  select c.id from up join contractors c on c.id = up.contractor_id where c.status <> 'ACTIVE'
  order by up.depth limit 1)`;

/**
 * SQL: the grant gives data at `at`: in effect (grantInEffect), and every processor above it on its chain is ACTIVE.
 * A processor SUSPENDED holds back the onward grants under it without changing them: made ACTIVE again, it gives
 * them back, with nothing to re-paper. Every path that hands data over or lets a token rest on a grant asks this.
 */
export const grantGivesData = (at: Date, g: ChainColumns = grants): SQL =>
  // A grant straight from an office (most) has no chain: the `or` stops before the chain's subquery runs.
  and(grantInEffect(at, g), sql`(${g.parentGrantId} is null or ${processorNotActiveAbove(g)} is null)`)!;

/** A processor above an onward grant that is not ACTIVE, holding it back: its contractor row. */
export type HoldingProcessor = typeof contractors.$inferSelect;

/**
 * The grants in effect at `at` of the given grants or contractors that a processor above them holds back
 * (processorNotActiveAbove), each with that processor (the nearest). One statement.
 */
async function heldBack(
  db: Queryable,
  of: { grantIds: readonly number[] } | { contractorIds: readonly number[] },
  at: Date,
): Promise<{ grantId: number; contractorId: number; processor: HoldingProcessor }[]> {
  const ids = [...new Set('grantIds' in of ? of.grantIds : of.contractorIds)];
  if (!ids.length) return [];
  return db
    .select({ grantId: grants.id, contractorId: grants.contractorId, processor: contractors })
    .from(grants)
    .innerJoin(contractors, sql`${contractors.id} = ${processorNotActiveAbove()}`)
    .where(and(inArray('grantIds' in of ? grants.id : grants.contractorId, ids), grantInEffect(at)))
    .orderBy(grants.id);
}

/** For each contractor with grants in effect held back at `at`: the processor holding back its first such grant. */
export async function heldBackBy(
  db: Queryable,
  contractorIds: readonly number[],
  at: Date,
): Promise<Map<number, HoldingProcessor>> {
  const result = new Map<number, HoldingProcessor>();
  for (const r of await heldBack(db, { contractorIds }, at))
    if (!result.has(r.contractorId)) result.set(r.contractorId, r.processor);
  return result;
}

/** For each of the grants in effect at `at` and held back then: the processor holding it back. */
export async function grantsHeldBack(
  db: Queryable,
  grantIds: readonly number[],
  at: Date,
): Promise<Map<number, HoldingProcessor>> {
  return new Map((await heldBack(db, { grantIds }, at)).map((r) => [r.grantId, r.processor]));
}

/** Refused: the data would reach the contractor through a processor that is not ACTIVE (its ID in `processorId`). */
export class ProcessorNotActiveError extends InvalidStateError {
  readonly processorId: string;
  constructor(p: HoldingProcessor) {
    const processorId = publicId('Contractor', p.id);
    super(
      `Its processor ${p.legalName} (${processorId}) is ${p.status}: the onward grants under it give no data until it is ACTIVE again`,
      p.status,
    );
    this.processorId = processorId;
  }
}

/** Throws ProcessorNotActiveError when a processor above the contractor's grants in effect holds them back. */
export async function assertNotHeldBack(db: Queryable, contractorId: number, at: Date): Promise<void> {
  const p = (await heldBackBy(db, [contractorId], at)).get(contractorId);
  if (p) throw new ProcessorNotActiveError(p);
}
