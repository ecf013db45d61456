// Legal-disclosure requests: the type, the lists, the transparency report and the four moves. The state machine,
// the Art. 48 flag and the LEGAL_DISCLOSURE transfer live in src/registry/disclosures.ts.
import { AUTHORITY_TYPES, DISCLOSURE_DECISIONS, DISCLOSURE_STATUSES, LEGAL_INSTRUMENTS } from '../db/enums.js';
import {
  decideDisclosureRequest,
  disclosureFilters,
  isOverdue,
  overdueFilter,
  receiveDisclosureRequest,
  startDisclosureReview,
  transparencyReport,
  withdrawDisclosureRequest,
  type TransparencyRow,
} from '../registry/disclosures.js';
import { builder } from './builder.js';
import { MechanismEnum } from './grants.js';
import { decodeId } from './input.js';

const AuthorityTypeEnum = builder.enumType('AuthorityType', { values: AUTHORITY_TYPES });
const LegalInstrumentEnum = builder.enumType('LegalInstrument', { values: LEGAL_INSTRUMENTS });
const DisclosureStatusEnum = builder.enumType('DisclosureStatus', { values: DISCLOSURE_STATUSES });
const DisclosureDecisionEnum = builder.enumType('DisclosureDecision', { values: DISCLOSURE_DECISIONS });

const DisclosureRequest = builder.drizzleNode('disclosureRequests', {
  name: 'DisclosureRequest',
  id: { column: (r) => r.id },
  authScopes: { staff: true },
  fields: (t) => ({
    office: t.relation('office', { description: 'The exporting office whose data is asked for.' }),
    authorityName: t.exposeString('authorityName'),
    authorityType: t.expose('authorityType', { type: AuthorityTypeEnum }),
    authorityCountry: t.exposeString('authorityCountry'),
    instrument: t.expose('instrument', { type: LegalInstrumentEnum }),
    reference: t.exposeString('reference'),
    receivedAt: t.expose('receivedAt', { type: 'DateTime' }),
    dueAt: t.expose('dueAt', { type: 'DateTime' }),
    overdue: t.boolean({ resolve: (r, _args, ctx) => isOverdue(r, ctx.clock.now()) }),
    requestedCategories: t.exposeStringList('requestedCategories'),
    subjectsRequested: t.exposeInt('subjectsRequested'),
    status: t.expose('status', { type: DisclosureStatusEnum }),
    foreignAuthority: t.exposeBoolean('foreignAuthority', {
      description: "GDPR Art. 48: the authority is outside the exporting office's jurisdiction.",
    }),
    foreignAuthorityReason: t.exposeString('foreignAuthorityReason', { nullable: true }),
    legalBasis: t.exposeString('legalBasis', {
      nullable: true,
      description: 'The international agreement (e.g. MLAT reference) relied on.',
    }),
    disclosedCategories: t.exposeStringList('disclosedCategories', { nullable: true }),
    subjectsDisclosed: t.exposeInt('subjectsDisclosed', { nullable: true }),
    rationale: t.exposeString('rationale', { nullable: true }),
    gagUntil: t.expose('gagUntil', {
      type: 'Date',
      nullable: true,
      description: 'Non-disclosure order until this date.',
    }),
    exporterNotified: t.exposeBoolean('exporterNotified'),
    subjectsNotified: t.exposeBoolean('subjectsNotified'),
    challenged: t.exposeBoolean('challenged', { description: 'SCC clause 15.1/15.2: the request was challenged.' }),
    decidedBy: t.exposeString('decidedBy', { nullable: true }),
    decidedAt: t.expose('decidedAt', { type: 'DateTime', nullable: true }),
    transfers: t.relation('transfers', {
      description: 'The LEGAL_DISCLOSURE transfer a disclosure wrote.',
      query: { orderBy: { id: 'asc' } },
    }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.drizzleObjectField('transfers', 'disclosureRequest', (t) =>
  t.relation('disclosureRequest', { nullable: true }),
);

builder.queryFields((t) => ({
  disclosureRequests: t.drizzleConnection(
    {
      type: 'disclosureRequests',
      authScopes: { staff: true },
      description: 'Newest first.',
      args: {
        status: t.arg({ type: DisclosureStatusEnum, required: false }),
        foreignOnly: t.arg.boolean({ required: false, description: 'Only requests flagged under GDPR Art. 48.' }),
        overdueOnly: t.arg.boolean({ required: false, description: 'Only undecided requests past their due date.' }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.db.query.disclosureRequests.findMany(
          query({ where: disclosureFilters(args, ctx.clock.now()), orderBy: { id: 'desc' } }),
        ),
    },
    { name: 'DisclosureRequestConnection' },
    { name: 'DisclosureRequestEdge' },
  ),
  overdueDisclosureRequests: t.drizzleConnection(
    {
      type: 'disclosureRequests',
      authScopes: { staff: true },
      description: 'Undecided requests past their due date, most overdue first.',
      resolve: (query, _root, _args, ctx) =>
        ctx.db.query.disclosureRequests.findMany(
          query({ where: overdueFilter(ctx.clock.now()), orderBy: { dueAt: 'asc', id: 'asc' } }),
        ),
    },
    { name: 'OverdueDisclosureRequestConnection' },
    { name: 'OverdueDisclosureRequestEdge' },
  ),
}));

const TransparencyReportRow = builder.objectRef<TransparencyRow>('TransparencyReportRow').implement({
  fields: (t) => ({
    country: t.exposeString('country', { description: "The requesting authority's country." }),
    authorityType: t.expose('authorityType', { type: AuthorityTypeEnum }),
    received: t.exposeInt('received'),
    disclosed: t.exposeInt('disclosed'),
    partiallyDisclosed: t.exposeInt('partiallyDisclosed'),
    rejected: t.exposeInt('rejected'),
    withdrawn: t.exposeInt('withdrawn'),
    pending: t.exposeInt('pending'),
    subjectsAffected: t.exposeInt('subjectsAffected', {
      description: 'Subjects whose data was disclosed, fully or partially.',
    }),
  }),
});

builder.queryField('transparencyReport', (t) =>
  t.field({
    type: [TransparencyReportRow],
    authScopes: { staff: true },
    description:
      'Requests received in [from, to) per country and authority type. Also as CSV: GET /export/transparency-report.csv?from=…&to=….',
    args: { from: t.arg({ type: 'DateTime', required: true }), to: t.arg({ type: 'DateTime', required: true }) },
    resolve: (_root, args, ctx) => transparencyReport(ctx.db, args.from, args.to),
  }),
);

const ReceiveInput = builder.inputType('ReceiveDisclosureRequestInput', {
  fields: (t) => ({
    officeId: t.id({ required: true, description: 'The exporting office whose data is asked for.' }),
    authorityName: t.string({ required: true }),
    authorityType: t.field({ type: AuthorityTypeEnum, required: true }),
    authorityCountry: t.string({ required: true }),
    instrument: t.field({ type: LegalInstrumentEnum, required: true }),
    reference: t.string({ required: true }),
    receivedAt: t.field({ type: 'DateTime', description: 'Defaults to now.' }),
    dueAt: t.field({ type: 'DateTime', required: true }),
    requestedCategories: t.stringList({ required: true }),
    subjectsRequested: t.int({ required: true }),
    legalBasis: t.string({ description: 'An international agreement (e.g. MLAT reference), if already known.' }),
    gagUntil: t.field({ type: 'Date' }),
  }),
});

const IdInput = builder.inputType('DisclosureRequestIdInput', { fields: (t) => ({ id: t.id({ required: true }) }) });
const WithdrawInput = builder.inputType('WithdrawDisclosureRequestInput', {
  fields: (t) => ({ id: t.id({ required: true }), reason: t.string({ required: true }) }),
});
const DecideInput = builder.inputType('DecideDisclosureRequestInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    decision: t.field({ type: DisclosureDecisionEnum, required: true }),
    disclosedCategories: t.stringList({
      description: 'PARTIALLY_DISCLOSED: required, a subset of those requested. DISCLOSED: defaults to all requested.',
    }),
    subjectsDisclosed: t.int({
      description: 'Defaults to the number requested for DISCLOSED; required for PARTIALLY_DISCLOSED.',
    }),
    rationale: t.string({ description: 'Required for PARTIALLY_DISCLOSED and REJECTED.' }),
    legalBasis: t.string({
      description: 'Required to disclose on a request flagged under Art. 48, unless recorded at receipt.',
    }),
    mechanism: t.field({
      type: MechanismEnum,
      description:
        'Where the route to the authority needs one: an Art. 49 derogation (e.g. LEGAL_CLAIMS, PUBLIC_INTEREST).',
    }),
    derogationJustification: t.string({ description: 'Defaults to the legal basis.' }),
    exporterNotified: t.boolean(),
    subjectsNotified: t.boolean(),
    challenged: t.boolean(),
  }),
});

const idOf = (globalId: string) => decodeId('DisclosureRequest', globalId, 'input.id');

builder.mutationFields((t) => ({
  receiveDisclosureRequest: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    args: { input: t.arg({ type: ReceiveInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      receiveDisclosureRequest(ctx, ctx.principal, {
        ...input,
        officeId: decodeId('Office', input.officeId, 'input.officeId'),
      }),
  }),
  startDisclosureReview: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    args: { input: t.arg({ type: IdInput, required: true }) },
    resolve: (_root, { input }, ctx) => startDisclosureReview(ctx, ctx.principal, { id: idOf(input.id) }),
  }),
  withdrawDisclosureRequest: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    description: 'The authority withdrew its request before a decision.',
    args: { input: t.arg({ type: WithdrawInput, required: true }) },
    resolve: (_root, { input }, ctx) => withdrawDisclosureRequest(ctx, ctx.principal, { ...input, id: idOf(input.id) }),
  }),
  decideDisclosureRequest: t.field({
    type: DisclosureRequest,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'disclosureRequest' } },
    description:
      'Decides a request under review. A disclosure writes its LEGAL_DISCLOSURE transfer in the same transaction.',
    args: { input: t.arg({ type: DecideInput, required: true }) },
    resolve: (_root, { input }, ctx) => decideDisclosureRequest(ctx, ctx.principal, { ...input, id: idOf(input.id) }),
  }),
}));
