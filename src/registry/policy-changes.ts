// Policy changes: the transfer policy as versioned data, changed by compliance staff with a reason and an
// effective instant. A change closes the version in force at that instant and writes the next (valid-time rows), so
// the policy in force at any instant stays readable. Its impact — the grants whose routes it no longer allows, the
// tokens resting on them, the contractors, the recent transfers on those routes — is computed by one code path
// for the preview (in a transaction that is rolled back: nothing is written) and for the apply (committed). From the
// effective instant the grants it breaks read SUSPENDED_BY_POLICY (grant-status.ts); their tokens are revoked then:
// at once for a change effective now, or by the scheduler (policy-scheduler.ts) when that instant comes.
import { and, asc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { Queryable, Tx } from '../db/client.js';
import { CERTIFICATIONS, DEROGATIONS, PURPOSES, type Mechanism } from '../db/enums.js';
import { rowsOf, onlyRow } from '../db/rows.js';
import {
  accessTokens,
  adequacyDecisions,
  contractors,
  dataCategories,
  derogationLimits,
  grantCategories,
  grants,
  jurisdictionMembers,
  jurisdictions,
  offices,
  policyChanges,
  processingLocations,
  purposeCategories,
  routeRestrictions,
} from '../db/tables.js';
import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { endsAfter, inForce, loadDerogationLimits, loadPolicy, loadPurposeLimits } from '../policy/load.js';
import { decidePurposeCategories } from '../policy/purpose-limits.js';
import {
  beyondOccasional,
  decideDestinations,
  derogationLimitFor,
  type DerogationLimit,
} from '../policy/transfer-rules.js';
import { revokeTokens, tokenLive, tokenTime, type AccessTokenRow } from './access-tokens.js';
import { knownCategories } from './categories.js';
import { derogationUse, type DerogationKey } from './derogation-limits.js';
import { publicId } from './ids.js';
import { grantNotEnded } from './grant-status.js';
import {
  grantDestinations,
  grantRoute,
  grantsOnRoutes,
  parentContractors,
  STANDING_MECHANISMS,
  type GrantOnRoute,
  type MechanismOption,
} from './grants.js';

export type { MechanismOption } from './grants.js';
import { write, type RegistryDeps, type Write } from './tx.js';
import { categoryKey, country, optionalText, parseInput, rowId, text } from './validation.js';

/** PostgreSQL NOTIFY channel: a change effective later was recorded; each instance's scheduler re-reads what is due. */
export const POLICY_CHANGES_CHANNEL = 'registry_policy_changes';

/** How far back the preview counts the transfers on the routes a change breaks. */
export const RECENT_TRANSFER_DAYS = 90;

const jurisdictionCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{1,19}$/, 'must be an upper-case code such as CH_FADP (2–20 letters, digits, _)');
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)), 'must be a real date');
const adequacyRef = z.object({ jurisdiction: jurisdictionCode, country }).strict();
const derogationKey = z
  .object({
    derogation: z.enum(DEROGATIONS).nullish(),
    exporterCountry: country.nullish(),
    importerCountry: country.nullish(),
  })
  .strict();

const KIND_SCHEMAS = {
  adoptAdequacy: z
    .object({
      jurisdiction: jurisdictionCode,
      country,
      instrument: text(500),
      adoptedOn: day,
      scopeCondition: optionalText(1000),
      requiresCertification: z.enum(CERTIFICATIONS).nullish(),
      endsAt: z.date().nullish(),
    })
    .strict(),
  amendAdequacy: adequacyRef
    .extend({
      instrument: text(500).nullish(),
      adoptedOn: day.nullish(),
      scopeCondition: optionalText(1000),
      requiresCertification: z.enum(CERTIFICATIONS).nullish(),
    })
    .strict(),
  suspendAdequacy: adequacyRef,
  endAdequacy: adequacyRef,
  addRestriction: z
    .object({
      exporterCountry: country,
      importerCountry: country.nullish(),
      legalBasis: text(500),
      reason: text(1000),
    })
    .strict(),
  endRestriction: z.object({ restrictionId: rowId }).strict(),
  addJurisdiction: z
    .object({
      code: jurisdictionCode,
      name: text(200),
      law: text(500),
      members: z.array(country).min(1, 'at least one member country').max(60),
    })
    .strict(),
  setPurposeLimit: z
    .object({ purpose: z.enum(PURPOSES), categoryKeys: z.array(categoryKey).min(1, 'at least one category').max(100) })
    .strict(),
  setDerogationLimit: derogationKey
    .extend({
      maxTransfers: z.number().int().min(0).max(1_000_000),
      maxRecords: z.number().int().min(0).max(1_000_000_000),
    })
    .strict(),
  endDerogationLimit: derogationKey,
} as const;

export type PolicyChangeKind = keyof typeof KIND_SCHEMAS;
export const POLICY_CHANGE_KINDS = Object.keys(KIND_SCHEMAS) as PolicyChangeKind[];

const changeSchema = z
  .object({
    reason: text(2000),
    effectiveAt: z.date().nullish(),
    ...Object.fromEntries(POLICY_CHANGE_KINDS.map((k) => [k, KIND_SCHEMAS[k].nullish()])),
  })
  .strict();

type Parsed = { reason: string; effectiveAt?: Date | null } & {
  [K in PolicyChangeKind]?: z.infer<(typeof KIND_SCHEMAS)[K]> | null;
};

/** One kind of change per request: exactly one of the kind fields is given. */
function parseChange(input: unknown): {
  kind: PolicyChangeKind;
  details: any;
  reason: string;
  effectiveAt?: Date | null;
} {
  const data = parseInput(changeSchema, input) as Parsed;
  const given = POLICY_CHANGE_KINDS.filter((k) => data[k] != null);
  if (given.length !== 1)
    throw ValidationError.field('input', `give exactly one kind of change (${POLICY_CHANGE_KINDS.join(', ')})`);
  const kind = given[0]!;
  return { kind, details: data[kind], reason: data.reason, effectiveAt: data.effectiveAt };
}

export interface AffectedGrant {
  grantId: number;
  contractorId: number;
  officeId: number;
  purpose: string;
  grant: typeof grants.$inferSelect;
  /** Why the policy after the change refuses the grant's route with its recorded mechanism. */
  reason: string;
  validMechanisms: MechanismOption[];
}

/** A route and derogation a changed derogation limit governs, and its use (`derogationUse`) at the change. */
export interface OccasionalUse {
  derogation: Mechanism;
  exporterCountry: string;
  importerCountry: string;
  transfers: number;
  records: number;
  maxTransfers: number;
  maxRecords: number;
  /** The next transfer under it (of a record or more) would go beyond the limit: refused until older ones age out. */
  exhausted: boolean;
}

export interface PolicyImpact {
  effectiveAt: Date;
  grants: AffectedGrant[];
  tokens: AccessTokenRow[];
  contractors: (typeof contractors.$inferSelect)[];
  transfers: { count: number; records: number; categories: string[] };
  /** For a derogation limit: every route that used a derogation it governs, under the limit after the change. */
  occasionalUse: OccasionalUse[];
}

/** Versioned policy tables whose versions a change closes and replaces by their row id. */
type VersionedById = typeof adequacyDecisions | typeof routeRestrictions | typeof derogationLimits;

export type PolicyChangeRow = typeof policyChanges.$inferSelect;

/** Which grants a change can touch: those exporting from `exporters`, to `importers` (any destination), of `purpose`. */
interface Reach {
  exporters?: string[];
  importers?: string[];
  purpose?: (typeof PURPOSES)[number];
}

/** A JSON parameter: sent as text (postgres.js would encode a jsonb-typed string parameter a second time). */
const json = (v: unknown): SQL => sql`${JSON.stringify(v)}::text::jsonb`;

/** Writes the change's rows in `tx` (versions closed and opened) and answers its impact. */
async function stage(
  tx: Tx,
  principal: Principal,
  input: unknown,
  now: Date,
  wrote: Write['wrote'],
): Promise<{ change: PolicyChangeRow; impact: PolicyImpact }> {
  const { kind, details, reason, effectiveAt: asked } = parseChange(input);
  // A minute's grace for the caller's clock; a change effective earlier would rewrite what the registry already did.
  if (asked && asked.getTime() < now.getTime() - 60_000)
    throw ValidationError.field(
      'input.effectiveAt',
      'must not be in the past: the registry already acted under the policy in force then',
    );
  const effectiveAt = asked && asked > now ? asked : now;
  const field = (name: string) => `input.${kind}.${name}`;
  // Policy changes one at a time: the overlap checks below see every change committed before.
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('policy_changes'))`);
  const [change] = await tx
    .insert(policyChanges)
    .values({ kind, details, reason, effectiveAt, recordedBy: principal.subject, recordedAt: now })
    .returning();
  wrote(policyChanges, [change!]);
  const changeId = change!.id;
  let reach: Reach | null = null;

  const adequacyInForce = async (j: string, c: string) => {
    const [row] = await tx
      .select()
      .from(adequacyDecisions)
      .where(
        and(
          eq(adequacyDecisions.jurisdiction, j),
          eq(adequacyDecisions.country, c),
          inForce(adequacyDecisions, effectiveAt),
        ),
      )
      .for('update');
    if (!row) throw new NotFoundError('AdequacyDecision', `${j}/${c} in force at ${effectiveAt.toISOString()}`);
    return row;
  };
  const laterVersion = async (j: string, c: string) => {
    const [later] = await tx
      .select({ validFrom: adequacyDecisions.validFrom })
      .from(adequacyDecisions)
      .where(
        and(
          eq(adequacyDecisions.jurisdiction, j),
          eq(adequacyDecisions.country, c),
          gt(adequacyDecisions.validFrom, effectiveAt),
        ),
      )
      .orderBy(asc(adequacyDecisions.validFrom))
      .limit(1);
    if (later)
      throw new ConflictError(
        `a later change to the adequacy decision ${j}/${c} takes effect ${later.validFrom.toISOString()}: change it after that`,
      );
  };
  const knownJurisdiction = async (code: string, name: string) => {
    const [j] = await tx.select().from(jurisdictions).where(eq(jurisdictions.code, code));
    if (!j) throw new NotFoundError('Jurisdiction', code);
    if (j.validFrom > effectiveAt)
      throw ValidationError.field(name, `jurisdiction ${code} exists only from ${j.validFrom.toISOString()}`);
  };
  // A version ends at the effective instant: every kind closes the versions it ends or replaces the same way.
  const closeVersions = async <T extends VersionedById | typeof purposeCategories>(table: T, which: SQL) => {
    const closed = await (tx.update(table) as any)
      .set({ validUntil: effectiveAt })
      .where(and(which, inForce(table, effectiveAt)))
      .returning();
    wrote(table, closed);
  };
  // The next version of a row from the effective instant (it keeps the end the one in force had, e.g. a sunset): in
  // place when the one in force only begins then.
  const replaceVersion = async <T extends VersionedById>(
    table: T,
    current: T['$inferSelect'],
    next: Partial<T['$inferInsert']>,
  ) => {
    if (current.validFrom.getTime() === effectiveAt.getTime()) {
      wrote(
        table,
        await (tx.update(table) as any)
          .set({ ...next, changeId })
          .where(eq(table.id, current.id))
          .returning(),
      );
      return;
    }
    await closeVersions(table, eq(table.id, current.id));
    const { id: _id, ...rest } = current;
    wrote(
      table,
      await (tx.insert(table) as any).values({ ...rest, ...next, validFrom: effectiveAt, changeId }).returning(),
    );
  };
  let occasional: { key: DerogationKey; governedBefore?: DerogationLimit[] } | null = null;

  switch (kind) {
    case 'adoptAdequacy': {
      const d = details as z.infer<typeof KIND_SCHEMAS.adoptAdequacy>;
      await knownJurisdiction(d.jurisdiction, field('jurisdiction'));
      if (d.endsAt && d.endsAt <= effectiveAt)
        throw ValidationError.field(field('endsAt'), 'must be after effectiveAt');
      if (d.endsAt && new Date(`${d.adoptedOn}T00:00:00Z`) >= d.endsAt)
        throw ValidationError.field(field('endsAt'), 'the decision would end before it was adopted');
      const [member] = await tx
        .select()
        .from(jurisdictionMembers)
        .where(
          and(
            eq(jurisdictionMembers.jurisdiction, d.jurisdiction),
            eq(jurisdictionMembers.country, d.country),
            inForce(jurisdictionMembers, effectiveAt),
          ),
        );
      if (member)
        throw ValidationError.field(
          field('country'),
          `${d.country} is a member of ${d.jurisdiction}: no adequacy needed`,
        );
      const [overlap] = await tx
        .select()
        .from(adequacyDecisions)
        .where(
          and(
            eq(adequacyDecisions.jurisdiction, d.jurisdiction),
            eq(adequacyDecisions.country, d.country),
            d.endsAt ? sql`${adequacyDecisions.validFrom} < ${d.endsAt.toISOString()}::timestamptz` : undefined,
            endsAfter(adequacyDecisions, effectiveAt),
          ),
        )
        .limit(1);
      if (overlap)
        throw new ConflictError(
          `an adequacy decision for ${d.country} under ${d.jurisdiction} (${overlap.instrument}) is in force from ${overlap.validFrom.toISOString()}${overlap.validUntil ? ` until ${overlap.validUntil.toISOString()}` : ''}: decisions must not overlap; amend, suspend or end it instead`,
        );
      wrote(
        adequacyDecisions,
        await tx
          .insert(adequacyDecisions)
          .values({
            jurisdiction: d.jurisdiction,
            country: d.country,
            instrument: d.instrument,
            adoptedOn: d.adoptedOn,
            scopeCondition: d.scopeCondition ?? null,
            requiresCertification: d.requiresCertification ?? null,
            validFrom: effectiveAt,
            validUntil: d.endsAt ?? null,
            changeId,
          })
          .returning(),
      );
      reach = { importers: [d.country] };
      break;
    }
    case 'amendAdequacy':
    case 'suspendAdequacy': {
      const d = details as z.infer<typeof KIND_SCHEMAS.amendAdequacy>;
      await knownJurisdiction(d.jurisdiction, field('jurisdiction'));
      const current = await adequacyInForce(d.jurisdiction, d.country);
      let next: Partial<typeof current>;
      if (kind === 'suspendAdequacy') {
        if (current.suspended) throw new InvalidStateError('The adequacy decision is already suspended', 'SUSPENDED');
        next = { suspended: true };
      } else {
        next = {
          // An amendment restates the decision in force: a suspended one resumes.
          suspended: false,
          ...(d.instrument != null ? { instrument: d.instrument } : {}),
          ...(d.adoptedOn != null ? { adoptedOn: d.adoptedOn } : {}),
          ...(d.scopeCondition !== undefined ? { scopeCondition: d.scopeCondition } : {}),
          ...(d.requiresCertification !== undefined ? { requiresCertification: d.requiresCertification } : {}),
        };
        if (Object.entries(next).every(([k, v]) => (current as any)[k] === v))
          throw ValidationError.field(
            `input.${kind}`,
            'nothing to amend: every field given equals the decision in force',
          );
      }
      await replaceVersion(adequacyDecisions, current, next);
      reach = { importers: [d.country] };
      break;
    }
    case 'endAdequacy': {
      const d = details as z.infer<typeof KIND_SCHEMAS.endAdequacy>;
      await knownJurisdiction(d.jurisdiction, field('jurisdiction'));
      const current = await adequacyInForce(d.jurisdiction, d.country);
      await laterVersion(d.jurisdiction, d.country);
      if (current.validFrom.getTime() === effectiveAt.getTime())
        throw ValidationError.field('input.effectiveAt', 'this version of the decision only begins then: end it later');
      await closeVersions(adequacyDecisions, eq(adequacyDecisions.id, current.id));
      reach = { importers: [d.country] };
      break;
    }
    case 'addRestriction': {
      const d = details as z.infer<typeof KIND_SCHEMAS.addRestriction>;
      const [same] = await tx
        .select()
        .from(routeRestrictions)
        .where(
          and(
            eq(routeRestrictions.exporterCountry, d.exporterCountry),
            d.importerCountry
              ? eq(routeRestrictions.importerCountry, d.importerCountry)
              : isNull(routeRestrictions.importerCountry),
            endsAfter(routeRestrictions, effectiveAt),
          ),
        )
        .limit(1);
      if (same)
        throw new ConflictError(
          `a restriction on ${d.exporterCountry} → ${d.importerCountry ?? 'any country'} (${same.legalBasis}) is already in force from ${same.validFrom.toISOString()}`,
        );
      wrote(
        routeRestrictions,
        await tx
          .insert(routeRestrictions)
          .values({
            exporterCountry: d.exporterCountry,
            importerCountry: d.importerCountry ?? null,
            legalBasis: d.legalBasis,
            reason: d.reason,
            validFrom: effectiveAt,
            changeId,
          })
          .returning(),
      );
      reach = { exporters: [d.exporterCountry] };
      break;
    }
    case 'endRestriction': {
      const d = details as z.infer<typeof KIND_SCHEMAS.endRestriction>;
      const [current] = await tx
        .select()
        .from(routeRestrictions)
        .where(and(eq(routeRestrictions.id, d.restrictionId), inForce(routeRestrictions, effectiveAt)))
        .for('update');
      if (!current)
        throw new NotFoundError('RouteRestriction', `${d.restrictionId} in force at ${effectiveAt.toISOString()}`);
      if (current.validFrom.getTime() === effectiveAt.getTime())
        throw ValidationError.field('input.effectiveAt', 'the restriction only begins then: end it later');
      await closeVersions(routeRestrictions, eq(routeRestrictions.id, current.id));
      // Lifting a restriction allows more; it breaks no grant.
      break;
    }
    case 'addJurisdiction': {
      const d = details as z.infer<typeof KIND_SCHEMAS.addJurisdiction>;
      const members = [...new Set(d.members)].sort();
      const [exists] = await tx.select().from(jurisdictions).where(eq(jurisdictions.code, d.code));
      if (exists) throw new ConflictError(`jurisdiction ${d.code} exists already (${exists.name})`);
      const taken = await tx
        .select()
        .from(jurisdictionMembers)
        .where(and(inArray(jurisdictionMembers.country, members), endsAfter(jurisdictionMembers, effectiveAt)))
        .orderBy(asc(jurisdictionMembers.country));
      if (taken.length)
        throw new ConflictError(
          `a country belongs to one jurisdiction at a time: ${taken.map((m) => `${m.country} is in ${m.jurisdiction}`).join(', ')}`,
        );
      wrote(
        jurisdictions,
        await tx
          .insert(jurisdictions)
          .values({ code: d.code, name: d.name, law: d.law, validFrom: effectiveAt })
          .returning(),
      );
      wrote(
        jurisdictionMembers,
        await tx
          .insert(jurisdictionMembers)
          .values(members.map((c) => ({ jurisdiction: d.code, country: c, validFrom: effectiveAt })))
          .returning(),
      );
      // Exporters there now need mechanisms (a regime applies); importers there may leave a regime's reach.
      reach = { exporters: members, importers: members };
      break;
    }
    case 'setPurposeLimit': {
      const d = details as z.infer<typeof KIND_SCHEMAS.setPurposeLimit>;
      const keys = [...new Set(d.categoryKeys)].sort();
      await knownCategories(tx, keys, field('categoryKeys'));
      const [later] = await tx
        .select()
        .from(purposeCategories)
        .where(and(eq(purposeCategories.purpose, d.purpose), gt(purposeCategories.validFrom, effectiveAt)))
        .limit(1);
      if (later)
        throw new ConflictError(
          `a later change to the ${d.purpose} limit takes effect ${later.validFrom.toISOString()}: change it after that`,
        );
      // Versions that begin at this very instant are replaced; the others in force end now.
      wrote(
        purposeCategories,
        await tx
          .delete(purposeCategories)
          .where(and(eq(purposeCategories.purpose, d.purpose), eq(purposeCategories.validFrom, effectiveAt)))
          .returning(),
      );
      await closeVersions(purposeCategories, eq(purposeCategories.purpose, d.purpose));
      wrote(
        purposeCategories,
        await tx
          .insert(purposeCategories)
          .values(keys.map((categoryKey) => ({ purpose: d.purpose, categoryKey, validFrom: effectiveAt })))
          .returning(),
      );
      reach = { purpose: d.purpose };
      break;
    }
    case 'setDerogationLimit':
    case 'endDerogationLimit': {
      const d = details as z.infer<typeof KIND_SCHEMAS.setDerogationLimit>;
      const key: DerogationKey = {
        derogation: d.derogation ?? null,
        exporterCountry: d.exporterCountry ?? null,
        importerCountry: d.importerCountry ?? null,
      };
      const sameKey = and(
        key.derogation ? eq(derogationLimits.derogation, key.derogation) : isNull(derogationLimits.derogation),
        key.exporterCountry
          ? eq(derogationLimits.exporterCountry, key.exporterCountry)
          : isNull(derogationLimits.exporterCountry),
        key.importerCountry
          ? eq(derogationLimits.importerCountry, key.importerCountry)
          : isNull(derogationLimits.importerCountry),
      )!;
      const named = `${key.derogation ?? 'every derogation'} on ${key.exporterCountry ?? 'any country'} → ${key.importerCountry ?? 'any country'}`;
      const [later] = await tx
        .select()
        .from(derogationLimits)
        .where(and(sameKey, gt(derogationLimits.validFrom, effectiveAt)))
        .limit(1);
      if (later)
        throw new ConflictError(
          `a later change to the limit of ${named} takes effect ${later.validFrom.toISOString()}: change it after that`,
        );
      const [current] = await tx
        .select()
        .from(derogationLimits)
        .where(and(sameKey, inForce(derogationLimits, effectiveAt)))
        .for('update');
      // A limit judges transfers, not standing grants: it breaks no grant; its effect is on the routes' use.
      occasional = { key };
      if (kind === 'endDerogationLimit') {
        if (!key.derogation && !key.exporterCountry && !key.importerCountry)
          throw ValidationError.field(
            `input.${kind}`,
            'the default limit (every derogation, any route) never ends: change it with setDerogationLimit',
          );
        if (!current) throw new NotFoundError('DerogationLimit', `${named} in force at ${effectiveAt.toISOString()}`);
        if (current.validFrom.getTime() === effectiveAt.getTime())
          throw ValidationError.field('input.effectiveAt', 'this version of the limit only begins then: end it later');
        // The routes it governed until now fall to the next most specific limit.
        occasional.governedBefore = await loadDerogationLimits(tx, effectiveAt);
        await closeVersions(derogationLimits, eq(derogationLimits.id, current.id));
        break;
      }
      const next = { maxTransfers: d.maxTransfers, maxRecords: d.maxRecords };
      if (current && current.maxTransfers === next.maxTransfers && current.maxRecords === next.maxRecords)
        throw ValidationError.field(
          `input.${kind}`,
          `nothing to change: the limit of ${named} in force then is the same`,
        );
      if (current) await replaceVersion(derogationLimits, current, next);
      else
        wrote(
          derogationLimits,
          await tx
            .insert(derogationLimits)
            .values({ ...key, ...next, validFrom: effectiveAt, changeId })
            .returning(),
        );
      break;
    }
  }
  const impact = await impactOf(tx, reach, effectiveAt, now);
  return {
    change: change!,
    impact: {
      ...impact,
      occasionalUse: occasional ? await occasionalUse(tx, occasional.key, effectiveAt, occasional.governedBefore) : [],
    },
  };
}

/**
 * The routes that used a derogation the limit `key` covers within 12 months of `effectiveAt` and that the limit
 * governs (it is the most specific row for them: after the change, or in `governedBefore` for a limit that ends),
 * each with its use (`derogationUse`, the count a transfer is judged on) under the limit in force after the change,
 * and whether one more transfer of one record at that instant would go beyond it (`beyondOccasional`, the test
 * `decideOccasional` makes): one statement for the use, one load of the limits in force.
 */
async function occasionalUse(
  tx: Tx,
  key: DerogationKey,
  effectiveAt: Date,
  governedBefore?: readonly DerogationLimit[],
): Promise<OccasionalUse[]> {
  const [used, limits] = await Promise.all([
    derogationUse(tx, key, effectiveAt),
    loadDerogationLimits(tx, effectiveAt),
  ]);
  return used.flatMap((use) => {
    const limit = derogationLimitFor(limits, use.derogation, use.exporterCountry, use.importerCountry);
    const governing = derogationLimitFor(
      governedBefore ?? limits,
      use.derogation,
      use.exporterCountry,
      use.importerCountry,
    );
    const governs =
      governing &&
      governing.derogation === key.derogation &&
      governing.exporterCountry === key.exporterCountry &&
      governing.importerCountry === key.importerCountry;
    if (!governs || !limit) return [];
    const next = { transfers: use.transfers + 1, records: use.records + 1 };
    return [
      {
        ...use,
        maxTransfers: limit.maxTransfers,
        maxRecords: limit.maxRecords,
        exhausted: beyondOccasional(limit, next),
      },
    ];
  });
}

/**
 * The grants not ended at the change's instant (and not already suspended) that `reach` covers, judged under the
 * policy as it now stands in `tx`: one statement for the grants, one for their places, one load of the policy;
 * then one statement each for the tokens and the recent transfers of those that fail.
 */
async function impactOf(tx: Tx, reach: Reach | null, effectiveAt: Date, now: Date): Promise<PolicyImpact> {
  const none: PolicyImpact = {
    effectiveAt,
    grants: [],
    tokens: [],
    contractors: [],
    transfers: { count: 0, records: 0, categories: [] },
    occasionalUse: [],
  };
  if (!reach) return none;
  const touches: SQL[] = [];
  // An onward grant's hop leaves its parent's contractor: a rule on that country's exports reaches it too.
  if (reach.exporters)
    touches.push(inArray(offices.country, reach.exporters), inArray(parentContractors.country, reach.exporters));
  if (reach.importers)
    touches.push(
      inArray(contractors.country, reach.importers),
      inArray(
        contractors.id,
        tx
          .select({ id: processingLocations.contractorId })
          .from(processingLocations)
          .where(inArray(processingLocations.country, reach.importers)),
      ),
    );
  if (reach.purpose) touches.push(eq(grants.purpose, reach.purpose));
  const candidates = await grantsOnRoutes(
    tx,
    and(grantNotEnded(effectiveAt), isNull(grants.suspendedByPolicyFrom), or(...touches)),
  );
  if (!candidates.length) return none;
  const broken: AffectedGrant[] = [];
  if (reach.purpose) {
    const [limit] = await loadPurposeLimits(tx, effectiveAt, reach.purpose);
    const categories = await tx
      .select({ grantId: grantCategories.grantId, key: dataCategories.key, sensitivity: dataCategories.sensitivity })
      .from(grantCategories)
      .innerJoin(dataCategories, eq(dataCategories.key, grantCategories.categoryKey))
      .where(
        inArray(
          grantCategories.grantId,
          candidates.map((c) => c.grant.id),
        ),
      );
    for (const { grant: g } of candidates) {
      const refusal = decidePurposeCategories(
        limit ?? { purpose: reach.purpose, categoryKeys: [], reason: null },
        categories.filter((c) => c.grantId === g.id),
      );
      if (refusal)
        broken.push({
          grantId: g.id,
          contractorId: g.contractorId,
          officeId: g.officeId,
          purpose: g.purpose,
          grant: g,
          reason: refusal,
          validMechanisms: [],
        });
    }
  } else {
    const at = (c: GrantOnRoute) => (c.grant.validFrom > effectiveAt ? c.grant.validFrom : effectiveAt);
    const routeOf = (c: GrantOnRoute) => grantRoute(c.officeCountry, c.through, c.contractor, at(c));
    const policy = await loadPolicy(
      tx,
      candidates.map(at),
      candidates.flatMap((c) =>
        grantDestinations(c).flatMap((importer) => [
          { exporter: c.officeCountry, importer },
          ...(c.through ? [{ exporter: c.through.country, importer }] : []),
        ]),
      ),
    );
    // Grants on the same route with the same mechanism get the same answer: each distinct one is judged once.
    const judged = new Map<string, { reason: string; validMechanisms: MechanismOption[] } | null>();
    for (const c of candidates) {
      const g = c.grant;
      const route = routeOf(c);
      const destinations = grantDestinations(c);
      const key = JSON.stringify([route, destinations, g.mechanism, g.sccModule]);
      let verdict = judged.get(key);
      if (verdict === undefined) {
        const tables = policy.at(route.at);
        const decision = decideDestinations(tables, route, destinations, {
          mechanism: g.mechanism,
          sccModule: g.sccModule,
        });
        verdict = decision.allowed
          ? null
          : {
              reason: `${decision.importerCountry}: ${decision.reason}`,
              validMechanisms: STANDING_MECHANISMS.filter(
                (o) => decideDestinations(tables, route, destinations, o).allowed,
              ).map((o) => ({ mechanism: o.mechanism!, sccModule: o.sccModule ?? null })),
            };
        judged.set(key, verdict);
      }
      if (verdict)
        broken.push({
          grantId: g.id,
          contractorId: g.contractorId,
          officeId: g.officeId,
          purpose: g.purpose,
          grant: g,
          ...verdict,
        });
    }
  }
  if (!broken.length) return none;
  broken.push(...(await onwardOf(tx, broken, effectiveAt)));
  const pairs = broken.map((g) => ({ c: g.contractorId, p: g.purpose, o: g.officeId }));
  const contractorIds = [...new Set(broken.map((g) => g.contractorId))];
  const [tokens, affected, recent] = await Promise.all([
    tx
      .select()
      .from(accessTokens)
      .where(and(tokenLive(tokenTime()), restingOn(pairs)))
      .orderBy(asc(accessTokens.id)),
    tx
      .select()
      .from(contractors)
      .where(sql`${contractors.id} in (select jsonb_array_elements_text(${json(contractorIds)})::int)`)
      .orderBy(asc(contractors.id)),
    tx.execute(sql`
      with routes as (select distinct b.o, b.c from jsonb_to_recordset(${json(pairs)}) as b(o int, c int)),
      hit as materialized (
        -- Per route, a range of the (importer contractor, time) index rather than a scan of the history.
        select t.record_count, t.categories from routes r cross join lateral (
          select t.record_count, t.categories from transfers t
          -- "+ 0": the office is a filter on that range; ANDing in the office index costs far more than it saves.
          where t.importer_contractor_id = r.c and t.exporter_office_id + 0 = r.o
            and t.occurred_at >= ${new Date(now.getTime() - RECENT_TRANSFER_DAYS * 86_400_000).toISOString()}::timestamptz) t)
      select (select count(*)::int from hit) as count,
        (select coalesce(sum(record_count), 0)::float8 from hit) as records,
        (select coalesce(array_agg(distinct k order by k), '{}'::text[]) from hit, unnest(hit.categories) as k) as categories`),
  ]);
  const t = onlyRow(rowsOf<{ count: number; records: number; categories: string[] }>(recent));
  return {
    effectiveAt,
    grants: broken,
    tokens,
    contractors: affected,
    transfers: { count: Number(t.count), records: Number(t.records), categories: t.categories },
    occasionalUse: [],
  };
}

/**
 * The onward grants under the broken ones, at any depth, not ended and not suspended yet: data that stops reaching a
 * processor stops reaching its sub-processors. Their own route may still be valid (the mechanism they record stays
 * valid for it): re-paper the parent, then them. One statement.
 */
async function onwardOf(tx: Tx, broken: readonly AffectedGrant[], effectiveAt: Date): Promise<AffectedGrant[]> {
  const reasons = new Map(broken.map((b) => [b.grantId, b.reason]));
  const rows = rowsOf<{ id: number; root: number }>(
    await tx.execute(sql`with recursive chain(id, root) as (
        select g.id, g.parent_grant_id from grants g
          where g.parent_grant_id in (select jsonb_array_elements_text(${json([...reasons.keys()])})::int)
        union select g.id, chain.root from grants g join chain on g.parent_grant_id = chain.id)
      select id, min(root) as root from chain group by id order by id`),
  );
  const ids = rows.map((r) => Number(r.id)).filter((id) => !reasons.has(id));
  if (!ids.length) return [];
  const onward = await tx
    .select()
    .from(grants)
    .where(and(inArray(grants.id, ids), grantNotEnded(effectiveAt), isNull(grants.suspendedByPolicyFrom)))
    .orderBy(asc(grants.id));
  const rootOf = new Map(rows.map((r) => [Number(r.id), Number(r.root)]));
  return onward.map((g) => {
    const root = rootOf.get(g.id)!;
    return {
      grantId: g.id,
      contractorId: g.contractorId,
      officeId: g.officeId,
      purpose: g.purpose,
      grant: g,
      reason: `the grant it runs under, ${publicId('Grant', root)}, is suspended by this change (${reasons.get(root)}): an onward grant gives nothing while its parent does not`,
      validMechanisms: [{ mechanism: g.mechanism, sccModule: g.sccModule }],
    };
  });
}

/** SQL: the token reads under one of these (contractor, purpose) pairs — it rests on such a grant. */
const restingOn = (pairs: { c: number; p: string }[]): SQL =>
  sql`exists (select 1 from jsonb_to_recordset(${json(pairs)}) as b(c int, p text)
    where b.c = ${accessTokens.contractorId} and b.p::purpose = any(${accessTokens.purposes}))`;

/** SQL: the token rests on a grant that reads SUSPENDED_BY_POLICY at `at` because of one of these changes. */
const restingOnSuspended = (changeIds: number[], at: Date): SQL =>
  sql`exists (select 1 from grants g where g.suspended_by_change_id = any(${sql.raw(`array[${changeIds.map(Number).join(',')}]::int[]`)})
    and g.status = 'ACTIVE' and g.suspended_by_policy_from <= ${at.toISOString()}::timestamptz
    and (g.valid_until is null or g.valid_until > ${at.toISOString()}::timestamptz)
    and g.contractor_id = ${accessTokens.contractorId} and g.purpose = any(${accessTokens.purposes}))`;

class PreviewRollback extends Error {}

/** What the change would do, computed exactly as applyPolicyChange would, in a transaction that is rolled back. */
export async function previewPolicyChange(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<PolicyImpact> {
  const now = deps.clock.now();
  let impact: PolicyImpact | undefined;
  await deps.db
    .transaction(async (tx) => {
      // Nothing is kept: the rows it would write need no hashes.
      impact = (await stage(tx, principal, input, now, () => {})).impact;
      throw new PreviewRollback();
    })
    .catch((e: unknown) => {
      if (!(e instanceof PreviewRollback)) throw e;
    });
  return impact!;
}

/**
 * The deprecated standalone `setDerogationLimit` (its input has no reason and no instant): a policy change of that
 * kind, effective now, through `applyPolicyChange`; the version of the limit it wrote.
 */
export async function setDerogationLimitNow(
  deps: RegistryDeps,
  principal: Principal,
  limit: unknown,
): Promise<typeof derogationLimits.$inferSelect> {
  const { change } = await applyPolicyChange(deps, principal, {
    reason: 'set with the deprecated setDerogationLimit mutation',
    setDerogationLimit: limit,
  });
  const [row] = await deps.db.select().from(derogationLimits).where(eq(derogationLimits.changeId, change.id));
  return row!;
}

/**
 * Records the change; the grants it breaks are marked suspended from its effective instant. Effective now: their
 * tokens are revoked at once. Later: the scheduler revokes them when the instant comes (on any one instance).
 */
export async function applyPolicyChange(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<{ change: PolicyChangeRow; impact: PolicyImpact }> {
  return write(deps, principal, async (w) => {
    const { change, impact } = await stage(w.tx, principal, input, w.now, w.wrote);
    if (impact.grants.length) {
      const suspended = await w.tx.execute(sql`
        update grants g set suspended_by_policy_from = ${impact.effectiveAt.toISOString()}::timestamptz,
          policy_suspension_reason = b.reason, suspended_by_change_id = ${change.id}
        from jsonb_to_recordset(${json(impact.grants.map((g) => ({ id: g.grantId, reason: g.reason })))}) as b(id int, reason text)
        where g.id = b.id
        returning g.id`);
      w.wrote(grants, rowsOf<{ id: number }>(suspended));
    }
    const due = impact.effectiveAt <= w.now;
    const [recorded] = await w.tx
      .update(policyChanges)
      .set({ suspendedGrants: impact.grants.length, appliedAt: due ? w.now : null })
      .where(eq(policyChanges.id, change.id))
      .returning();
    w.wrote(policyChanges, [recorded!]);
    const revoked = due ? await revokeTokens(w, restingOnSuspended([change.id], w.now), revocationReason(change)) : 0;
    if (!due) await w.tx.execute(sql`select pg_notify(${POLICY_CHANGES_CHANNEL}, ${String(change.id)})`);
    return {
      result: { change: recorded!, impact },
      audit: {
        action: 'applyPolicyChange',
        entityType: 'PolicyChange',
        entityId: change.id,
        after: { ...recorded, suspendedGrantIds: impact.grants.map((g) => g.grantId), revokedTokens: revoked },
      },
    };
  });
}

const revocationReason = (c: PolicyChangeRow) =>
  `Policy change ${c.id} (${c.kind}) effective ${c.effectiveAt.toISOString()} suspended the grant: ${c.reason}`;

/**
 * Applies the changes whose instant has come: claims them (`applied_at` set once, whichever instance gets there
 * first) and revokes the tokens resting on the grants they suspended, with one audit event each.
 */
export async function applyDuePolicyChanges(deps: RegistryDeps, principal: Principal): Promise<number> {
  return write(deps, principal, async (w: Write) => {
    const claimed = await w.tx
      .update(policyChanges)
      .set({ appliedAt: w.now })
      .where(and(isNull(policyChanges.appliedAt), lte(policyChanges.effectiveAt, w.now)))
      .returning();
    if (!claimed.length) return { result: 0, audit: [] };
    w.wrote(policyChanges, claimed);
    const audit = [];
    for (const c of claimed) {
      const revoked = await revokeTokens(w, restingOnSuspended([c.id], w.now), revocationReason(c));
      audit.push({
        action: 'policyChangeTookEffect',
        entityType: 'PolicyChange',
        entityId: c.id,
        after: { appliedAt: w.now, revokedTokens: revoked },
      });
    }
    return { result: claimed.length, audit };
  });
}

/** The earliest instant a recorded change is still to be applied, or null. */
export async function nextDuePolicyChange(db: Queryable): Promise<Date | null> {
  const [row] = await db
    .select({ at: policyChanges.effectiveAt })
    .from(policyChanges)
    .where(isNull(policyChanges.appliedAt))
    .orderBy(asc(policyChanges.effectiveAt))
    .limit(1);
  return row?.at ?? null;
}
