// The transfer policy as data: jurisdictions, members, adequacy decisions, forbidden routes, and a route check
// that explains its decision the same way grants and transfers are judged.
import { ROUTE_CONTEXTS, type Decision, type PolicyTables } from '../policy/transfer-rules.js';
import { checkRoute, purposeLimits, transferPolicy } from '../registry/policy.js';
import type { PurposeLimit as PurposeLimitRow } from '../policy/purpose-limits.js';
import { builder } from './builder.js';
import { CertificationEnum, ContractorRoleEnum } from './contractors.js';
import { MechanismEnum, PurposeEnum } from './grants.js';
import { decodeIdOf } from './input.js';

const RouteContextEnum = builder.enumType('RouteContext', {
  values: ROUTE_CONTEXTS,
  description: 'GRANT: a standing grant. TRANSFER: one occasional transfer, the only context for Art. 49 derogations.',
});

type AdequacyRow = PolicyTables['adequacy'][number];
type RestrictionRow = PolicyTables['restrictions'][number];

const AdequacyDecision = builder.objectRef<AdequacyRow>('AdequacyDecision').implement({
  fields: (t) => ({
    jurisdiction: t.exposeString('jurisdiction'),
    country: t.exposeString('country'),
    instrument: t.exposeString('instrument'),
    adoptedOn: t.expose('adoptedOn', { type: 'Date' }),
    scopeCondition: t.exposeString('scopeCondition', { nullable: true }),
    requiresCertification: t.expose('requiresCertification', { type: CertificationEnum, nullable: true }),
  }),
});

const RouteRestriction = builder.objectRef<RestrictionRow>('RouteRestriction').implement({
  fields: (t) => ({
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

const RouteDecision = builder.objectRef<Decision & { importerCountry: string }>('RouteDecision').implement({
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed'),
    importerCountry: t.exposeString('importerCountry', {
      description: "Refused: the destination that fails (a contractor's country or one of its processing locations).",
    }),
    crossBorder: t.exposeBoolean('crossBorder'),
    mechanism: t.field({ type: MechanismEnum, nullable: true, resolve: (d) => (d.allowed ? d.mechanism : null) }),
    sccModule: t.int({ nullable: true, resolve: (d) => (d.allowed ? d.sccModule : null) }),
    explanation: t.string({ resolve: (d) => (d.allowed ? d.explanation : d.reason) }),
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

const TransferPolicy = builder.objectRef<PolicyTables>('TransferPolicy').implement({
  fields: (t) => ({
    jurisdictions: t.field({
      type: [Jurisdiction],
      resolve: (p) => [...p.jurisdictionNames].map(([code, name]) => ({ code, name, tables: p })),
    }),
    restrictions: t.field({ type: [RouteRestriction], resolve: (p) => p.restrictions }),
    purposeLimits: t.field({ type: [PurposeLimit], resolve: (_p, _a, ctx) => purposeLimits(ctx.db) }),
    checkRoute: t.field({
      type: RouteDecision,
      description:
        'How a standing grant (or, with context TRANSFER, one occasional transfer) from an office in `from` would be judged at `at`: to a country `to`, or to the `importer` named — a contractor (its country, role, certifications and every processing location) or an office.',
      args: {
        from: t.arg.string({ required: true }),
        to: t.arg.string({ required: false, description: 'A country; or name an `importer` instead.' }),
        importer: t.arg.id({ required: false, description: 'A Contractor or Office ID; or give `to` instead.' }),
        importerRole: t.arg({
          type: ContractorRoleEnum,
          required: false,
          description: 'With `to`; default PROCESSOR.',
        }),
        certifications: t.arg({ type: [CertificationEnum], required: false, description: 'With `to`.' }),
        context: t.arg({ type: RouteContextEnum, required: false, defaultValue: 'GRANT' }),
        at: t.arg({
          type: 'DateTime',
          required: false,
          description: 'Judged under the policy in force then; default now.',
        }),
        mechanism: t.arg({ type: MechanismEnum, required: false }),
        sccModule: t.arg.int({ required: false }),
        derogationJustification: t.arg.string({ required: false }),
      },
      resolve: (p, { importer, ...args }, ctx) => {
        const named =
          importer == null ? undefined : decodeIdOf(['Contractor', 'Office'], String(importer), 'args.importer');
        return checkRoute(
          ctx.db,
          p,
          {
            ...args,
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
    resolve: (_root, _args, ctx) => transferPolicy(ctx.db),
  }),
);
