// The transfer policy as data: jurisdictions, members, adequacy decisions, forbidden routes, and a route check
// that explains its decision the same way grants and transfers are judged.
import type { Decision, PolicyTables } from '../policy/transfer-rules.js';
import { checkRoute, transferPolicy } from '../registry/policy.js';
import { builder } from './builder.js';
import { CertificationEnum, ContractorRoleEnum } from './contractors.js';
import { MechanismEnum } from './grants.js';

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

const RouteDecision = builder.objectRef<Decision>('RouteDecision').implement({
  fields: (t) => ({
    allowed: t.exposeBoolean('allowed'),
    crossBorder: t.exposeBoolean('crossBorder'),
    mechanism: t.field({ type: MechanismEnum, nullable: true, resolve: (d) => (d.allowed ? d.mechanism : null) }),
    sccModule: t.int({ nullable: true, resolve: (d) => (d.allowed ? d.sccModule : null) }),
    explanation: t.string({ resolve: (d) => (d.allowed ? d.explanation : d.reason) }),
  }),
});

const TransferPolicy = builder.objectRef<PolicyTables>('TransferPolicy').implement({
  fields: (t) => ({
    jurisdictions: t.field({
      type: [Jurisdiction],
      resolve: (p) => [...p.jurisdictionNames].map(([code, name]) => ({ code, name, tables: p })),
    }),
    restrictions: t.field({ type: [RouteRestriction], resolve: (p) => p.restrictions }),
    checkRoute: t.field({
      type: RouteDecision,
      description: 'How a standing grant from an office in `from` to a contractor in `to` would be judged.',
      args: {
        from: t.arg.string({ required: true }),
        to: t.arg.string({ required: true }),
        importerRole: t.arg({ type: ContractorRoleEnum, required: false, defaultValue: 'PROCESSOR' }),
        certifications: t.arg({ type: [CertificationEnum], required: false }),
        mechanism: t.arg({ type: MechanismEnum, required: false }),
        sccModule: t.arg.int({ required: false }),
      },
      resolve: (p, args, ctx) => checkRoute(p, args, ctx.clock.now()),
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
