// Transfers: the type, the list, the summary and recordTransfer. The rules, filters and writes live in
// src/registry/transfers.ts.
import { IMPORTER_KINDS, TRANSFER_KINDS } from '../db/enums.js';
import {
  recordTransfer,
  transferFilters,
  transferSummary,
  readNewestFirst,
  originCountryOf,
  TRANSFER_ORDER,
  type TransferSummaryRow,
} from '../registry/transfers.js';
import { builder } from './builder.js';
import { MechanismEnum, PurposeEnum } from './grants.js';
import { decodeId, decodeOptionalId } from './input.js';
import { mayReadTransfer } from '../registry/visibility.js';

const TransferKindEnum = builder.enumType('TransferKind', { values: TRANSFER_KINDS });
const ImporterKindEnum = builder.enumType('ImporterKind', { values: IMPORTER_KINDS });

const Transfer = builder.drizzleNode('transfers', {
  name: 'Transfer',
  id: { column: (t) => t.id },
  // Staff read the whole history; a contractor only the record of its own fetches (`accessHistory`).
  authScopes: (t, ctx) => mayReadTransfer(ctx.principal, t),
  description: 'One event of the transfer history. Never updated, never deleted.',
  fields: (t) => ({
    occurredAt: t.expose('occurredAt', { type: 'DateTime' }),
    kind: t.expose('kind', { type: TransferKindEnum }),
    exporterOffice: t.relation('exporterOffice', { description: 'The office the data comes from.' }),
    exporterContractor: t.relation('exporterContractor', {
      nullable: true,
      description: 'ONWARD_TRANSFER: the processor passing the data on.',
    }),
    exporterCountry: t.exposeString('exporterCountry', {
      description: 'The country the data left on this hop (for ONWARD_TRANSFER, the processor passing it on).',
    }),
    originCountry: t.string({
      description:
        "The original exporter's country: the exporting office's, whose regime the route was judged under (for ONWARD_TRANSFER it differs from exporterCountry where the processor is elsewhere).",
      select: { columns: { originCountry: true, exporterCountry: true } },
      resolve: originCountryOf,
    }),
    importerKind: t.expose('importerKind', { type: ImporterKindEnum }),
    importerContractor: t.relation('importerContractor', { nullable: true }),
    importerOffice: t.relation('importerOffice', { nullable: true }),
    importerAuthority: t.exposeString('importerAuthority', { nullable: true }),
    importerCountry: t.exposeString('importerCountry'),
    categories: t.exposeStringList('categories', { description: 'Data-category keys.' }),
    purpose: t.expose('purpose', { type: PurposeEnum }),
    mechanism: t.expose('mechanism', { type: MechanismEnum }),
    sccModule: t.exposeInt('sccModule', { nullable: true }),
    derogationJustification: t.exposeString('derogationJustification', { nullable: true }),
    policyExplanation: t.exposeString('policyExplanation', {
      description: 'Why the transfer policy allowed this route.',
    }),
    recordCount: t.exposeInt('recordCount'),
    crossBorder: t.exposeBoolean('crossBorder', { description: 'Exporter and importer are in different countries.' }),
    thirdCountry: t.exposeBoolean('thirdCountry', {
      description: "The data is outside the original exporter's jurisdiction (e.g. the EU/EEA) on arrival.",
    }),
    grant: t.relation('grant', { nullable: true }),
    accessToken: t.relation('accessToken', { nullable: true }),
    recordedBy: t.exposeString('recordedBy'),
  }),
});

/** The domain filter of the list from its arguments: the contractor's global ID decoded. */
export const transferWhere = (args: { contractorId?: unknown }) =>
  transferFilters({
    ...args,
    contractorId: decodeOptionalId(
      'Contractor',
      args.contractorId == null ? undefined : String(args.contractorId),
      'args.contractorId',
    ),
  });

const filterArgs = (t: any) => ({
  from: t.arg({ type: 'DateTime', required: false, description: 'Inclusive.' }),
  to: t.arg({ type: 'DateTime', required: false, description: 'Exclusive.' }),
  contractorId: t.arg.id({ required: false, description: 'The importing contractor.' }),
  importerCountry: t.arg.string({ required: false }),
  category: t.arg.string({ required: false, description: 'Transfers that included this data-category key.' }),
  purpose: t.arg({ type: PurposeEnum, required: false }),
  kind: t.arg({ type: TransferKindEnum, required: false }),
  mechanism: t.arg({ type: MechanismEnum, required: false }),
  crossBorderOnly: t.arg.boolean({ required: false, description: 'Only transfers between two countries.' }),
  thirdCountryOnly: t.arg.boolean({
    required: false,
    description: "Only transfers that left the exporter's jurisdiction (e.g. left the EU/EEA).",
  }),
});

const TransferSummaryRowRef = builder.objectRef<TransferSummaryRow>('TransferSummaryRow').implement({
  fields: (t) => ({
    importerCountry: t.exposeString('importerCountry'),
    mechanism: t.expose('mechanism', { type: MechanismEnum }),
    transfers: t.exposeInt('transfers'),
    records: t.exposeInt('records', { description: "Sum of the transfers' record counts." }),
  }),
});

builder.queryFields((t) => ({
  transfers: t.drizzleConnection(
    {
      type: 'transfers',
      authScopes: { staff: true },
      description:
        'The transfer history, newest first. Also as CSV: GET /export/transfers.csv with the same arguments.',
      args: filterArgs(t),
      resolve: (query, _root, args, ctx) =>
        readNewestFirst(
          query({ where: transferWhere(args) as never, orderBy: TRANSFER_ORDER }),
          args,
          ctx.clock.now(),
          (q) => ctx.db.query.transfers.findMany(q),
        ),
    },
    { name: 'TransferConnection' },
    { name: 'TransferEdge' },
  ),
  transferSummary: t.field({
    type: [TransferSummaryRowRef],
    authScopes: { staff: true },
    description: 'Transfers counted by destination country and mechanism over [from, to).',
    args: {
      from: t.arg({ type: 'DateTime', required: true }),
      to: t.arg({ type: 'DateTime', required: true }),
      crossBorderOnly: t.arg.boolean({ required: false }),
      thirdCountryOnly: t.arg.boolean({ required: false }),
    },
    resolve: (_root, args, ctx) => transferSummary(ctx.db, args),
  }),
}));

const RecordTransferInput = builder.inputType('RecordTransferInput', {
  fields: (t) => ({
    officeId: t.id({ required: true, description: 'The exporting office (where the data comes from).' }),
    contractorId: t.id({
      description:
        'Importer: a contractor (CONTRACTOR_SHARE), or with viaContractorId a sub-processor (ONWARD_TRANSFER).',
    }),
    importerOfficeId: t.id({ description: 'Importer: another office (INTRA_GROUP).' }),
    viaContractorId: t.id({
      description: 'ONWARD_TRANSFER: the processor that passes the data to its sub-processor contractorId.',
    }),
    categories: t.stringList({ required: true }),
    purpose: t.field({ type: PurposeEnum, required: true }),
    recordCount: t.int({ required: true, description: "How many subjects' records moved: at least 1." }),
    occurredAt: t.field({ type: 'DateTime', description: 'Defaults to now; never in the future.' }),
    mechanism: t.field({
      type: MechanismEnum,
      description:
        'Only where the route needs one that no grant supplies: BCR/INTRA_GROUP_AGREEMENT between offices, SCC with its module, or an Art. 49 derogation with a justification.',
    }),
    sccModule: t.int(),
    derogationJustification: t.string(),
  }),
});

builder.mutationFields((t) => ({
  recordTransfer: t.field({
    type: Transfer,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'transfer' } },
    description:
      'Records one transfer after checking it against the grants and the transfer policy; mechanism and cross-border flags are derived.',
    args: { input: t.arg({ type: RecordTransferInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      recordTransfer(ctx, ctx.principal, {
        ...input,
        officeId: decodeId('Office', input.officeId, 'input.officeId'),
        contractorId: decodeOptionalId('Contractor', input.contractorId, 'input.contractorId'),
        importerOfficeId: decodeOptionalId('Office', input.importerOfficeId, 'input.importerOfficeId'),
        viaContractorId: decodeOptionalId('Contractor', input.viaContractorId, 'input.viaContractorId'),
      }),
  }),
}));
