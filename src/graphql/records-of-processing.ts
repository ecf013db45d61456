// The GDPR Art. 30(1) record of processing activities as a query; it is assembled in
// src/registry/records-of-processing.ts, which the CSV export reads too.
import {
  recordsOfProcessing,
  type ProcessingActivity,
  type Recipient,
  type RecordsOfProcessing,
  type SecurityMeasure,
  type ThirdCountryTransfer,
} from '../registry/records-of-processing.js';
import { builder } from './builder.js';
import { MechanismEnum, PurposeEnum } from './grants.js';

const RecipientRef = builder.objectRef<Recipient>('ProcessingRecipient').implement({
  fields: (t) => ({
    legalName: t.exposeString('legalName'),
    country: t.exposeString('country'),
    role: t.exposeString('role'),
  }),
});
const ThirdCountryRef = builder.objectRef<ThirdCountryTransfer>('ThirdCountryTransfer').implement({
  fields: (t) => ({
    recipient: t.exposeString('recipient'),
    exporterCountry: t.exposeString('exporterCountry'),
    importerCountry: t.exposeString('importerCountry'),
    mechanism: t.expose('mechanism', { type: MechanismEnum, description: 'The safeguard (Art. 30(1)(e)).' }),
    sccModule: t.exposeInt('sccModule', { nullable: true }),
    tiaReference: t.exposeString('tiaReference', { nullable: true }),
  }),
});
const SecurityMeasureRef = builder.objectRef<SecurityMeasure>('SecurityMeasure').implement({
  fields: (t) => ({
    contractor: t.exposeString('contractor'),
    text: t.exposeString('text'),
    sourceDocument: t.exposeString('sourceDocument'),
    clause: t.exposeString('clause', { nullable: true }),
  }),
});
const ActivityRef = builder.objectRef<ProcessingActivity>('ProcessingActivity').implement({
  fields: (t) => ({
    purpose: t.expose('purpose', { type: PurposeEnum }),
    name: t.exposeString('name'),
    description: t.exposeString('description'),
    dataCategories: t.exposeStringList('dataCategories'),
    recipients: t.field({ type: [RecipientRef], resolve: (a) => a.recipients }),
    thirdCountryTransfers: t.field({ type: [ThirdCountryRef], resolve: (a) => a.thirdCountryTransfers }),
    securityMeasures: t.field({ type: [SecurityMeasureRef], resolve: (a) => a.securityMeasures }),
    missing: t.exposeStringList('missing', {
      description: 'What Art. 30(1) asks for that the registry does not hold.',
    }),
  }),
});
const RecordsRef = builder.objectRef<RecordsOfProcessing>('RecordsOfProcessing').implement({
  fields: (t) => ({
    controllerName: t.exposeString('controllerName', {
      nullable: true,
      description: 'Legal entity of the headquarters office.',
    }),
    controllerCountry: t.exposeString('controllerCountry', { nullable: true }),
    controllerMissing: t.exposeStringList('controllerMissing'),
    activities: t.field({ type: [ActivityRef], resolve: (r) => r.activities }),
    generatedAt: t.expose('generatedAt', { type: 'DateTime' }),
  }),
});

builder.queryField('recordsOfProcessing', (t) =>
  t.field({
    type: RecordsRef,
    authScopes: { staff: true },
    description:
      'The GDPR Art. 30(1) record, from the effective grants and obligations. Also as CSV: GET /export/records-of-processing.csv.',
    resolve: (_root, _args, ctx) => recordsOfProcessing(ctx.db, ctx.clock.now()),
  }),
);
