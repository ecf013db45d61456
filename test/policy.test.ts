// The transfer policy as a table of route cases: decideRoute called directly, with the policy tables
// loaded from a freshly migrated database (the seeded EU/EEA and UK regimes), no mocks.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { leavesJurisdictionSql, loadPolicyTables } from '../src/policy/load.js';
import { routeRestrictions } from '../src/db/tables.js';
import type { Certification, ContractorRole, Mechanism } from '../src/db/enums.js';
import {
  decideOccasional,
  decideRoute,
  derogationLimitFor,
  leavesJurisdiction,
  type DerogationLimit,
  type Importer,
  type MechanismChoice,
  type PolicyTables,
  type Route,
} from '../src/policy/transfer-rules.js';
import { sql } from 'drizzle-orm';
import { startHarness, type Harness } from './harness.js';
import { addLocation, createOffice, mutate, registerContractor, setStatus } from './fixtures.js';
import { recordTransfer } from './transfer-fixtures.js';
import { rowsOf } from '../src/db/rows.js';

let h: Harness;
let tables: PolicyTables;
beforeAll(async () => {
  h = await startHarness();
  tables = await loadPolicyTables(h.database.db, NOW);
});
afterAll(async () => {
  await h?.stop();
});

/** What a refused request must leave as it was: audit events, grants and transfers. */
async function counts() {
  const r: any = await h.database.db.execute(
    sql`select (select count(*) from audit_events)::int as e, (select count(*) from grants)::int as g, (select count(*) from transfers)::int as t`,
  );
  return rowsOf<any>(r)[0];
}

const contractor = (role: ContractorRole = 'PROCESSOR', certifications: Certification[] = []): Importer => ({
  kind: 'CONTRACTOR',
  role,
  certifications,
});
const NOW = new Date('2026-06-01T00:00:00Z');

interface Case {
  name: string;
  from: string;
  to: string;
  /** An onward hop: the exporting office's country, whose regime governs. */
  origin?: string;
  importer?: Importer;
  exporterRole?: Route['exporterRole'];
  context?: Route['context'];
  at?: Date;
  choice?: MechanismChoice;
  /** Expected outcome: allowed with this mechanism (and module), or refused with a reason matching `reason`. */
  allowed: boolean;
  mechanism?: Mechanism;
  sccModule?: number | null;
  crossBorder?: boolean;
  reason?: RegExp;
}

const cases: Case[] = [
  // Same country, same jurisdiction.
  {
    name: 'same country needs nothing',
    from: 'DE',
    to: 'DE',
    allowed: true,
    mechanism: 'NOT_REQUIRED',
    crossBorder: false,
  },
  {
    name: 'same country with SCC recorded is refused',
    from: 'DE',
    to: 'DE',
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: false,
    reason: /one country.*SCC must not be recorded/,
  },
  {
    name: 'EEA → EEA (DE → FR) needs nothing',
    from: 'DE',
    to: 'FR',
    allowed: true,
    mechanism: 'NOT_REQUIRED',
    crossBorder: true,
  },
  {
    name: 'EEA → EEA (FR → NO, EEA not EU) needs nothing',
    from: 'FR',
    to: 'NO',
    allowed: true,
    mechanism: 'NOT_REQUIRED',
  },
  {
    name: 'EEA → EEA with NOT_REQUIRED named explicitly',
    from: 'DE',
    to: 'FR',
    choice: { mechanism: 'NOT_REQUIRED' },
    allowed: true,
    mechanism: 'NOT_REQUIRED',
  },
  // Adequacy.
  { name: 'EEA → adequate (DE → JP)', from: 'DE', to: 'JP', allowed: true, mechanism: 'ADEQUACY' },
  { name: 'EEA → adequate (DE → CH)', from: 'DE', to: 'CH', allowed: true, mechanism: 'ADEQUACY' },
  { name: 'EEA → adequate (DE → GB)', from: 'DE', to: 'GB', allowed: true, mechanism: 'ADEQUACY' },
  {
    name: 'EEA → adequate with ADEQUACY named',
    from: 'DE',
    to: 'JP',
    choice: { mechanism: 'ADEQUACY' },
    allowed: true,
    mechanism: 'ADEQUACY',
  },
  {
    name: 'EEA → adequate with SCC on top is allowed (belt and braces)',
    from: 'DE',
    to: 'JP',
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 2,
  },
  {
    name: 'DE → US, importer certified under the EU-U.S. DPF',
    from: 'DE',
    to: 'US',
    importer: contractor('PROCESSOR', ['EU_US_DPF']),
    allowed: true,
    mechanism: 'ADEQUACY',
  },
  {
    name: 'DE → US, importer not certified',
    from: 'DE',
    to: 'US',
    allowed: false,
    reason: /certified under EU_US_DPF.*not/,
  },
  {
    name: 'DE → US, importer certified only under the UK bridge',
    from: 'DE',
    to: 'US',
    importer: contractor('PROCESSOR', ['UK_US_DATA_BRIDGE']),
    allowed: false,
    reason: /EU_US_DPF/,
  },
  {
    name: 'DE → US uncertified, with SCC module 2',
    from: 'DE',
    to: 'US',
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 2,
  },
  {
    name: 'GB → US with the UK-U.S. data bridge',
    from: 'GB',
    to: 'US',
    importer: contractor('PROCESSOR', ['UK_US_DATA_BRIDGE']),
    allowed: true,
    mechanism: 'ADEQUACY',
  },
  {
    name: 'GB → US with the EU-U.S. DPF only',
    from: 'GB',
    to: 'US',
    importer: contractor('PROCESSOR', ['EU_US_DPF']),
    allowed: false,
    reason: /UK_US_DATA_BRIDGE/,
  },
  { name: 'GB → DE (UK adequacy regulations for the EEA)', from: 'GB', to: 'DE', allowed: true, mechanism: 'ADEQUACY' },
  // No adequacy: a safeguard is needed.
  {
    name: 'DE → IN without mechanism',
    from: 'DE',
    to: 'IN',
    allowed: false,
    reason: /IN has no adequacy decision.*module 2/,
  },
  {
    name: 'DE → IN with SCC module 2',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 2,
    crossBorder: true,
  },
  {
    name: 'DE → IN with SCC and no module',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'SCC' },
    allowed: false,
    reason: /needs a module.*module 2/,
  },
  {
    name: 'DE → IN with the wrong SCC module',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'SCC', sccModule: 3 },
    allowed: false,
    reason: /module 3.*does not match.*module 2 \(controller to processor\) is required/,
  },
  {
    name: 'DE → IN claiming ADEQUACY',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'ADEQUACY' },
    allowed: false,
    reason: /IN has no adequacy decision.*ADEQUACY cannot be relied on/,
  },
  {
    name: 'DE → IN claiming NOT_REQUIRED',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'NOT_REQUIRED' },
    allowed: false,
    reason: /leaves .*mechanism is required/,
  },
  // SCC modules follow the roles.
  {
    name: 'independent controller importer needs module 1',
    from: 'DE',
    to: 'IN',
    importer: contractor('INDEPENDENT_CONTROLLER'),
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: false,
    reason: /module 1 \(controller to controller\) is required/,
  },
  {
    name: 'independent controller importer with module 1',
    from: 'DE',
    to: 'IN',
    importer: contractor('INDEPENDENT_CONTROLLER'),
    choice: { mechanism: 'SCC', sccModule: 1 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 1,
  },
  {
    name: 'processor → sub-processor needs module 3',
    from: 'DE',
    to: 'IN',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: false,
    reason: /module 3 \(processor to processor\) is required/,
  },
  {
    name: 'processor → sub-processor with module 3',
    from: 'DE',
    to: 'IN',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    choice: { mechanism: 'SCC', sccModule: 3 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 3,
  },
  {
    name: 'processor → controller needs module 4',
    from: 'DE',
    to: 'IN',
    exporterRole: 'PROCESSOR',
    importer: contractor('INDEPENDENT_CONTROLLER'),
    choice: { mechanism: 'SCC', sccModule: 4 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 4,
  },
  // Intra-group safeguards.
  {
    name: 'BCR to a contractor is refused',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'BCR' },
    allowed: false,
    reason: /BCR covers transfers inside the group only/,
  },
  {
    name: 'intra-group agreement to a contractor is refused',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'INTRA_GROUP_AGREEMENT' },
    allowed: false,
    reason: /INTRA_GROUP_AGREEMENT covers transfers inside the group only/,
  },
  {
    name: 'BCR to an office',
    from: 'DE',
    to: 'IN',
    importer: { kind: 'OFFICE' },
    choice: { mechanism: 'BCR' },
    allowed: true,
    mechanism: 'BCR',
  },
  {
    name: 'intra-group agreement to an office',
    from: 'DE',
    to: 'IN',
    importer: { kind: 'OFFICE' },
    choice: { mechanism: 'INTRA_GROUP_AGREEMENT' },
    allowed: true,
    mechanism: 'INTRA_GROUP_AGREEMENT',
  },
  {
    name: 'office importer without a mechanism is told BCR',
    from: 'DE',
    to: 'IN',
    importer: { kind: 'OFFICE' },
    allowed: false,
    reason: /BCR, INTRA_GROUP_AGREEMENT/,
  },
  {
    name: 'SCC cannot bind an authority',
    from: 'DE',
    to: 'IN',
    importer: { kind: 'AUTHORITY' },
    context: 'TRANSFER',
    choice: { mechanism: 'SCC', sccModule: 1 },
    allowed: false,
    reason: /public authority/,
  },
  // Art. 49 derogations.
  {
    name: 'a derogation is refused for a standing grant',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'EXPLICIT_CONSENT', derogationJustification: 'asked each customer' },
    allowed: false,
    reason: /EXPLICIT_CONSENT is an Art\. 49 derogation.*standing grant/,
  },
  {
    name: 'a derogation without justification is refused for a transfer',
    from: 'DE',
    to: 'IN',
    context: 'TRANSFER',
    choice: { mechanism: 'LEGAL_CLAIMS' },
    allowed: false,
    reason: /LEGAL_CLAIMS.*written justification/,
  },
  {
    name: 'a derogation with a blank justification is refused',
    from: 'DE',
    to: 'IN',
    context: 'TRANSFER',
    choice: { mechanism: 'LEGAL_CLAIMS', derogationJustification: '   ' },
    allowed: false,
    reason: /written justification/,
  },
  {
    name: 'a derogation with justification is accepted for a transfer',
    from: 'DE',
    to: 'IN',
    context: 'TRANSFER',
    choice: { mechanism: 'LEGAL_CLAIMS', derogationJustification: 'defence in case 12/2026' },
    allowed: true,
    mechanism: 'LEGAL_CLAIMS',
  },
  // Dates of adequacy decisions.
  {
    name: 'KR before its adequacy decision (2021-12-17)',
    from: 'DE',
    to: 'KR',
    at: new Date('2021-06-01T00:00:00Z'),
    allowed: false,
    reason: /KR.*applies only from 2021-12-17/,
  },
  {
    name: 'KR after its adequacy decision',
    from: 'DE',
    to: 'KR',
    at: new Date('2022-01-01T00:00:00Z'),
    allowed: true,
    mechanism: 'ADEQUACY',
  },
  {
    name: 'KR the day the decision applies',
    from: 'DE',
    to: 'KR',
    at: new Date('2021-12-17T00:00:00Z'),
    allowed: true,
    mechanism: 'ADEQUACY',
  },
  {
    name: 'KR before adequacy, with SCC',
    from: 'DE',
    to: 'KR',
    at: new Date('2021-06-01T00:00:00Z'),
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 2,
  },
  // UK exporters: UK GDPR's own safeguards, and only theirs.
  {
    name: 'GB → IN bare names the UK safeguards',
    from: 'GB',
    to: 'IN',
    allowed: false,
    reason: /no adequacy decision under United Kingdom.*valid here: IDTA, UK_ADDENDUM with the EU SCC module 2/,
  },
  {
    name: 'GB → IN with the IDTA',
    from: 'GB',
    to: 'IN',
    choice: { mechanism: 'IDTA' },
    allowed: true,
    mechanism: 'IDTA',
  },
  {
    name: 'GB → IN with the UK Addendum to SCC module 2',
    from: 'GB',
    to: 'IN',
    choice: { mechanism: 'UK_ADDENDUM', sccModule: 2 },
    allowed: true,
    mechanism: 'UK_ADDENDUM',
    sccModule: 2,
  },
  {
    name: 'GB → IN with EU SCCs alone is refused under UK GDPR',
    from: 'GB',
    to: 'IN',
    choice: { mechanism: 'SCC', sccModule: 2 },
    allowed: false,
    reason: /UK GDPR the EU SCCs alone do not safeguard a transfer from GB.*IDTA.*UK Addendum/,
  },
  {
    name: 'GB → IN with the UK Addendum and no module',
    from: 'GB',
    to: 'IN',
    choice: { mechanism: 'UK_ADDENDUM' },
    allowed: false,
    reason: /UK_ADDENDUM needs a module: this route needs module 2/,
  },
  {
    name: 'GB → IN with the UK Addendum to the wrong module',
    from: 'GB',
    to: 'IN',
    choice: { mechanism: 'UK_ADDENDUM', sccModule: 1 },
    allowed: false,
    reason: /UK_ADDENDUM module 1 .* does not match the parties' roles: module 2/,
  },
  {
    name: 'GB → IN, processor to processor: the UK Addendum amends module 3',
    from: 'GB',
    to: 'IN',
    exporterRole: 'PROCESSOR',
    choice: { mechanism: 'UK_ADDENDUM', sccModule: 3 },
    allowed: true,
    mechanism: 'UK_ADDENDUM',
    sccModule: 3,
  },
  {
    name: 'GB → IN, the UK Addendum to a controller: module 1',
    from: 'GB',
    to: 'IN',
    importer: contractor('INDEPENDENT_CONTROLLER'),
    choice: { mechanism: 'UK_ADDENDUM', sccModule: 1 },
    allowed: true,
    mechanism: 'UK_ADDENDUM',
    sccModule: 1,
  },
  {
    name: 'the IDTA cannot bind an authority',
    from: 'GB',
    to: 'IN',
    importer: { kind: 'AUTHORITY' },
    context: 'TRANSFER',
    choice: { mechanism: 'IDTA' },
    allowed: false,
    reason: /IDTA cannot bind a public authority/,
  },
  {
    name: 'the UK Addendum cannot bind an authority',
    from: 'GB',
    to: 'IN',
    importer: { kind: 'AUTHORITY' },
    context: 'TRANSFER',
    choice: { mechanism: 'UK_ADDENDUM', sccModule: 1 },
    allowed: false,
    reason: /cannot bind a public authority/,
  },
  {
    name: 'GB → IN, an occasional transfer may still rely on a derogation',
    from: 'GB',
    to: 'IN',
    context: 'TRANSFER',
    choice: { mechanism: 'EXPLICIT_CONSENT', derogationJustification: 'one order, consent on file' },
    allowed: true,
    mechanism: 'EXPLICIT_CONSENT',
  },
  {
    name: 'DE → IN with the IDTA is refused: an EU exporter',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'IDTA' },
    allowed: false,
    reason:
      /IDTA is a UK GDPR safeguard and covers only exporters in United Kingdom, not one in European Union.*SCC module 2/,
  },
  {
    name: 'DE → IN with the UK Addendum is refused: an EU exporter',
    from: 'DE',
    to: 'IN',
    choice: { mechanism: 'UK_ADDENDUM', sccModule: 2 },
    allowed: false,
    reason: /UK_ADDENDUM is a UK GDPR safeguard and covers only exporters in United Kingdom/,
  },
  {
    name: 'DE → FR with the IDTA: no mechanism applies inside the EEA',
    from: 'DE',
    to: 'FR',
    choice: { mechanism: 'IDTA' },
    allowed: false,
    reason: /IDTA must not be recorded/,
  },
  // Onward hops: a processor passes an office's data on, judged under the office's regime (GDPR Art. 44).
  {
    name: 'onward IN → PH of DE data, bare: module 3 under the EU regime, not "no regime for IN"',
    from: 'IN',
    to: 'PH',
    origin: 'DE',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    allowed: false,
    reason: /onward IN → PH of data exported from DE: PH has no adequacy decision under European Union.*SCC module 3/,
  },
  {
    name: 'onward IN → PH of DE data with SCC module 3',
    from: 'IN',
    to: 'PH',
    origin: 'DE',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    choice: { mechanism: 'SCC', sccModule: 3 },
    allowed: true,
    mechanism: 'SCC',
    sccModule: 3,
  },
  {
    name: 'onward IN → PH of DE data claiming NOT_REQUIRED',
    from: 'IN',
    to: 'PH',
    origin: 'DE',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    choice: { mechanism: 'NOT_REQUIRED' },
    allowed: false,
    reason: /PH is outside European Union.*mechanism is required/,
  },
  {
    name: 'onward IN → IN of DE data: same third country, still module 3 (SCC clause 8.7)',
    from: 'IN',
    to: 'IN',
    origin: 'DE',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    allowed: false,
    crossBorder: false,
    reason: /module 3/,
  },
  {
    name: 'onward IN → JP of DE data: EU adequacy of the destination',
    from: 'IN',
    to: 'JP',
    origin: 'DE',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    allowed: true,
    mechanism: 'ADEQUACY',
  },
  {
    name: 'onward IN → FR of DE data: back in the EU, nothing needed',
    from: 'IN',
    to: 'FR',
    origin: 'DE',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    allowed: true,
    mechanism: 'NOT_REQUIRED',
  },
  {
    name: 'onward IN → PH, processor to an independent controller: module 4',
    from: 'IN',
    to: 'PH',
    origin: 'DE',
    exporterRole: 'PROCESSOR',
    importer: contractor('INDEPENDENT_CONTROLLER'),
    choice: { mechanism: 'SCC', sccModule: 3 },
    allowed: false,
    reason: /module 4 \(processor to controller\) is required/,
  },
  {
    name: 'onward IN → PH of GB data: EU SCCs alone refused under UK GDPR',
    from: 'IN',
    to: 'PH',
    origin: 'GB',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    choice: { mechanism: 'SCC', sccModule: 3 },
    allowed: false,
    reason: /UK GDPR the EU SCCs alone do not safeguard a transfer from GB/,
  },
  {
    name: 'onward IN → PH of GB data with the UK Addendum to module 3',
    from: 'IN',
    to: 'PH',
    origin: 'GB',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR'),
    choice: { mechanism: 'UK_ADDENDUM', sccModule: 3 },
    allowed: true,
    mechanism: 'UK_ADDENDUM',
    sccModule: 3,
  },
  {
    name: 'onward IN → US of GB data: the UK-U.S. data bridge, not the EU DPF',
    from: 'IN',
    to: 'US',
    origin: 'GB',
    exporterRole: 'PROCESSOR',
    importer: contractor('SUBPROCESSOR', ['EU_US_DPF']),
    allowed: false,
    reason: /UK_US_DATA_BRIDGE/,
  },
  // Exporter outside any recorded regime.
  {
    name: 'US → IN: no regime for the exporter, nothing needed',
    from: 'US',
    to: 'IN',
    allowed: true,
    mechanism: 'NOT_REQUIRED',
    crossBorder: true,
  },
];

describe('decideRoute over the seeded policy tables', () => {
  test.each(cases)('$name', (c) => {
    const route: Route = {
      exporterCountry: c.from,
      importerCountry: c.to,
      ...(c.origin ? { originCountry: c.origin } : {}),
      exporterRole: c.exporterRole ?? 'CONTROLLER',
      importer: c.importer ?? contractor(),
      context: c.context ?? 'GRANT',
      at: c.at ?? NOW,
    };
    const d = decideRoute(tables, route, c.choice);
    expect(d.allowed, d.allowed ? d.explanation : d.reason).toBe(c.allowed);
    if (c.crossBorder !== undefined) expect(d.crossBorder).toBe(c.crossBorder);
    if (d.allowed) {
      expect(d.mechanism).toBe(c.mechanism);
      expect(d.sccModule).toBe(c.sccModule ?? null);
      expect(d.explanation).toMatch(/\S/);
    } else {
      expect(d.reason).toMatch(c.reason!);
    }
    // The grant path loads only the rows a route needs; it must reach the same decision.
    return loadPolicyTables(h.database.db, NOW, [
      { exporter: c.from, importer: c.to },
      ...(c.origin ? [{ exporter: c.origin, importer: c.to }] : []),
    ]).then((narrow) => {
      expect(decideRoute(narrow, route, c.choice)).toEqual(d);
    });
  });

  test('explanations name the legal basis', () => {
    const route = (to: string, importer = contractor()): Route => ({
      exporterCountry: 'DE',
      importerCountry: to,
      exporterRole: 'CONTROLLER',
      importer,
      context: 'GRANT',
      at: NOW,
    });
    const jp = decideRoute(tables, route('JP'));
    expect(jp.allowed && jp.explanation).toMatch(/JP is adequate under .*2019\/419 of 2019-01-23/);
    const fr = decideRoute(tables, route('FR'));
    expect(fr.allowed && fr.explanation).toMatch(/DE and FR are both in European Union/);
    const us = decideRoute(tables, route('US', contractor('PROCESSOR', ['EU_US_DPF'])));
    expect(us.allowed && us.explanation).toMatch(/Data Privacy Framework/);
  });
});

describe('occasional derogations: the limit per route and derogation, and the safeguard suggested beyond it', () => {
  const limits: DerogationLimit[] = [
    { derogation: null, exporterCountry: null, importerCountry: null, maxTransfers: 4, maxRecords: 10_000 },
    {
      derogation: 'COMPELLING_LEGITIMATE_INTERESTS',
      exporterCountry: null,
      importerCountry: null,
      maxTransfers: 1,
      maxRecords: 100,
    },
    { derogation: 'EXPLICIT_CONSENT', exporterCountry: 'DE', importerCountry: null, maxTransfers: 10, maxRecords: 500 },
    { derogation: 'EXPLICIT_CONSENT', exporterCountry: 'DE', importerCountry: 'IN', maxTransfers: 2, maxRecords: 50 },
  ];
  const route = (from: string, to: string, origin?: string): Route => ({
    exporterCountry: from,
    importerCountry: to,
    ...(origin ? { originCountry: origin } : {}),
    exporterRole: origin ? 'PROCESSOR' : 'CONTROLLER',
    importer: contractor(origin ? 'SUBPROCESSOR' : 'PROCESSOR'),
    context: 'TRANSFER',
    at: NOW,
  });
  const occasional: {
    name: string;
    route: Route;
    derogation: Mechanism;
    use: { transfers: number; records: number };
    limit: [number, number];
    reason?: RegExp;
  }[] = [
    {
      name: 'default, within',
      route: route('DE', 'BR'),
      derogation: 'LEGAL_CLAIMS',
      use: { transfers: 4, records: 10_000 },
      limit: [4, 10_000],
    },
    {
      name: 'default, one transfer too many',
      route: route('DE', 'BR'),
      derogation: 'LEGAL_CLAIMS',
      use: { transfers: 5, records: 5 },
      limit: [4, 10_000],
      reason: /5 transfer\(s\).*SCC module 2/,
    },
    {
      name: 'default, too many records',
      route: route('DE', 'BR'),
      derogation: 'LEGAL_CLAIMS',
      use: { transfers: 1, records: 50_000 },
      limit: [4, 10_000],
      reason: /50000 record\(s\)/,
    },
    {
      name: 'a derogation’s own row beats the default',
      route: route('FR', 'BR'),
      derogation: 'COMPELLING_LEGITIMATE_INTERESTS',
      use: { transfers: 2, records: 2 },
      limit: [1, 100],
      reason: /limit of 1 transfer/,
    },
    {
      name: 'an exporter country’s row beats the derogation’s',
      route: route('DE', 'BR'),
      derogation: 'EXPLICIT_CONSENT',
      use: { transfers: 8, records: 100 },
      limit: [10, 500],
    },
    {
      name: 'the route’s own row beats them all',
      route: route('DE', 'IN'),
      derogation: 'EXPLICIT_CONSENT',
      use: { transfers: 3, records: 3 },
      limit: [2, 50],
      reason: /DE → IN would carry 3 transfer/,
    },
    {
      name: 'a UK exporter is told the UK safeguards',
      route: route('GB', 'IN'),
      derogation: 'EXPLICIT_CONSENT',
      use: { transfers: 5, records: 5 },
      limit: [4, 10_000],
      reason: /valid here: IDTA, UK_ADDENDUM with the EU SCC module 2/,
    },
    {
      name: 'an onward hop is told module 3 under the origin’s regime',
      route: route('IN', 'PH', 'GB'),
      derogation: 'VITAL_INTERESTS',
      use: { transfers: 5, records: 5 },
      limit: [4, 10_000],
      reason: /IDTA, UK_ADDENDUM with the EU SCC module 3/,
    },
  ];
  test.each(occasional)('$name', (c) => {
    const limit = derogationLimitFor(limits, c.derogation, c.route.exporterCountry, c.route.importerCountry);
    expect([limit?.maxTransfers, limit?.maxRecords]).toEqual(c.limit);
    const reason = decideOccasional(tables, c.route, c.derogation, limit, c.use);
    if (c.reason) expect(reason).toMatch(c.reason);
    else expect(reason).toBeNull();
  });
});

describe('leaving the exporter\'s jurisdiction ("third country"), one rule in TS and in SQL', () => {
  test('leavesJurisdiction and leavesJurisdictionSql agree on every pair of countries, members of a regime or not', async () => {
    const countries = [...new Set([...tables.membership.keys(), 'US', 'IN', 'JP', 'CN', 'BR'])].sort();
    const from = countries.flatMap((a) => countries.map(() => a));
    const to = countries.flatMap(() => countries);
    const list = (xs: string[]) => `{${xs.join(',')}}`;
    const r: any = await h.database.db
      .execute(sql`select p.f, p.t, ${leavesJurisdictionSql(sql`p.f`, sql`p.t`, NOW)} as leaves
      from unnest(${list(from)}::text[], ${list(to)}::text[]) as p(f, t)`);
    const rows = rowsOf<{ f: string; t: string; leaves: boolean }>(r);
    expect(rows).toHaveLength(countries.length ** 2);
    for (const row of rows)
      expect(Boolean(row.leaves), `${row.f} → ${row.t}`).toBe(leavesJurisdiction(tables, row.f, row.t));
    // The branches: same country, same regime (DE → FR), another regime (DE → GB), no regime for the exporter (US → IN).
    expect(
      [
        ['DE', 'DE'],
        ['DE', 'FR'],
        ['DE', 'GB'],
        ['US', 'IN'],
      ].map(([f, t]) => leavesJurisdiction(tables, f!, t!)),
    ).toEqual([false, false, true, true]);
  });

  test('a decision carries it: a route with no mechanism needed may still leave the jurisdiction', () => {
    const route = (from: string, to: string): Route => ({
      exporterCountry: from,
      importerCountry: to,
      exporterRole: 'CONTROLLER',
      importer: contractor(),
      context: 'GRANT',
      at: NOW,
    });
    expect(decideRoute(tables, route('DE', 'FR'))).toMatchObject({
      allowed: true,
      mechanism: 'NOT_REQUIRED',
      crossBorder: true,
      thirdCountry: false,
    });
    expect(decideRoute(tables, route('US', 'IN'))).toMatchObject({
      allowed: true,
      mechanism: 'NOT_REQUIRED',
      crossBorder: true,
      thirdCountry: true,
    });
    expect(decideRoute(tables, route('DE', 'IN'))).toMatchObject({ allowed: false, thirdCountry: true });
  });
});

describe('route restrictions forbid a route outright', () => {
  beforeAll(async () => {
    await h.database.db.insert(routeRestrictions).values([
      {
        exporterCountry: 'DE',
        importerCountry: 'JP',
        legalBasis: 'Test localisation rule §1',
        reason: 'this data must stay in Europe',
      },
      {
        exporterCountry: 'RU',
        importerCountry: null,
        legalBasis: 'Federal Law 242-FZ',
        reason: 'personal data of citizens must be stored in Russia',
      },
    ]);
    tables = await loadPolicyTables(h.database.db, NOW);
  });

  test('a forbidden route is refused even where adequacy would allow it, and the reason names the rule', () => {
    const d = decideRoute(
      tables,
      {
        exporterCountry: 'DE',
        importerCountry: 'JP',
        exporterRole: 'CONTROLLER',
        importer: contractor(),
        context: 'GRANT',
        at: NOW,
      },
      { mechanism: 'SCC', sccModule: 2 },
    );
    expect(d.allowed).toBe(false);
    expect(!d.allowed && d.reason).toMatch(/forbidden by Test localisation rule §1: this data must stay in Europe/);
  });

  test('a restriction on every destination applies to each one, not to the country itself', () => {
    for (const to of ['DE', 'US', 'KZ']) {
      const d = decideRoute(tables, {
        exporterCountry: 'RU',
        importerCountry: to,
        exporterRole: 'CONTROLLER',
        importer: contractor(),
        context: 'GRANT',
        at: NOW,
      });
      expect(!d.allowed && d.reason).toMatch(/242-FZ/);
    }
    const home = decideRoute(tables, {
      exporterCountry: 'RU',
      importerCountry: 'RU',
      exporterRole: 'CONTROLLER',
      importer: contractor(),
      context: 'GRANT',
      at: NOW,
    });
    expect(home).toMatchObject({ allowed: true, mechanism: 'NOT_REQUIRED' });
  });

  test('other routes of the same exporter are unaffected', () => {
    const d = decideRoute(tables, {
      exporterCountry: 'DE',
      importerCountry: 'CH',
      exporterRole: 'CONTROLLER',
      importer: contractor(),
      context: 'GRANT',
      at: NOW,
    });
    expect(d).toMatchObject({ allowed: true, mechanism: 'ADEQUACY' });
  });

  test('the grant path loads the restriction too', async () => {
    const narrow = await loadPolicyTables(h.database.db, NOW, { exporter: 'RU', importer: 'DE' });
    const d = decideRoute(narrow, {
      exporterCountry: 'RU',
      importerCountry: 'DE',
      exporterRole: 'CONTROLLER',
      importer: contractor(),
      context: 'GRANT',
      at: NOW,
    });
    expect(d.allowed).toBe(false);
  });

  test('through the API: a grant and an intra-group transfer on a forbidden route are POLICY_VIOLATION naming the rule, nothing written', async () => {
    const compliance = await h.staffToken('COMPLIANCE');
    const moscow = await createOffice(h, compliance, { name: 'Moscow', country: 'RU', city: 'Moscow' });
    const berlin = await createOffice(h, compliance, { name: 'Berlin', country: 'DE', city: 'Berlin' });
    const c = await registerContractor(h, compliance, { legalName: 'Berlin Hosting GmbH', country: 'DE' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const before = await counts();
    const g = await mutate(
      h,
      compliance,
      'grantDataAccess',
      'GrantDataAccessInput',
      {
        contractorId: c.id,
        officeId: moscow.id,
        categories: ['contact.email'],
        purpose: 'TECHNICAL_SUPPORT',
        mechanism: 'SCC',
        sccModule: 2,
      },
      '',
    );
    expect(g).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'RU', importerCountry: 'DE' });
    expect(g.reason).toMatch(/242-FZ/);
    const t = await mutate(
      h,
      compliance,
      'recordTransfer',
      'RecordTransferInput',
      {
        officeId: moscow.id,
        importerOfficeId: berlin.id,
        categories: ['contact.email'],
        purpose: 'TECHNICAL_SUPPORT',
        recordCount: 1,
        mechanism: 'INTRA_GROUP_AGREEMENT',
      },
      '',
    );
    expect(t.__typename, JSON.stringify(t)).toBe('PolicyViolationError');
    expect(t.reason).toMatch(/242-FZ/);
    expect(await counts()).toEqual(before);
  });
});

describe('transferPolicy.checkRoute', () => {
  const CHECK =
    'query($from: String!, $to: String!, $m: TransferMechanism, $s: Int) { transferPolicy { checkRoute(from: $from, to: $to, mechanism: $m, sccModule: $s) { allowed mechanism sccModule explanation } } }';

  test('judges a route as a standing grant would be judged', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const r = await h.gql(auditor, CHECK, { from: 'DE', to: 'IN', m: 'SCC', s: 2 });
    expect(r.body.data.transferPolicy.checkRoute).toMatchObject({ allowed: true, mechanism: 'SCC', sccModule: 2 });
    const bare = await h.gql(auditor, CHECK, { from: 'DE', to: 'IN' });
    expect(bare.body.data.transferPolicy.checkRoute).toMatchObject({
      allowed: false,
      mechanism: null,
      explanation: expect.stringMatching(/module 2/),
    });
  });

  const ASK = `query($from: String!, $to: String, $importer: ID, $context: RouteContext, $at: DateTime,
      $m: TransferMechanism, $s: Int, $j: String, $role: ContractorRole) { transferPolicy {
    checkRoute(from: $from, to: $to, importer: $importer, context: $context, at: $at, mechanism: $m, sccModule: $s,
      derogationJustification: $j, importerRole: $role) { allowed mechanism sccModule importerCountry explanation } } }`;
  const ask = async (vars: Record<string, unknown>) => {
    const r = await h.gql(await h.staffToken('AUDITOR'), ASK, vars);
    expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
    return r.body.data.transferPolicy.checkRoute;
  };
  const askError = async (vars: Record<string, unknown>) => {
    const r = await h.gql(await h.staffToken('AUDITOR'), ASK, vars);
    expect(r.body.data?.transferPolicy ?? null, JSON.stringify(r.body)).toBeNull();
    return r.body.errors[0];
  };

  test('a contractor importer is judged with its country, role, certifications and processing locations', async () => {
    const compliance = await h.staffToken('COMPLIANCE');
    const c = await registerContractor(h, compliance, { legalName: 'Berlin Storage GmbH', country: 'DE' });
    await addLocation(h, compliance, c.id, 'CN');
    expect(await ask({ from: 'DE', importer: c.id })).toMatchObject({
      allowed: false,
      importerCountry: 'CN',
      explanation: expect.stringMatching(/CN has no adequacy decision.*module 2/),
    });
    expect(await ask({ from: 'DE', importer: c.id, m: 'SCC', s: 2 })).toMatchObject({
      allowed: true,
      mechanism: 'SCC',
      sccModule: 2,
    });
    // Its certification counts: a DPF-certified US contractor is adequate, an uncertified one is not.
    const dpf = await registerContractor(h, compliance, {
      legalName: 'Certified Inc',
      country: 'US',
      certifications: ['EU_US_DPF'],
    });
    const plain = await registerContractor(h, compliance, { legalName: 'Uncertified Inc', country: 'US' });
    expect(await ask({ from: 'DE', importer: dpf.id })).toMatchObject({ allowed: true, mechanism: 'ADEQUACY' });
    expect(await ask({ from: 'DE', importer: plain.id })).toMatchObject({ allowed: false, importerCountry: 'US' });
    // Its role sets the SCC module: an independent controller needs module 1.
    const controller = await registerContractor(h, compliance, {
      legalName: 'Own Purposes Pvt Ltd',
      role: 'INDEPENDENT_CONTROLLER',
    });
    expect(await ask({ from: 'DE', importer: controller.id, m: 'SCC', s: 2 })).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/module 1/),
    });
  });

  test('an office importer may rely on intra-group safeguards; a country importer may not', async () => {
    const compliance = await h.staffToken('COMPLIANCE');
    const pune = await createOffice(h, compliance, { name: 'Pune', country: 'IN', city: 'Pune' });
    expect(await ask({ from: 'DE', importer: pune.id, m: 'BCR' })).toMatchObject({
      allowed: true,
      mechanism: 'BCR',
      importerCountry: 'IN',
    });
    expect(await ask({ from: 'DE', to: 'IN', m: 'BCR' })).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/not one of its offices/),
    });
  });

  test('context TRANSFER admits Art. 49 derogations, with a justification; GRANT does not', async () => {
    const derogation = { from: 'DE', to: 'IN', m: 'EXPLICIT_CONSENT' };
    expect(await ask(derogation)).toMatchObject({ allowed: false, explanation: expect.stringMatching(/occasional/) });
    expect(await ask({ ...derogation, context: 'GRANT', j: 'one customer asked' })).toMatchObject({ allowed: false });
    expect(await ask({ ...derogation, context: 'TRANSFER' })).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/written justification/),
    });
    expect(await ask({ ...derogation, context: 'TRANSFER', j: 'the customer asked in writing' })).toMatchObject({
      allowed: true,
      mechanism: 'EXPLICIT_CONSENT',
    });
  });

  test('`at` judges under the policy in force then: an adequacy decision counts from its adoption', async () => {
    // EU adequacy for KR: Decision (EU) 2022/254, adopted 2021-12-17.
    expect(await ask({ from: 'DE', to: 'KR', at: '2021-12-01T00:00:00Z' })).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/applies only from 2021-12-17/),
    });
    expect(await ask({ from: 'DE', to: 'KR', at: '2022-01-01T00:00:00Z' })).toMatchObject({
      allowed: true,
      mechanism: 'ADEQUACY',
    });
    expect(await ask({ from: 'DE', to: 'KR' })).toMatchObject({ allowed: true, mechanism: 'ADEQUACY' });
  });

  test('validMechanisms: what would make the route allowed, each one judged as the route is', async () => {
    const VALID = `query($from: String!, $to: String, $importer: ID, $m: TransferMechanism, $s: Int) { transferPolicy {
      checkRoute(from: $from, to: $to, importer: $importer, mechanism: $m, sccModule: $s) {
        allowed mechanism sccModule explanation validMechanisms { mechanism sccModule } } } }`;
    const check = async (vars: Record<string, unknown>) => {
      const r = await h.gql(await h.staffToken('AUDITOR'), VALID, vars);
      expect(r.body.errors, JSON.stringify(r.body)).toBeUndefined();
      return r.body.data.transferPolicy.checkRoute;
    };
    const compliance = await h.staffToken('COMPLIANCE');
    await h.database.db.insert(routeRestrictions).values({
      exporterCountry: 'DE',
      importerCountry: 'KP',
      legalBasis: 'Test sanctions rule §2',
      reason: 'no data to this country',
    });
    const pune = await createOffice(h, compliance, { name: 'Pune valid', country: 'IN', city: 'Pune' });
    const withForbidden = await registerContractor(h, compliance, { legalName: 'Reaches KP Pvt Ltd', country: 'IN' });
    await addLocation(h, compliance, withForbidden.id, 'KP');
    const withAdequate = await registerContractor(h, compliance, { legalName: 'Swiss Backup GmbH', country: 'DE' });
    await addLocation(h, compliance, withAdequate.id, 'CH');
    const cases: [Record<string, unknown>, boolean, unknown[]][] = [
      // An adequate country: adequacy, or the clauses on top of it.
      [
        { from: 'DE', to: 'CH' },
        true,
        [
          { mechanism: 'ADEQUACY', sccModule: null },
          { mechanism: 'SCC', sccModule: 2 },
        ],
      ],
      // A third country needing SCCs: the module the roles require, whatever module was asked about.
      [{ from: 'DE', to: 'IN' }, false, [{ mechanism: 'SCC', sccModule: 2 }]],
      [{ from: 'DE', to: 'IN', m: 'SCC', s: 1 }, false, [{ mechanism: 'SCC', sccModule: 2 }]],
      // A UK exporter: the UK's own safeguards.
      [
        { from: 'GB', to: 'IN' },
        false,
        [
          { mechanism: 'IDTA', sccModule: null },
          { mechanism: 'UK_ADDENDUM', sccModule: 2 },
        ],
      ],
      // Inside one regime no mechanism may be recorded: asked with SCCs, the answer is none.
      [{ from: 'DE', to: 'FR', m: 'SCC', s: 2 }, false, [{ mechanism: 'NOT_REQUIRED', sccModule: null }]],
      [
        { from: 'DE', importer: pune.id },
        false,
        [
          { mechanism: 'BCR', sccModule: null },
          { mechanism: 'INTRA_GROUP_AGREEMENT', sccModule: null },
        ],
      ],
      // A contractor in Germany storing in Switzerland: what covers the Swiss destination.
      [
        { from: 'DE', importer: withAdequate.id },
        true,
        [
          { mechanism: 'ADEQUACY', sccModule: null },
          { mechanism: 'SCC', sccModule: 2 },
        ],
      ],
      // Forbidden: nothing makes it allowed, also when the forbidden place is one of the contractor's locations.
      [{ from: 'DE', to: 'KP' }, false, []],
      [{ from: 'DE', importer: withForbidden.id, m: 'SCC', s: 2 }, false, []],
    ];
    for (const [vars, allowed, valid] of cases) {
      const d = await check(vars);
      expect({ vars, allowed: d.allowed, valid: d.validMechanisms }).toEqual({ vars, allowed, valid });
      if (!valid.length) expect(d.explanation).toMatch(/forbidden by Test sanctions rule §2: no data to this country/);
      // Each one offered is allowed when asked for.
      for (const o of d.validMechanisms) {
        const chosen = await check({ ...vars, m: o.mechanism, s: o.sccModule });
        expect({ vars, o, chosen: chosen.allowed }).toEqual({ vars, o, chosen: true });
      }
    }
  });

  test('failures: unknown and wrong-type importer IDs, both or neither of to and importer, bad countries and dates', async () => {
    const compliance = await h.staffToken('COMPLIANCE');
    const c = await registerContractor(h, compliance, { legalName: 'Some Contractor Ltd' });
    const unknown = await askError({ from: 'DE', importer: Buffer.from('Contractor:999999').toString('base64') });
    expect(unknown.extensions.code).toBe('NOT_FOUND');
    const noOffice = await askError({ from: 'DE', importer: Buffer.from('Office:999999').toString('base64') });
    expect(noOffice.extensions.code).toBe('NOT_FOUND');
    for (const [importer, message] of [
      [Buffer.from('Grant:1').toString('base64'), 'args.importer: not a Contractor or an Office ID (it is a Grant ID)'],
      ['not-an-id', 'args.importer: not a Contractor or an Office ID'],
      [Buffer.from('Contractor:0').toString('base64'), 'args.importer: not a Contractor ID'],
    ] as const) {
      const e = await askError({ from: 'DE', importer });
      expect(e.extensions.code, JSON.stringify(e)).toBe('VALIDATION_FAILED');
      expect(e.message).toContain(message);
    }
    for (const [vars, field] of [
      [{ from: 'DE', to: 'IN', importer: c.id }, 'args.to'],
      [{ from: 'DE' }, 'args.to'],
      [{ from: 'XX', importer: c.id }, 'args.from'],
      [{ from: 'DE', importer: c.id, role: 'INDEPENDENT_CONTROLLER' }, 'args.importerRole'],
    ] as const) {
      const e = await askError(vars);
      expect(e.extensions.code, JSON.stringify(e)).toBe('VALIDATION_FAILED');
      expect(e.message).toContain(field);
    }
    const badDate = await h.gql(await h.staffToken('AUDITOR'), ASK, {
      from: 'DE',
      to: 'IN',
      at: '2026-02-30T00:00:00Z',
    });
    expect(badDate.body.errors?.[0]?.message).toMatch(/Variable "\$at" got invalid value "2026-02-30/);
    expect(badDate.body.data ?? null).toBeNull();
    const badContext = await h.gql(await h.staffToken('AUDITOR'), ASK, { from: 'DE', to: 'IN', context: 'ONWARD' });
    expect(badContext.body.errors?.[0]?.message).toMatch(/RouteContext/);
  });

  test('a country that is not an ISO code is VALIDATION_FAILED naming the argument', async () => {
    const auditor = await h.staffToken('AUDITOR');
    for (const [from, to, field] of [
      ['XX', 'DE', 'args.from'],
      ['DE', 'de', 'args.to'],
    ] as const) {
      const r = await h.gql(auditor, CHECK, { from, to });
      expect(r.body.errors?.[0]?.extensions?.code, JSON.stringify(r.body)).toBe('VALIDATION_FAILED');
      expect(r.body.errors[0].message).toContain(`${field}: must be an ISO 3166-1 alpha-2 country code`);
    }
  });
});

describe('UK exporters through the API: the IDTA or the UK Addendum, never EU SCCs alone', () => {
  const grantInput = (officeId: string, contractorId: string, choice: Record<string, unknown>) => ({
    contractorId,
    officeId,
    categories: ['contact.email'],
    purpose: 'TECHNICAL_SUPPORT',
    ...choice,
  });
  const GRANT_FIELDS = '... on GrantDataAccessPayload { grant { id mechanism sccModule policyExplanation } }';

  test('grantDataAccess and recordTransfer from a London office to an Indian processor', async () => {
    const compliance = await h.staffToken('COMPLIANCE');
    const london = await createOffice(h, compliance, { name: 'London UK', country: 'GB', city: 'London' });
    const berlin = await createOffice(h, compliance, { name: 'Berlin UK test', country: 'DE', city: 'Berlin' });
    const c = await registerContractor(h, compliance, { legalName: 'UK Route Helpdesk Pvt Ltd', country: 'IN' });
    await setStatus(h, compliance, c.id, 'ACTIVE');
    const refused = async (officeId: string, choice: Record<string, unknown>) => {
      const before = await counts();
      const g = await mutate(
        h,
        compliance,
        'grantDataAccess',
        'GrantDataAccessInput',
        grantInput(officeId, c.id, choice),
        '',
      );
      expect(await counts()).toEqual(before);
      return g;
    };

    // EU SCCs alone: refused for the UK exporter, with the rule and the safeguards that do apply.
    const scc = await refused(london.id, { mechanism: 'SCC', sccModule: 2 });
    expect(scc).toMatchObject({ __typename: 'PolicyViolationError', exporterCountry: 'GB', importerCountry: 'IN' });
    expect(scc.reason).toMatch(/under UK GDPR the EU SCCs alone do not safeguard a transfer from GB/);
    expect(scc.reason).toMatch(/IDTA, UK_ADDENDUM with the EU SCC module 2/);
    // The Addendum carries the module it amends, matching the parties' roles.
    expect((await refused(london.id, { mechanism: 'UK_ADDENDUM' })).reason).toMatch(/UK_ADDENDUM needs a module/);
    expect((await refused(london.id, { mechanism: 'UK_ADDENDUM', sccModule: 3 })).reason).toMatch(
      /does not match the parties' roles: module 2/,
    );
    // The IDTA is a contract of its own: a module with it is bad input.
    const idtaModule = await refused(london.id, { mechanism: 'IDTA', sccModule: 2 });
    expect(idtaModule.code).toBe('VALIDATION_FAILED');
    expect(idtaModule.issues).toEqual([
      { field: 'input.sccModule', message: 'only with mechanism SCC or UK_ADDENDUM' },
    ]);
    // An EU exporter may not use the UK's safeguards.
    for (const choice of [{ mechanism: 'IDTA' }, { mechanism: 'UK_ADDENDUM', sccModule: 2 }]) {
      const eu = await refused(berlin.id, choice);
      expect(eu.__typename).toBe('PolicyViolationError');
      expect(eu.reason).toMatch(new RegExp(`${choice.mechanism} is a UK GDPR safeguard.*not one in European Union`));
    }

    const addendum = await mutate(
      h,
      compliance,
      'grantDataAccess',
      'GrantDataAccessInput',
      grantInput(london.id, c.id, { mechanism: 'UK_ADDENDUM', sccModule: 2 }),
      GRANT_FIELDS,
    );
    expect(addendum.grant, JSON.stringify(addendum)).toMatchObject({ mechanism: 'UK_ADDENDUM', sccModule: 2 });
    expect(addendum.grant.policyExplanation).toMatch(/UK Addendum .* module 2 \(controller to processor\)/);
    const idta = await mutate(
      h,
      compliance,
      'grantDataAccess',
      'GrantDataAccessInput',
      grantInput(london.id, c.id, { mechanism: 'IDTA', purpose: 'ORDER_FULFILMENT' }),
      GRANT_FIELDS,
    );
    expect(idta.grant, JSON.stringify(idta)).toMatchObject({ mechanism: 'IDTA', sccModule: null });

    // A transfer under the Addendum grant records the Addendum and its module (the database accepts the pair).
    const t = await recordTransfer(h, compliance, { officeId: london.id, contractorId: c.id, recordCount: 3 });
    expect(t.transfer, JSON.stringify(t)).toMatchObject({
      mechanism: 'UK_ADDENDUM',
      sccModule: 2,
      exporterCountry: 'GB',
    });
    // Naming EU SCCs for a UK transfer is refused there too, and nothing is written.
    const before = await counts();
    const sccTransfer = await recordTransfer(h, compliance, {
      officeId: london.id,
      contractorId: c.id,
      mechanism: 'SCC',
      sccModule: 2,
    });
    expect(sccTransfer.__typename, JSON.stringify(sccTransfer)).toBe('PolicyViolationError');
    expect(sccTransfer.reason).toMatch(/EU SCCs alone/);
    expect(await counts()).toEqual(before);
  });

  test('checkRoute judges UK routes the same way', async () => {
    const auditor = await h.staffToken('AUDITOR');
    const CHECK =
      'query($from: String!, $to: String!, $m: TransferMechanism, $s: Int) { transferPolicy { checkRoute(from: $from, to: $to, mechanism: $m, sccModule: $s) { allowed mechanism sccModule explanation } } }';
    const check = async (from: string, m: string, s?: number) =>
      (await h.gql(auditor, CHECK, { from, to: 'IN', m, s })).body.data.transferPolicy.checkRoute;
    expect(await check('GB', 'UK_ADDENDUM', 2)).toMatchObject({
      allowed: true,
      mechanism: 'UK_ADDENDUM',
      sccModule: 2,
    });
    expect(await check('GB', 'IDTA')).toMatchObject({ allowed: true, mechanism: 'IDTA', sccModule: null });
    expect(await check('GB', 'SCC', 2)).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/EU SCCs alone/),
    });
    expect(await check('DE', 'IDTA')).toMatchObject({
      allowed: false,
      explanation: expect.stringMatching(/UK GDPR safeguard/),
    });
  });
});
