// The privacy policy's sharing section: what it must say now, its published versions, and the drift between the
// registry and the latest one. The statements, the rendering and the comparison live in
// src/registry/published-disclosure.ts.
import {
  STATEMENT_KINDS,
  disclosureDrift,
  publishDisclosure,
  publishedDisclosure,
  type DisclosureDocument,
  type DisclosureVersion as DisclosureVersionRow,
  type DriftItem as DriftItemRow,
  type Statement,
} from '../registry/published-disclosure.js';
import { builder } from './builder.js';

const StatementKindEnum = builder.enumType('DisclosureStatementKind', {
  values: STATEMENT_KINDS,
  description:
    'CONTRACTOR_COUNTRY: contractors providing service `subject` handle data in country `object`. OFFICE_COUNTRY: an office is in `object`. CATEGORY: category `object` is shared for purpose `subject`. MECHANISM: data reaches country `subject` under mechanism `object`.',
});

const DisclosureStatement = builder.objectRef<Statement>('DisclosureStatement').implement({
  description: 'One fact the sharing section states.',
  fields: (t) => ({
    kind: t.field({ type: StatementKindEnum, resolve: (s) => s.kind }),
    subject: t.exposeString('subject'),
    object: t.exposeString('object'),
  }),
});

const ContractorService = builder
  .objectRef<DisclosureDocument['contractors'][number]>('DisclosureContractorService')
  .implement({
    fields: (t) => ({ service: t.exposeString('service'), countries: t.exposeStringList('countries') }),
  });
const PurposeCategories = builder
  .objectRef<DisclosureDocument['categories'][number]>('DisclosurePurposeCategories')
  .implement({
    fields: (t) => ({ purpose: t.exposeString('purpose'), categories: t.exposeStringList('categories') }),
  });
const CountryMechanisms = builder
  .objectRef<DisclosureDocument['mechanisms'][number]>('DisclosureCountryMechanisms')
  .implement({
    fields: (t) => ({ country: t.exposeString('country'), mechanisms: t.exposeStringList('mechanisms') }),
  });

const Disclosure = builder.objectRef<DisclosureDocument>('Disclosure').implement({
  description:
    'What the privacy policy’s sharing section must say: contractor services and countries, offices, categories per purpose, mechanisms per country, how to object; as data and as Markdown.',
  fields: (t) => ({
    asOf: t.expose('asOf', { type: 'DateTime' }),
    contractors: t.field({ type: [ContractorService], resolve: (d) => d.contractors }),
    offices: t.exposeStringList('offices'),
    categories: t.field({ type: [PurposeCategories], resolve: (d) => d.categories }),
    mechanisms: t.field({ type: [CountryMechanisms], resolve: (d) => d.mechanisms }),
    howToObject: t.exposeString('howToObject'),
    statements: t.field({ type: [DisclosureStatement], resolve: (d) => d.statements }),
    markdown: t.exposeString('markdown'),
  }),
});

const DisclosureVersion = builder.objectRef<DisclosureVersionRow>('DisclosureVersion').implement({
  description: 'A published version of the sharing section, frozen.',
  fields: (t) => ({
    version: t.exposeInt('version'),
    effectiveOn: t.expose('effectiveOn', { type: 'Date' }),
    publishedAt: t.expose('publishedAt', { type: 'DateTime' }),
    publishedBy: t.exposeString('publishedBy'),
    statements: t.field({ type: [DisclosureStatement], resolve: (v) => v.statements as Statement[] }),
    markdown: t.exposeString('markdown'),
  }),
});

const DriftKindEnum = builder.enumType('DisclosureDriftKind', {
  values: ['UNCOVERED', 'NO_LONGER_TRUE'] as const,
  description:
    'UNCOVERED: true of the registry now, missing from the published version. NO_LONGER_TRUE: published, no longer true.',
});

const DriftItem = builder.objectRef<DriftItemRow>('DisclosureDriftItem').implement({
  fields: (t) => ({
    drift: t.field({ type: DriftKindEnum, resolve: (i) => i.drift }),
    statement: t.field({ type: DisclosureStatement, resolve: (i) => i.statement }),
    sources: t.stringList({
      description: 'UNCOVERED: the IDs of the grants, processing locations, offices and transfers behind it.',
      resolve: (i) => i.sources,
    }),
  }),
});

const DisclosureDrift = builder.objectRef<Awaited<ReturnType<typeof disclosureDrift>>>('DisclosureDrift').implement({
  fields: (t) => ({
    version: t.field({
      type: DisclosureVersion,
      nullable: true,
      description: 'The latest published version; null when none is.',
      resolve: (d) => d.version,
    }),
    items: t.field({ type: [DriftItem], resolve: (d) => d.items }),
  }),
});

builder.queryFields((t) => ({
  publishedDisclosure: t.field({
    type: Disclosure,
    description: 'What the privacy policy’s sharing section must say now, from the registry.',
    authScopes: { staff: true },
    resolve: (_root, _args, ctx) => publishedDisclosure(ctx.db, ctx.clock.now()),
  }),
  disclosureDrift: t.field({
    type: DisclosureDrift,
    description:
      'Every live grant, processing location, office or recent transfer route the latest published version does not cover, and every published statement no longer true.',
    authScopes: { staff: true },
    resolve: (_root, _args, ctx) => disclosureDrift(ctx.db, ctx.clock.now()),
  }),
}));

const PublishDisclosureInput = builder.inputType('PublishDisclosureInput', {
  fields: (t) => ({ effectiveOn: t.field({ type: 'Date', description: 'Defaults to today.' }) }),
});

builder.mutationField('publishDisclosure', (t) =>
  t.field({
    type: DisclosureVersion,
    description: 'Freezes what the sharing section must say now as the next dated version; audited.',
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureVersion' } },
    args: { input: t.arg({ type: PublishDisclosureInput, required: false }) },
    resolve: (_root, { input }, ctx) => publishDisclosure(ctx, ctx.principal, { effectiveOn: input?.effectiveOn }),
  }),
);
