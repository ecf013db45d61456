// Grants: the only thing that makes data reachable by a contractor; each route is judged by the transfer policy.
// When a grant counts ("in effect at time t") is defined once, in grant-status.ts.
import { and, asc, eq, gt, inArray, isNotNull, isNull, or, sql, type SQL } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Queryable, Tx } from '../db/client.js';
import {
  MECHANISMS,
  MECHANISMS_WITH_SCC_MODULE,
  PURPOSES,
  type Certification,
  type ContractorRole,
  type GrantStatusAt,
  type Purpose,
} from '../db/enums.js';
import {
  accessTokens,
  contractors,
  grantCategories,
  grants,
  offices,
  policyChanges,
  processingLocations,
} from '../db/tables.js';
import { InvalidStateError, NotFoundError, PolicyViolationError, ValidationError } from '../errors.js';
import type { MechanismChoice, MechanismOption, Route } from '../policy/transfer-rules.js';
import { judgeDestinations, judgePurposeCategories, type DestinationsCase } from '../policy/load.js';
import type { AuditEntry } from '../audit/write.js';
import { revokeTokens } from './access-tokens.js';
import { covers, knownCategories } from './categories.js';
import { assertMayReceive, lockContractor } from './contractor-status.js';
import { grantLive, grantNotEnded, grantStatusAt, grantStatusIs } from './grant-status.js';
import { publicId } from './ids.js';
import { findOffice } from './office-lookup.js';
import { write, type RegistryDeps, type Write } from './tx.js';
import { assertNotAfterToday, categoryKey, optionalText, parseInput, rowId as id, text } from './validation.js';

/** The relational-query `where` of the `grants` list: each filter given, the status as it reads at `at`. */
export function grantFilters(
  f: { contractorId?: number; officeId?: number; purpose?: Purpose | null; status?: GrantStatusAt | null },
  at: Date,
) {
  return {
    ...(f.contractorId ? { contractorId: f.contractorId } : {}),
    ...(f.officeId ? { officeId: f.officeId } : {}),
    ...(f.purpose ? { purpose: f.purpose } : {}),
    ...(f.status ? { RAW: (g: typeof grants) => grantStatusIs(f.status!, at, g) } : {}),
  };
}

/**
 * The countries of each contractor's processing locations (where it collects, transfers, stores or processes
 * data): with its own country, the destinations its grants are judged for.
 */
export async function locationCountries(
  db: Queryable,
  contractorIds: readonly number[],
): Promise<Map<number, string[]>> {
  const byContractor = new Map<number, string[]>(contractorIds.map((id) => [id, []]));
  if (!contractorIds.length) return byContractor;
  const rows = await db
    .select({ contractorId: processingLocations.contractorId, country: processingLocations.country })
    .from(processingLocations)
    .where(inArray(processingLocations.contractorId, [...new Set(contractorIds)]))
    .orderBy(asc(processingLocations.id));
  for (const r of rows) byContractor.get(r.contractorId)!.push(r.country);
  return byContractor;
}

/** The exporter's side of an onward hop: a processor passes data on as a processor, a controller as a controller. */
const exporterRoleOf = (role: ContractorRole): Route['exporterRole'] =>
  role === 'INDEPENDENT_CONTROLLER' ? 'CONTROLLER' : 'PROCESSOR';

/** The contractor a grant's data comes through: none for a grant from the office, the parent's for an onward one. */
export type GrantExporter = { country: string; role: ContractorRole } | null | undefined;

/**
 * The route a standing grant is judged on: from its office, or — an onward grant — from the contractor passing the
 * data on (its parent grant's), under the office's regime (GDPR Art. 44). Every path that judges a grant builds it
 * here: granting, the live-grant checks, re-papering and policy changes.
 */
export function grantRoute(
  officeCountry: string,
  through: GrantExporter,
  importer: { role: ContractorRole; certifications: readonly Certification[] },
  at: Date,
): Omit<Route, 'importerCountry'> {
  return {
    exporterCountry: through ? through.country : officeCountry,
    ...(through ? { originCountry: officeCountry } : {}),
    exporterRole: through ? exporterRoleOf(through.role) : 'CONTROLLER',
    importer: { kind: 'CONTRACTOR', role: importer.role, certifications: importer.certifications },
    context: 'GRANT',
    at,
  };
}

export const parentGrants = alias(grants, 'parent_grants');
export const parentContractors = alias(contractors, 'parent_contractors');

/** A recorded grant with everything its route is judged on (`grantRoute`, `grantDestinations`). */
export interface GrantOnRoute {
  grant: typeof grants.$inferSelect;
  officeCountry: string;
  contractor: { country: string; role: ContractorRole; certifications: Certification[] };
  /** An onward grant's parent grant; null for a grant from the office. */
  parent: typeof grants.$inferSelect | null;
  /** The contractor an onward grant's data comes through (its parent's); null for a grant from the office. */
  through: { id: number; country: string; role: ContractorRole } | null;
  /** The countries of the contractor's processing locations, in the order they were added. */
  locations: string[];
}

/**
 * The grants `where` selects (it may name `grants`, `offices`, `contractors`, `parentGrants` and
 * `parentContractors`), ordered by id, each with what its route is judged on: its office's country, its contractor,
 * an onward grant's parent and the contractor passing the data on, the contractor's processing locations. Every
 * path that judges recorded grants reads them here: the live-grant checks, re-papering options, a policy change's
 * impact. Two statements, whatever the number of grants.
 */
export async function grantsOnRoutes(db: Queryable, where: SQL | undefined): Promise<GrantOnRoute[]> {
  const rows = await db
    .select({
      grant: grants,
      officeCountry: offices.country,
      contractor: { country: contractors.country, role: contractors.role, certifications: contractors.certifications },
      parent: parentGrants,
      through: { id: parentContractors.id, country: parentContractors.country, role: parentContractors.role },
    })
    .from(grants)
    .innerJoin(offices, eq(offices.id, grants.officeId))
    .innerJoin(contractors, eq(contractors.id, grants.contractorId))
    .leftJoin(parentGrants, eq(parentGrants.id, grants.parentGrantId))
    .leftJoin(parentContractors, eq(parentContractors.id, parentGrants.contractorId))
    .where(where)
    .orderBy(asc(grants.id));
  const locations = await locationCountries(
    db,
    rows.map((r) => r.grant.contractorId),
  );
  return rows.map((r) => ({ ...r, locations: locations.get(r.grant.contractorId)! }));
}

/** The destinations a grant is judged for: its contractor's country, then each processing location's. */
export const grantDestinations = (g: { contractor: { country: string }; locations: readonly string[] }): string[] => [
  g.contractor.country,
  ...g.locations,
];

/**
 * A change to a contractor (country, role, certifications, a new processing location) or to an office (country)
 * moves the routes of its live grants — and, for a contractor, of the onward grants it passes data on under. Each
 * is judged again, to every destination, with the mechanism it records, as the registry will stand after the
 * change (a scheduled grant as of its validFrom); the change is refused with POLICY_VIOLATION naming the
 * destination that fails. The policy tables are loaded once for all of them.
 */
export async function checkLiveGrants(
  tx: Tx,
  at: Date,
  of: { contractorId: number } | { officeId: number },
  after: {
    contractor?: { country: string; role: ContractorRole; certifications: Certification[] };
    officeCountry?: string;
    /** A processing location the contractor is about to add. */
    newLocation?: string;
  },
): Promise<void> {
  const live = await grantsOnRoutes(
    tx,
    and(
      'contractorId' in of
        ? or(eq(grants.contractorId, of.contractorId), eq(parentGrants.contractorId, of.contractorId))
        : eq(grants.officeId, of.officeId),
      grantLive(at),
    ),
  );
  const changing = (contractorId: number | undefined) => 'contractorId' in of && contractorId === of.contractorId;
  const cases = live.map(({ grant: g, ...s }) => {
    const importer = (changing(g.contractorId) && after.contractor) || s.contractor;
    const officeCountry = after.officeCountry ?? s.officeCountry;
    // An onward grant's route starts at the processor that passes the data on, under the office's regime.
    const exporter = s.through && ((changing(s.through.id) && after.contractor) || s.through);
    return {
      route: grantRoute(officeCountry, exporter, importer, g.validFrom > at ? g.validFrom : at),
      destinations: [
        ...grantDestinations({ contractor: importer, locations: s.locations }),
        ...(after.newLocation && changing(g.contractorId) ? [after.newLocation] : []),
      ],
      choice: { mechanism: g.mechanism, sccModule: g.sccModule },
    };
  });
  const decisions = await judgeDestinations(tx, cases);
  decisions.forEach((decision, i) => {
    if (decision.allowed) return;
    const { grant: g, through } = live[i]!;
    throw new PolicyViolationError(
      cases[i]!.route.exporterCountry,
      decision.importerCountry,
      `active ${through ? 'onward ' : ''}grant ${publicId('Grant', g.id)} (${g.purpose}, ${g.mechanism}${g.sccModule ? ` module ${g.sccModule}` : ''}) would no longer be valid: ${decision.reason}; revoke it first`,
    );
  });
}

const grantInputSchema = z
  .object({
    contractorId: id,
    officeId: id.nullish(),
    parentGrantId: id.nullish(),
    categories: z.array(categoryKey).min(1, 'at least one category').max(50),
    purpose: z.enum(PURPOSES),
    validFrom: z.date().nullish(),
    validUntil: z.date().nullish(),
    mechanism: z.enum(MECHANISMS).nullish(),
    sccModule: z.number().int().min(1).max(4).nullish(),
    tiaReference: optionalText(200),
    tiaDate: z.string().nullish(),
  })
  .strict();

type GrantRow = typeof grants.$inferSelect;

/**
 * The grant an onward grant hangs on, locked for share (a concurrent revocation either commits first, and this
 * finds it revoked, or waits for this grant and then ends it too), checked against the sub-processor asking.
 */
async function parentGrantFor(
  tx: Tx,
  parentGrantId: number,
  sub: { id: number; legalName: string; parentContractorId: number | null },
  now: Date,
): Promise<{ grant: GrantRow; categories: string[] }> {
  const [parent] = await tx.select().from(grants).where(eq(grants.id, parentGrantId)).for('share');
  if (!parent) throw new NotFoundError('Grant', publicId('Grant', parentGrantId));
  const status = grantStatusAt(parent, now);
  if (status !== 'ACTIVE' && status !== 'SCHEDULED')
    throw new InvalidStateError(`An onward grant needs a live parent grant; this one is ${status}`, status);
  if (parent.contractorId !== sub.parentContractorId)
    throw ValidationError.field(
      'input.parentGrantId',
      `grant ${publicId('Grant', parent.id)} is not held by the contractor that engaged ${sub.legalName}`,
    );
  const categories = await tx
    .select({ key: grantCategories.categoryKey })
    .from(grantCategories)
    .where(eq(grantCategories.grantId, parent.id));
  return { grant: parent, categories: categories.map((c) => c.key) };
}

/**
 * Grants `categories` to a contractor from an office for a purpose, if the transfer policy allows the route. A
 * sub-processor receives data only onward, under a grant of the processor that engaged it (`parentGrantId`): same
 * office, the parent's purpose, categories and validity within the parent's, judged from the processor's country
 * to the sub-processor's places under the office's regime (SCC module 3 between processors).
 */
export async function grantDataAccess(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(grantInputSchema, input);
  if (data.sccModule != null && !MECHANISMS_WITH_SCC_MODULE.includes(data.mechanism!))
    throw ValidationError.field('input.sccModule', 'only with mechanism SCC or UK_ADDENDUM');
  if (data.officeId == null && data.parentGrantId == null)
    throw ValidationError.field('input.officeId', 'give the exporting office, or the parent grant of an onward grant');
  const keys = [...new Set(data.categories)];
  return write(deps, principal, async ({ tx, now, wrote }) => {
    const validFrom = data.validFrom ?? now;
    if (data.validUntil && data.validUntil <= validFrom)
      throw ValidationError.field('input.validUntil', 'must be after validFrom');
    if (data.validUntil && data.validUntil <= now)
      throw ValidationError.field('input.validUntil', 'must be in the future');
    assertNotAfterToday(data.tiaDate, 'input.tiaDate', now); // an assessment done, not one planned
    const contractor = await lockContractor(tx, data.contractorId, 'share');
    assertMayReceive(contractor, 'new grants');
    if (data.parentGrantId != null && contractor.role !== 'SUBPROCESSOR')
      throw ValidationError.field('input.parentGrantId', 'only a SUBPROCESSOR receives an onward grant');
    const parent =
      data.parentGrantId != null ? await parentGrantFor(tx, data.parentGrantId, contractor, now) : undefined;
    if (parent && data.officeId != null && data.officeId !== parent.grant.officeId)
      throw ValidationError.field('input.officeId', "an onward grant is from its parent grant's office");
    const office = await findOffice(tx, data.officeId ?? parent!.grant.officeId);
    const known = await knownCategories(tx, data.categories, 'input.categories');

    if (contractor.role === 'SUBPROCESSOR' && !parent) {
      // No contract runs from the office to a sub-processor: the data reaches it through the processor.
      const [engaging] = await tx
        .select({ id: contractors.id, legalName: contractors.legalName })
        .from(contractors)
        .where(eq(contractors.id, contractor.parentContractorId!));
      const through = await tx
        .select({ id: grants.id })
        .from(grants)
        .where(
          and(
            eq(grants.contractorId, contractor.parentContractorId!),
            eq(grants.officeId, office.id),
            eq(grants.purpose, data.purpose),
            grantLive(now),
          ),
        )
        .orderBy(asc(grants.id));
      throw new PolicyViolationError(
        office.country,
        contractor.country,
        `${contractor.legalName} is a sub-processor engaged by ${engaging!.legalName} (${publicId('Contractor', engaging!.id)}): it receives data only onward, under a grant to ${engaging!.legalName}; grant through it with parentGrantId${through.length ? ` (its live grants for ${data.purpose} from this office: ${through.map((g) => publicId('Grant', g.id)).join(', ')})` : ''}`,
      );
    }
    if (parent) {
      const p = parent.grant;
      if (data.purpose !== p.purpose)
        throw new PolicyViolationError(
          office.country,
          contractor.country,
          `an onward grant stays within its parent grant's purpose: ${publicId('Grant', p.id)} is for ${p.purpose}, not ${data.purpose}`,
        );
      const outside = keys.filter(
        (k) => !parent.categories.some((pk) => covers(pk, k, known.get(k)!.sensitivity === 'RESTRICTED')),
      );
      if (outside.length)
        throw new PolicyViolationError(
          office.country,
          contractor.country,
          `an onward grant stays within its parent grant's categories: ${publicId('Grant', p.id)} does not give ${outside.join(', ')}`,
        );
      if (validFrom < p.validFrom)
        throw ValidationError.field('input.validFrom', `not before the parent grant's (${p.validFrom.toISOString()})`);
      if (p.validUntil && data.validUntil && data.validUntil > p.validUntil)
        throw ValidationError.field('input.validUntil', `not after the parent grant's (${p.validUntil.toISOString()})`);
    }
    const outsidePurpose = await judgePurposeCategories(
      tx,
      data.purpose,
      keys.map((k) => known.get(k)!),
      validFrom,
    );
    if (outsidePurpose) throw new PolicyViolationError(office.country, contractor.country, outsidePurpose);

    // An onward grant's route starts at the processor passing the data on, under the office's regime.
    const exporter = parent && (await lockContractor(tx, parent.grant.contractorId, 'share'));
    const exporterCountry = exporter ? exporter.country : office.country;
    // Judged to the contractor's country and to each of its processing locations (locked with the contractor).
    const locations = await locationCountries(tx, [contractor.id]);
    // Judged at its start, and at each later instant a recorded policy change takes effect: a grant the policy
    // will no longer allow is refused now rather than suspended then.
    const changes = await tx
      .selectDistinct({ at: policyChanges.effectiveAt })
      .from(policyChanges)
      .where(and(isNull(policyChanges.appliedAt), gt(policyChanges.effectiveAt, validFrom)))
      .orderBy(asc(policyChanges.effectiveAt));
    const judged = await judgeDestinations(
      tx,
      [validFrom, ...changes.map((c) => c.at)].map((at) => ({
        route: grantRoute(office.country, exporter, contractor, at),
        destinations: [contractor.country, ...locations.get(contractor.id)!],
        choice: { mechanism: data.mechanism, sccModule: data.sccModule },
      })),
    );
    const decision = judged[0]!;
    if (!decision.allowed) throw new PolicyViolationError(exporterCountry, decision.importerCountry, decision.reason);
    judged.forEach((later, i) => {
      if (!later.allowed)
        throw new PolicyViolationError(
          exporterCountry,
          later.importerCountry,
          `from ${changes[i - 1]!.at.toISOString()} a recorded policy change no longer allows it: ${later.reason}`,
        );
    });

    const [row] = await tx
      .insert(grants)
      .values({
        contractorId: data.contractorId,
        officeId: office.id,
        parentGrantId: parent?.grant.id ?? null,
        purpose: data.purpose,
        validFrom,
        // An onward grant ends with its parent at the latest.
        validUntil: data.validUntil ?? parent?.grant.validUntil ?? null,
        mechanism: decision.mechanism,
        sccModule: decision.sccModule,
        tiaReference: data.tiaReference ?? null,
        tiaDate: data.tiaDate ?? null,
        crossBorder: decision.crossBorder,
        policyExplanation: decision.explanation,
        createdBy: principal.subject,
      })
      .returning();
    const categories = await tx
      .insert(grantCategories)
      .values(keys.map((categoryKey) => ({ grantId: row!.id, categoryKey })))
      .returning();
    wrote(grants, [row!]);
    wrote(grantCategories, categories);
    return {
      result: row!,
      audit: { action: 'grantDataAccess', entityType: 'Grant', entityId: row!.id, after: { ...row, categories: keys } },
    };
  });
}

/**
 * Ends the onward grants not yet ended under `parentIds` (live, scheduled or suspended by policy), at any depth, and the tokens their contractors read with under
 * their purposes: data that stops reaching a processor stops reaching its sub-processors. One statement for the
 * grants, one for the tokens.
 */
async function endOnwardGrants(w: Write, parentIds: readonly number[], reason: string): Promise<AuditEntry[]> {
  if (!parentIds.length) return [];
  const ids = sql.join(
    parentIds.map((p) => sql`${p}::int`),
    sql`, `,
  );
  const ended = await w.tx
    .update(grants)
    .set({ status: 'REVOKED', revokedAt: w.now, revocationReason: reason })
    .where(
      and(
        sql`${grants.id} in (with recursive chain(id) as (
          select g.id from grants g where g.parent_grant_id in (${ids})
          union select g.id from grants g join chain on g.parent_grant_id = chain.id)
        select id from chain)`,
        // Suspended by policy ones too: re-papered later, they would give data under an ended parent.
        grantNotEnded(w.now),
      ),
    )
    .returning({ id: grants.id, contractorId: grants.contractorId, purpose: grants.purpose });
  if (!ended.length) return [];
  w.wrote(grants, ended);
  await revokeTokens(
    w,
    or(
      ...ended.map((g) =>
        and(
          eq(accessTokens.contractorId, g.contractorId),
          sql`${accessTokens.purposes} @> array[${g.purpose}]::purpose[]`,
        ),
      ),
    ),
    reason,
  );
  return ended.map((g) => ({
    action: 'revokeGrant',
    entityType: 'Grant',
    entityId: g.id,
    after: { status: 'REVOKED', reason },
  }));
}

const revokeGrantSchema = z.object({ id, reason: text(1000) }).strict();

/** Ends a grant in effect or scheduled; the tokens reading under its purpose stop at once. */
export async function revokeGrant(deps: RegistryDeps, principal: Principal, input: unknown) {
  const { id: grantId, reason } = parseInput(revokeGrantSchema, input);
  return write(deps, principal, async (w) => {
    const { tx, now } = w;
    const [owner] = await tx.select({ contractorId: grants.contractorId }).from(grants).where(eq(grants.id, grantId));
    if (!owner) throw new NotFoundError('Grant', publicId('Grant', grantId));
    // The contractor first, as issueAccessToken takes it: a token issued concurrently under this grant
    // either commits before (and is revoked below) or waits and then finds the grant revoked.
    await lockContractor(tx, owner.contractorId);
    const [before] = await tx.select().from(grants).where(eq(grants.id, grantId)).for('update');
    if (!before) throw new NotFoundError('Grant', publicId('Grant', grantId));
    const status = grantStatusAt(before, now);
    if (status !== 'ACTIVE' && status !== 'SCHEDULED' && status !== 'SUSPENDED_BY_POLICY') {
      throw new InvalidStateError(
        `Only an ACTIVE, SCHEDULED or SUSPENDED_BY_POLICY grant can be revoked; this one is ${status}`,
        status,
      );
    }
    const [after] = await tx
      .update(grants)
      .set({ status: 'REVOKED', revokedAt: now, revocationReason: reason })
      .where(eq(grants.id, grantId))
      .returning();
    w.wrote(grants, [after!]);
    // Tokens that read under this grant's purpose stop at once, everywhere; reissue under the remaining grants.
    await revokeTokens(
      w,
      and(
        eq(accessTokens.contractorId, before.contractorId),
        sql`${accessTokens.purposes} @> array[${before.purpose}]::purpose[]`,
      ),
      `Grant revoked: ${reason}`,
    );
    const onward = await endOnwardGrants(w, [grantId], `Parent grant ${publicId('Grant', grantId)} revoked: ${reason}`);
    return {
      result: after!,
      audit: [{ action: 'revokeGrant', entityType: 'Grant', entityId: grantId, before, after }, ...onward],
    };
  });
}

const repaperGrantSchema = z
  .object({
    id,
    mechanism: z.enum(MECHANISMS),
    sccModule: z.number().int().min(1).max(4).nullish(),
    tiaReference: optionalText(200),
    tiaDate: z.string().nullish(),
  })
  .strict();

export type { MechanismOption };

/** The mechanisms tried when asking which would make a grant's route valid (derogations never serve a standing grant). */
export const STANDING_MECHANISMS: MechanismChoice[] = [
  { mechanism: 'ADEQUACY' },
  ...[1, 2, 3, 4].map((m) => ({ mechanism: 'SCC' as const, sccModule: m })),
  { mechanism: 'IDTA' },
  ...[1, 2, 3, 4].map((m) => ({ mechanism: 'UK_ADDENDUM' as const, sccModule: m })),
];

/** What a re-papering is judged on: the suspended grant, its office's country, its contractor and places. */
interface RepaperSubject {
  grant: Pick<GrantRow, 'validFrom' | 'suspendedByPolicyFrom'>;
  officeCountry: string;
  through: GrantExporter;
  contractor: { country: string; role: ContractorRole; certifications: readonly Certification[] };
  locations: readonly string[];
}

/**
 * The one judgement of a re-papering: the grant's route (through its parent's contractor for an onward grant) under
 * the policy in force from its suspension (or now, or its validFrom, whichever is latest), to every destination,
 * with the mechanism offered. repaperGrant applies it; repaperOptions tries every standing mechanism with it.
 */
function repaperCase(s: RepaperSubject, now: Date, choice: MechanismChoice): DestinationsCase {
  const at = [now, s.grant.suspendedByPolicyFrom ?? now, s.grant.validFrom].reduce((a, b) => (a > b ? a : b));
  return {
    route: grantRoute(s.officeCountry, s.through, s.contractor, at),
    destinations: grantDestinations(s),
    choice,
  };
}

/** How a grant waiting to be re-papered can be made valid again. */
export interface RepaperOptions {
  /** The mechanisms repaperGrant would accept for it (empty: none; revoke it). */
  mechanisms: MechanismOption[];
  /** An onward grant whose parent gives no data now (suspended too): the parent, to re-paper (or revoke) first. */
  parentFirst: GrantRow | null;
}

/**
 * For each of `grantIds` that waits to be re-papered (a policy change suspends it and it has not ended): the
 * mechanisms valid for it now, judged as repaperGrant judges them, and for an onward grant the parent to re-paper
 * first. Grants that wait for nothing are absent. A fixed number of statements for any number of grants.
 */
export async function repaperOptions(
  db: Queryable,
  grantIds: readonly number[],
  now: Date,
): Promise<Map<number, RepaperOptions>> {
  const result = new Map<number, RepaperOptions>();
  if (!grantIds.length) return result;
  const subjects = await grantsOnRoutes(db, and(inArray(grants.id, [...new Set(grantIds)]), awaitingRepaper(now)));
  if (!subjects.length) return result;
  const decisions = await judgeDestinations(
    db,
    subjects.flatMap((s) => STANDING_MECHANISMS.map((choice) => repaperCase(s, now, choice))),
  );
  subjects.forEach((s, i) => {
    const tried = decisions.slice(i * STANDING_MECHANISMS.length, (i + 1) * STANDING_MECHANISMS.length);
    const parentStatus = s.parent && grantStatusAt(s.parent, now);
    result.set(s.grant.id, {
      mechanisms: STANDING_MECHANISMS.filter((_, j) => tried[j]!.allowed).map((o) => ({
        mechanism: o.mechanism!,
        sccModule: o.sccModule ?? null,
      })),
      parentFirst: parentStatus && parentStatus !== 'ACTIVE' && parentStatus !== 'SCHEDULED' ? s.parent : null,
    });
  });
  return result;
}

/**
 * Re-papers a grant a policy change suspended: records a mechanism valid under the policy in force from the
 * suspension (or now, if later) and, if the route is allowed with it, lifts the suspension. Its tokens, revoked
 * when the suspension took effect, stay revoked: new ones are issued under the re-papered grant.
 */
export async function repaperGrant(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(repaperGrantSchema, input);
  if (data.sccModule != null && !MECHANISMS_WITH_SCC_MODULE.includes(data.mechanism))
    throw ValidationError.field('input.sccModule', 'only with mechanism SCC or UK_ADDENDUM');
  return write(deps, principal, async ({ tx, now, wrote }) => {
    assertNotAfterToday(data.tiaDate, 'input.tiaDate', now);
    const [owner] = await tx.select({ contractorId: grants.contractorId }).from(grants).where(eq(grants.id, data.id));
    if (!owner) throw new NotFoundError('Grant', publicId('Grant', data.id));
    const contractor = await lockContractor(tx, owner.contractorId, 'share');
    const [before] = await tx.select().from(grants).where(eq(grants.id, data.id)).for('update');
    if (!before) throw new NotFoundError('Grant', publicId('Grant', data.id));
    const status = grantStatusAt(before, now);
    if (
      !before.suspendedByPolicyFrom ||
      (status !== 'SUSPENDED_BY_POLICY' && status !== 'ACTIVE' && status !== 'SCHEDULED')
    )
      throw new InvalidStateError(
        `Only a grant a policy change suspends can be re-papered; this one is ${status}`,
        status,
      );
    const office = await findOffice(tx, before.officeId);
    // An onward grant runs on its parent's: re-papered only once the parent gives data again.
    const parent = before.parentGrantId != null ? await parentOf(tx, before.parentGrantId, now) : null;
    const locations = await locationCountries(tx, [contractor.id]);
    const [decision] = await judgeDestinations(tx, [
      repaperCase(
        {
          grant: before,
          officeCountry: office.country,
          through: parent,
          contractor,
          locations: locations.get(contractor.id)!,
        },
        now,
        { mechanism: data.mechanism, sccModule: data.sccModule },
      ),
    ]);
    if (!decision!.allowed)
      throw new PolicyViolationError(parent?.country ?? office.country, decision!.importerCountry, decision!.reason);
    const [after] = await tx
      .update(grants)
      .set({
        mechanism: decision!.mechanism,
        sccModule: decision!.sccModule,
        tiaReference: data.tiaReference ?? before.tiaReference,
        tiaDate: data.tiaDate ?? before.tiaDate,
        crossBorder: decision!.crossBorder,
        policyExplanation: decision!.explanation,
        suspendedByPolicyFrom: null,
        policySuspensionReason: null,
        suspendedByChangeId: null,
      })
      .where(eq(grants.id, data.id))
      .returning();
    wrote(grants, [after!]);
    return { result: after!, audit: { action: 'repaperGrant', entityType: 'Grant', entityId: data.id, before, after } };
  });
}

/**
 * The contractor an onward grant's data comes through, once its parent grant is in effect or scheduled and no
 * policy change suspends it, now or from a later instant (else the onward grant would outlive its parent's).
 */
async function parentOf(tx: Tx, parentGrantId: number, now: Date): Promise<{ country: string; role: ContractorRole }> {
  const [p] = await tx
    .select({
      grant: grants,
      awaiting: sql<boolean>`${awaitingRepaper(now)}`.mapWith(Boolean),
      country: contractors.country,
      role: contractors.role,
    })
    .from(grants)
    .innerJoin(contractors, eq(contractors.id, grants.contractorId))
    .where(eq(grants.id, parentGrantId))
    .for('share', { of: grants });
  const parentId = publicId('Grant', parentGrantId);
  const status = grantStatusAt(p!.grant, now);
  if (status !== 'ACTIVE' && status !== 'SCHEDULED')
    throw new InvalidStateError(`its parent grant ${parentId} is ${status}: re-paper or revoke it first`, status);
  if (p!.awaiting)
    throw new InvalidStateError(
      `its parent grant ${parentId} is suspended by a policy change from ${p!.grant.suspendedByPolicyFrom!.toISOString()}: re-paper or revoke it first`,
      status,
    );
  return { country: p!.country, role: p!.role };
}

/** SQL: the grant is suspended by a policy change (now or from a later instant) and waits to be re-papered. */
export const awaitingRepaper = (at: Date, g: typeof grants = grants) =>
  and(grantNotEnded(at, g), isNotNull(g.suspendedByPolicyFrom))!;

/** A terminated contractor keeps its history but no live access: its live grants end with it. */
export async function endGrantsOf(w: Write, contractorId: number, reason: string): Promise<AuditEntry[]> {
  const ended = await w.tx
    .update(grants)
    .set({ status: 'REVOKED', revokedAt: w.now, revocationReason: `Contractor terminated: ${reason}` })
    .where(and(eq(grants.contractorId, contractorId), grantNotEnded(w.now)))
    .returning({ id: grants.id });
  w.wrote(grants, ended);
  const onward = await endOnwardGrants(
    w,
    ended.map((g) => g.id),
    `Parent grant's contractor terminated: ${reason}`,
  );
  return [
    ...ended.map((g) => ({
      action: 'revokeGrant',
      entityType: 'Grant',
      entityId: g.id,
      after: { status: 'REVOKED', reason: 'contractor terminated' },
    })),
    ...onward,
  ];
}
