// The transfer policy as data: jurisdictions, members, adequacy decisions, forbidden routes, and a route check
// that explains its decision the same way grants and transfers are judged.
import {
  ROUTE_CONTEXTS,
  type DerogationLimit as DerogationLimitRow,
  type PolicyTables,
} from '../policy/transfer-rules.js';
import {
  checkRoute,
  derogationLimits,
  policyChangeFilters,
  purposeLimits,
  transferPolicy,
  type RouteCheck,
} from '../registry/policy.js';
import { DEROGATIONS } from '../db/enums.js';
import {
  POLICY_CHANGE_KINDS,
  applyPolicyChange,
  previewPolicyChange,
  setDerogationLimitNow,
  type PolicyChangeKind,
  type AffectedGrant,
  type MechanismOption as MechanismOptionRow,
  type OccasionalUse as OccasionalUseRow,
  type PolicyChangeRow,
  type PolicyImpact as PolicyImpactRow,
} from '../registry/policy-changes.js';
import type { PurposeLimit as PurposeLimitRow } from '../policy/purpose-limits.js';
import { AccessToken } from './access-tokens.js';
import { builder } from './builder.js';
import { CertificationEnum, Contractor, ContractorRoleEnum } from './contractors.js';
import { Grant, MechanismEnum, PurposeEnum } from './grants.js';
import { decodeId, decodeIdOf, decodeOptionalId } from './input.js';
import { batched } from './batch.js';
import { repaperOptions, type RepaperOptions as RepaperOptionsRow } from '../registry/grants.js';

const RouteContextEnum = builder.enumType('RouteContext', {
  values: ROUTE_CONTEXTS,
  description: 'GRANT: a standing grant. TRANSFER: one occasional transfer, the only context for Art. 49 derogations.',
});

type AdequacyRow = PolicyTables['adequacy'][number];
type RestrictionRow = PolicyTables['restrictions'][number];

const AdequacyDecision = builder.objectRef<AdequacyRow>('AdequacyDecision').implement({
  description: 'One version of an adequacy decision: the decision as recorded from effectiveFrom until endsAt.',
  fields: (t) => ({
    jurisdiction: t.exposeString('jurisdiction'),
    country: t.exposeString('country'),
    instrument: t.exposeString('instrument'),
    adoptedOn: t.expose('adoptedOn', { type: 'Date' }),
    scopeCondition: t.exposeString('scopeCondition', { nullable: true }),
    requiresCertification: t.expose('requiresCertification', { type: CertificationEnum, nullable: true }),
    suspended: t.boolean({ resolve: (a) => a.suspended ?? false, description: 'Suspended: gives no adequacy.' }),
    effectiveFrom: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.validFrom ?? null }),
    endsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When this version ends: the decision ends, or a later change replaces it.',
      resolve: (a) => a.validUntil ?? null,
    }),
  }),
});

const RouteRestriction = builder.objectRef<RestrictionRow>('RouteRestriction').implement({
  fields: (t) => ({
    id: t.globalID({ nullable: true, resolve: (r) => (r.id ? { type: 'RouteRestriction', id: r.id } : null) }),
    effectiveFrom: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.validFrom ?? null }),
    endsAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.validUntil ?? null }),
    exporterCountry: t.exposeString('exporterCountry'),
    importerCountry: t.exposeString('importerCountry', { nullable: true, description: 'Null: every destination.' }),
    legalBasis: t.exposeString('legalBasis'),
    reason: t.exposeString('reason'),
  }),
});

const Jurisdiction = builder.objectRef<{ code: string; name: string; tables: PolicyTables }>('Jurisdiction').implement({
  fields: (t) => ({
    code: t.exposeString('code'),
    name: t.exposeString('name'),
    members: t.stringList({
      resolve: (j) =>
        [...j.tables.membership]
          .filter(([, code]) => code === j.code)
          .map(([c]) => c)
          .sort(),
    }),
    adequacyDecisions: t.field({
      type: [AdequacyDecision],
      resolve: (j) => j.tables.adequacy.filter((a) => a.jurisdiction === j.code),
    }),
  }),
});

export const MechanismOption = builder.objectRef<MechanismOptionRow>('MechanismOption').implement({
  fields: (t) => ({
    mechanism: t.field({ type: MechanismEnum, resolve: (o) => o.mechanism }),
    sccModule: t.exposeInt('sccModule', { nullable: true }),
  }),
});

const RouteDecision = builder.objectRef<RouteCheck>('RouteDecision').implement({
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed'),
    importerCountry: t.exposeString('importerCountry', {
      description: "Refused: the destination that fails (a contractor's country or one of its processing locations).",
    }),
    crossBorder: t.exposeBoolean('crossBorder'),
    mechanism: t.field({ type: MechanismEnum, nullable: true, resolve: (d) => (d.allowed ? d.mechanism : null) }),
    sccModule: t.int({ nullable: true, resolve: (d) => (d.allowed ? d.sccModule : null) }),
    explanation: t.string({ resolve: (d) => (d.allowed ? d.explanation : d.reason) }),
    validMechanisms: t.field({
      type: [MechanismOption],
      description:
        'The mechanisms (with their SCC module) that would make this route allowed, allowed or not with the one asked about: NOT_REQUIRED or ADEQUACY where either suffices, and the safeguards valid here, each judged as the route is. Art. 49 derogations are not listed (one occasional transfer each, with its justification). Empty: nothing makes the route allowed; `explanation` says why.',
      resolve: (d) => d.validMechanisms,
    }),
    occasionalLimit: t.field({
      type: DerogationLimit,
      nullable: true,
      description:
        'Allowed under an Art. 49 derogation: the limit in force at `at` that a transfer on this route under it counts against.',
      resolve: (d) => d.occasionalLimit ?? null,
    }),
  }),
});

const PurposeLimit = builder.objectRef<PurposeLimitRow>('PurposeLimit').implement({
  description: 'Purpose limitation: the data categories a grant for the purpose may give, and why.',
  fields: (t) => ({
    purpose: t.field({ type: PurposeEnum, resolve: (l) => l.purpose }),
    categoryKeys: t.stringList({
      description: 'A group key covers its children, never a RESTRICTED one (which is listed by itself).',
      resolve: (l) => [...l.categoryKeys],
    }),
    reason: t.string({ nullable: true, resolve: (l) => l.reason }),
  }),
});

const DerogationEnum = builder.enumType('Derogation', {
  values: DEROGATIONS,
  description: 'The Art. 49 derogations (a subset of TransferMechanism).',
});

const DerogationLimit = builder.objectRef<DerogationLimitRow>('DerogationLimit').implement({
  description:
    'How often one route may rely on an Art. 49 derogation ("occasional"): transfers and records per rolling 12 months. A null derogation or country matches any; the most specific row applies. Beyond it, recordTransfer is POLICY_VIOLATION naming the safeguard to use instead.',
  fields: (t) => ({
    derogation: t.field({ type: DerogationEnum, nullable: true, resolve: (l) => l.derogation as never }),
    exporterCountry: t.exposeString('exporterCountry', { nullable: true }),
    importerCountry: t.exposeString('importerCountry', { nullable: true }),
    maxTransfers: t.exposeInt('maxTransfers'),
    maxRecords: t.exposeInt('maxRecords'),
    effectiveFrom: t.field({ type: 'DateTime', nullable: true, resolve: (l) => l.validFrom ?? null }),
    endsAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When this version ends: a later policy change replaces it.',
      resolve: (l) => l.validUntil ?? null,
    }),
  }),
});

const TransferPolicy = builder.objectRef<{ asOf: Date; tables: PolicyTables }>('TransferPolicy').implement({
  fields: (t) => ({
    asOf: t.field({
      type: 'DateTime',
      description: 'The instant the policy below was in force.',
      resolve: (p) => p.asOf,
    }),
    jurisdictions: t.field({
      type: [Jurisdiction],
      resolve: ({ tables }) => [...tables.jurisdictionNames].map(([code, name]) => ({ code, name, tables })),
    }),
    restrictions: t.field({ type: [RouteRestriction], resolve: (p) => p.tables.restrictions }),
    purposeLimits: t.field({ type: [PurposeLimit], resolve: (p, _a, ctx) => purposeLimits(ctx.db, p.asOf) }),
    derogationLimits: t.field({
      type: [DerogationLimit],
      description: 'The limits in force at asOf (changed through applyPolicyChange).',
      resolve: (p, _a, ctx) => derogationLimits(ctx.db, p.asOf),
    }),
    checkRoute: t.field({
      type: RouteDecision,
      description:
        "How a standing grant (or, with context TRANSFER, one occasional transfer) from an office in `from` would be judged at `at` (default: the policy's asOf), under the policy in force then: to a country `to`, or to the `importer` named — a contractor (its country, role, certifications and every processing location) or an office.",
      args: {
        from: t.arg.string({ required: true }),
        to: t.arg.string({ required: false, description: 'A country; or name an `importer` instead.' }),
        importer: t.arg.id({ required: false, description: 'A Contractor or Office ID; or give `to` instead.' }),
        via: t.arg.id({
          required: false,
          description:
            'An onward route: the Contractor that passes the data on (judged from its country, under the regime of `from`).',
        }),
        importerRole: t.arg({
          type: ContractorRoleEnum,
          required: false,
          description: 'With `to`; default PROCESSOR (SUBPROCESSOR with `via`).',
        }),
        certifications: t.arg({ type: [CertificationEnum], required: false, description: 'With `to`.' }),
        context: t.arg({ type: RouteContextEnum, required: false, defaultValue: 'GRANT' }),
        at: t.arg({
          type: 'DateTime',
          required: false,
          description: 'Judged under the policy in force then, past or future; default the asOf of transferPolicy.',
        }),
        mechanism: t.arg({ type: MechanismEnum, required: false }),
        sccModule: t.arg.int({ required: false }),
        derogationJustification: t.arg.string({ required: false }),
      },
      resolve: (p, { importer, via, ...args }, ctx) => {
        const named =
          importer == null ? undefined : decodeIdOf(['Contractor', 'Office'], String(importer), 'args.importer');
        return checkRoute(
          ctx.db,
          {
            ...args,
            at: args.at ?? p.asOf,
            via: decodeOptionalId('Contractor', via == null ? via : String(via), 'args.via'),
            importer: named && (named.typename === 'Contractor' ? { contractorId: named.id } : { officeId: named.id }),
          },
          ctx.clock.now(),
        );
      },
    }),
  }),
});

builder.queryField('transferPolicy', (t) =>
  t.field({
    type: TransferPolicy,
    authScopes: { staff: true },
    args: {
      asOf: t.arg({
        type: 'DateTime',
        required: false,
        description:
          'The policy in force at this instant, past or future (recorded changes effective later); default now.',
      }),
    },
    resolve: async (_root, { asOf }, ctx) => {
      const at = asOf ?? ctx.clock.now();
      return { asOf: at, tables: await transferPolicy(ctx.db, at) };
    },
  }),
);

const PolicyChangeKindEnum = builder.enumType('PolicyChangeKind', { values: POLICY_CHANGE_KINDS });

builder.drizzleNode('policyChanges', {
  name: 'PolicyChange',
  description: 'One change to the transfer policy, as recorded: what, why, from when, and when it took effect.',
  id: { column: (c) => c.id },
  authScopes: { staff: true },
  fields: (t) => ({
    kind: t.field({ type: PolicyChangeKindEnum, resolve: (c) => c.kind as PolicyChangeKind }),
    details: t.string({
      description: 'The change as given (the input of its kind), as JSON.',
      resolve: (c) => JSON.stringify(c.details),
    }),
    reason: t.exposeString('reason'),
    effectiveAt: t.expose('effectiveAt', { type: 'DateTime' }),
    recordedBy: t.exposeString('recordedBy'),
    recordedAt: t.expose('recordedAt', { type: 'DateTime' }),
    appliedAt: t.expose('appliedAt', {
      type: 'DateTime',
      nullable: true,
      description: "When it took effect (its grants' tokens revoked); null while its effective instant is ahead.",
    }),
    suspendedGrants: t.exposeInt('suspendedGrants', { description: 'Grants it suspended when recorded.' }),
  }),
});

builder.queryField('policyChanges', (t) =>
  t.drizzleConnection(
    {
      type: 'policyChanges',
      description: 'The history of changes to the transfer policy, newest first.',
      authScopes: { staff: true },
      args: { pendingOnly: t.arg.boolean({ required: false, description: 'Only those not yet in effect.' }) },
      resolve: (query, _root, args, ctx) =>
        ctx.db.query.policyChanges.findMany(query({ where: policyChangeFilters(args), orderBy: { id: 'desc' } })),
    },
    { name: 'PolicyChangeConnection' },
    { name: 'PolicyChangeEdge' },
  ),
);

const RepaperOptions = builder.objectRef<RepaperOptionsRow>('RepaperOptions').implement({
  description: 'How a grant a policy change suspends can be made valid again, as repaperGrant judges it now.',
  fields: (t) => ({
    mechanisms: t.field({
      type: [MechanismOption],
      description: 'The mechanisms repaperGrant would accept for it now (empty: none does; revoke it).',
      resolve: (o) => o.mechanisms,
    }),
    parentFirst: t.field({
      type: Grant,
      nullable: true,
      description:
        'An onward grant whose parent grant gives no data now (a policy change suspends it too): that parent, to re-paper or revoke first. repaperGrant refuses this one until then.',
      resolve: (o) => o.parentFirst,
    }),
  }),
});

builder.drizzleObjectField('grants', 'repaperOptions', (t) =>
  t.field({
    type: RepaperOptions,
    nullable: true,
    authScopes: { staff: true },
    description:
      'For a grant waiting to be re-papered (policyFindings): the mechanisms valid for it now and, for an onward grant, the parent to re-paper first. Null when it waits for nothing. Staff only.',
    resolve: (g, _args, ctx) =>
      batched(ctx, 'repaperOptions', g.id, (ids) => repaperOptions(ctx.db, ids, ctx.clock.now())).then(
        (o) => o ?? null,
      ),
  }),
);

const PolicyImpactGrant = builder.objectRef<AffectedGrant>('PolicyImpactGrant').implement({
  fields: (t) => ({
    grant: t.field({ type: Grant, resolve: (g) => g.grant }),
    reason: t.exposeString('reason', { description: 'Why the new policy refuses its route with its mechanism.' }),
    validMechanisms: t.field({
      type: [MechanismOption],
      description: 'Mechanisms that would still be valid for it under the new policy (empty: none; revoke it).',
      resolve: (g) => g.validMechanisms,
    }),
  }),
});

const RecentTransfers = builder.objectRef<PolicyImpactRow['transfers']>('PolicyImpactTransfers').implement({
  description: 'Transfers on the routes of the affected grants (exporting office → contractor) in the last 90 days.',
  fields: (t) => ({
    count: t.exposeInt('count'),
    records: t.float({ resolve: (r) => r.records, description: 'Records transferred.' }),
    categories: t.exposeStringList('categories'),
  }),
});

const OccasionalUse = builder.objectRef<OccasionalUseRow>('OccasionalUse').implement({
  description:
    'A route that used a derogation within 12 months of a changed derogation limit, judged under the limit after the change: transfers and records count the busiest 12 months that contain the change, as a transfer at that instant is judged.',
  fields: (t) => ({
    derogation: t.field({ type: DerogationEnum, resolve: (u) => u.derogation as never }),
    exporterCountry: t.exposeString('exporterCountry'),
    importerCountry: t.exposeString('importerCountry'),
    transfers: t.exposeInt('transfers'),
    records: t.float({ resolve: (u) => u.records }),
    maxTransfers: t.exposeInt('maxTransfers'),
    maxRecords: t.exposeInt('maxRecords'),
    exhausted: t.exposeBoolean('exhausted', {
      description: 'The next transfer under it would go beyond the limit (POLICY_VIOLATION) until older ones age out.',
    }),
  }),
});

const PolicyImpact = builder.objectRef<PolicyImpactRow>('PolicyImpact').implement({
  description: 'What a policy change breaks from its effective instant.',
  fields: (t) => ({
    effectiveAt: t.expose('effectiveAt', { type: 'DateTime' }),
    grants: t.field({
      type: [PolicyImpactGrant],
      description: 'Every grant not ended whose route the change no longer allows.',
      resolve: (i) => i.grants,
    }),
    tokens: t.field({
      type: [AccessToken],
      description: 'Every live contractor token resting on those grants (revoked when the change takes effect).',
      resolve: (i) => i.tokens,
    }),
    contractors: t.field({ type: [Contractor], resolve: (i) => i.contractors }),
    recentTransfers: t.field({ type: RecentTransfers, resolve: (i) => i.transfers }),
    occasionalUse: t.field({
      type: [OccasionalUse],
      description:
        'A derogation limit: every route that used a derogation it governs within 12 months of effectiveAt (empty for other kinds).',
      resolve: (i) => i.occasionalUse,
    }),
  }),
});

const AdoptAdequacyInput = builder.inputType('AdoptAdequacyInput', {
  fields: (t) => ({
    jurisdiction: t.string({ required: true, description: "The exporters' regime, e.g. EU_EEA." }),
    country: t.string({ required: true }),
    instrument: t.string({ required: true }),
    adoptedOn: t.field({ type: 'Date', required: true }),
    scopeCondition: t.string(),
    requiresCertification: t.field({ type: CertificationEnum }),
    endsAt: t.field({ type: 'DateTime', description: 'A sunset: the decision ends then unless renewed.' }),
  }),
});
const AmendAdequacyInput = builder.inputType('AmendAdequacyInput', {
  description: 'Fields given replace those of the decision in force; a suspended decision resumes.',
  fields: (t) => ({
    jurisdiction: t.string({ required: true }),
    country: t.string({ required: true }),
    instrument: t.string(),
    adoptedOn: t.field({ type: 'Date' }),
    scopeCondition: t.string(),
    requiresCertification: t.field({ type: CertificationEnum }),
  }),
});
const AdequacyDecisionRefInput = builder.inputType('AdequacyDecisionRefInput', {
  fields: (t) => ({ jurisdiction: t.string({ required: true }), country: t.string({ required: true }) }),
});
const AddRestrictionInput = builder.inputType('AddRestrictionInput', {
  fields: (t) => ({
    exporterCountry: t.string({ required: true }),
    importerCountry: t.string({ description: 'Null: every destination.' }),
    legalBasis: t.string({ required: true }),
    reason: t.string({ required: true }),
  }),
});
const EndRestrictionInput = builder.inputType('EndRestrictionInput', {
  fields: (t) => ({ restrictionId: t.id({ required: true }) }),
});
const AddJurisdictionInput = builder.inputType('AddJurisdictionInput', {
  fields: (t) => ({
    code: t.string({ required: true, description: 'e.g. CH_FADP' }),
    name: t.string({ required: true }),
    law: t.string({ required: true }),
    members: t.stringList({
      required: true,
      description: 'Its member countries (each in one jurisdiction at a time).',
    }),
  }),
});
const SetPurposeLimitInput = builder.inputType('SetPurposeLimitInput', {
  fields: (t) => ({
    purpose: t.field({ type: PurposeEnum, required: true }),
    categoryKeys: t.stringList({ required: true, description: 'The categories the purpose may use from now on.' }),
  }),
});

const SetDerogationLimitInput = builder.inputType('SetDerogationLimitInput', {
  description:
    'The limit of occasional transfers under a derogation on a route: the next version of the row for this key.',
  fields: (t) => ({
    derogation: t.field({ type: DerogationEnum, description: 'Null: every derogation.' }),
    exporterCountry: t.string({ description: 'Null: any exporter country.' }),
    importerCountry: t.string({ description: 'Null: any importer country.' }),
    maxTransfers: t.int({ required: true, description: 'Transfers per rolling 12 months.' }),
    maxRecords: t.int({ required: true, description: 'Records per rolling 12 months.' }),
  }),
});

const DerogationLimitRefInput = builder.inputType('DerogationLimitRefInput', {
  description: 'A derogation limit by its key (null: every derogation, any country); the default one never ends.',
  fields: (t) => ({
    derogation: t.field({ type: DerogationEnum }),
    exporterCountry: t.string(),
    importerCountry: t.string(),
  }),
});

const PolicyChangeInput = builder.inputType('PolicyChangeInput', {
  description: 'One change to the transfer policy: a reason, an effective instant, and exactly one kind of change.',
  fields: (t) => ({
    reason: t.string({ required: true }),
    effectiveAt: t.field({ type: 'DateTime', description: 'Default now; never in the past.' }),
    adoptAdequacy: t.field({ type: AdoptAdequacyInput }),
    amendAdequacy: t.field({ type: AmendAdequacyInput }),
    suspendAdequacy: t.field({ type: AdequacyDecisionRefInput }),
    endAdequacy: t.field({ type: AdequacyDecisionRefInput }),
    addRestriction: t.field({ type: AddRestrictionInput }),
    endRestriction: t.field({ type: EndRestrictionInput }),
    addJurisdiction: t.field({ type: AddJurisdictionInput }),
    setPurposeLimit: t.field({ type: SetPurposeLimitInput }),
    setDerogationLimit: t.field({ type: SetDerogationLimitInput }),
    endDerogationLimit: t.field({
      type: DerogationLimitRefInput,
      description: 'Its routes fall to the next most specific limit.',
    }),
  }),
});

/** IDs decoded at the edge; everything else is the domain's to validate. */
const decodeChange = (input: Record<string, any>) => ({
  ...input,
  ...(input.endRestriction
    ? {
        endRestriction: {
          restrictionId: decodeId(
            'RouteRestriction',
            input.endRestriction.restrictionId,
            'input.endRestriction.restrictionId',
          ),
        },
      }
    : {}),
});

const PolicyChangeApplied = builder
  .objectRef<{ change: PolicyChangeRow; impact: PolicyImpactRow }>('PolicyChangeApplied')
  .implement({
    fields: (t) => ({
      change: t.field({ type: 'PolicyChange' as never, resolve: (r) => r.change as never }),
      impact: t.field({ type: PolicyImpact, resolve: (r) => r.impact }),
    }),
  });

builder.queryField('previewPolicyChange', (t) =>
  t.field({
    type: PolicyImpact,
    description: 'What applyPolicyChange would break, computed the same way; writes nothing.',
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: PolicyChangeInput, required: true }) },
    resolve: (_root, { input }, ctx) => previewPolicyChange(ctx, ctx.principal, decodeChange(input)),
  }),
);

/** Released before limits were policy changes; kept for its clients, a thin call of the one path. */
builder.mutationField('setDerogationLimit', (t) =>
  t.field({
    type: DerogationLimit,
    description:
      'Sets the limit for a derogation on a route from now: a policy change of kind setDerogationLimit, effective now; audited.',
    deprecationReason: 'use applyPolicyChange with setDerogationLimit',
    authScopes: { compliance: true },
    errors: { dataField: { name: 'derogationLimit' } },
    args: { input: t.arg({ type: SetDerogationLimitInput, required: true }) },
    resolve: (_root, { input }, ctx) => setDerogationLimitNow(ctx, ctx.principal, input),
  }),
);

builder.mutationField('applyPolicyChange', (t) =>
  t.field({
    type: PolicyChangeApplied,
    description:
      'Records a change to the transfer policy. From its effective instant the grants it breaks read SUSPENDED_BY_POLICY and their tokens are revoked (on every instance, with nobody running a job).',
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: PolicyChangeInput, required: true }) },
    resolve: (_root, { input }, ctx) => applyPolicyChange(ctx, ctx.principal, decodeChange(input)),
  }),
);
