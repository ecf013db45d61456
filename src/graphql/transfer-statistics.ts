// The auditor's aggregates of the transfer history (src/registry/transfer-statistics.ts): flows, monthly volume,
// top contractors. Staff only, like the history they summarise; each also a CSV export (src/http/csv.ts).
import { publicId } from '../registry/ids.js';
import {
  monthlyVolume,
  topContractors,
  transferFlows,
  type ContractorVolume,
  type MonthlyVolume,
  type TransferFlow,
} from '../registry/transfer-statistics.js';
import { builder } from './builder.js';
import { MechanismEnum } from './grants.js';

// Record counts are summed over up to millions of transfers: past GraphQL's 32-bit Int, so Float (exact to 2^53).
const recordsDescription = "Sum of the transfers' record counts.";

const TransferFlowRef = builder.objectRef<TransferFlow>('TransferFlow').implement({
  description: 'Transfers from one exporter country to one importer country under one mechanism.',
  fields: (t) => ({
    exporterCountry: t.exposeString('exporterCountry'),
    importerCountry: t.exposeString('importerCountry'),
    mechanism: t.expose('mechanism', { type: MechanismEnum }),
    thirdCountry: t.exposeBoolean('thirdCountry', {
      description: "The data left the exporter's jurisdiction (e.g. the EU/EEA).",
    }),
    transfers: t.exposeInt('transfers'),
    records: t.exposeFloat('records', { description: recordsDescription }),
  }),
});

const MonthlyVolumeRef = builder.objectRef<MonthlyVolume>('MonthlyTransferVolume').implement({
  fields: (t) => ({
    month: t.exposeString('month', { description: 'YYYY-MM, in UTC.' }),
    transfers: t.exposeInt('transfers'),
    records: t.exposeFloat('records', { description: recordsDescription }),
    thirdCountryRecords: t.exposeFloat('thirdCountryRecords', {
      description: "Records that left the exporter's jurisdiction.",
    }),
  }),
});

const ContractorVolumeRef = builder.objectRef<ContractorVolume>('ContractorTransferVolume').implement({
  fields: (t) => ({
    contractorId: t.id({ resolve: (r) => publicId('Contractor', r.contractorId) }),
    legalName: t.exposeString('legalName'),
    country: t.exposeString('country'),
    transfers: t.exposeInt('transfers'),
    records: t.exposeFloat('records', { description: recordsDescription }),
  }),
});

builder.queryFields((t) => {
  const period = {
    from: t.arg({ type: 'DateTime', required: true }),
    to: t.arg({ type: 'DateTime', required: true, description: 'Exclusive.' }),
  };
  return {
    transferFlows: t.field({
      type: [TransferFlowRef],
      authScopes: { staff: true },
      description:
        'Transfers over [from, to) per exporter country → importer country and mechanism, third-country flows marked. Also as CSV: GET /export/transfer-flows.csv?from=…&to=….',
      args: period,
      resolve: (_root, args, ctx) => transferFlows(ctx.db, args),
    }),
    monthlyTransferVolume: t.field({
      type: [MonthlyVolumeRef],
      authScopes: { staff: true },
      description:
        'Transfers over [from, to) per calendar month (UTC). Also as CSV: GET /export/monthly-volume.csv?from=…&to=….',
      args: period,
      resolve: (_root, args, ctx) => monthlyVolume(ctx.db, args),
    }),
    topContractors: t.field({
      type: [ContractorVolumeRef],
      authScopes: { staff: true },
      description:
        'The contractors that received the most records over [from, to). Also as CSV: GET /export/top-contractors.csv?from=…&to=….',
      args: { ...period, limit: t.arg.int({ required: false, description: '1–100; default 10.' }) },
      resolve: (_root, args, ctx) => topContractors(ctx.db, args),
    }),
  };
});
