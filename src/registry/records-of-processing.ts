// GDPR Art. 30(1) record of processing activities, assembled from the registry: one activity per purpose that a
// grant in effect serves. What the registry does not hold is listed under `missing`, never invented. The GraphQL
// field and the CSV export both read this one function.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import type { ContractorRole, Mechanism, Purpose } from '../db/enums.js';
import { contractors, grantCategories, grants, obligations, offices, purposes } from '../db/tables.js';
import { leavesJurisdictionSql } from '../policy/load.js';
import { grantGivesData } from './grant-status.js';
import { currentOn } from './obligations.js';
import { dayOf } from './validation.js';

export interface Recipient {
  legalName: string;
  country: string;
  role: ContractorRole;
}
export interface ThirdCountryTransfer {
  recipient: string;
  exporterCountry: string;
  importerCountry: string;
  mechanism: Mechanism;
  sccModule: number | null;
  tiaReference: string | null;
}
export interface SecurityMeasure {
  contractor: string;
  text: string;
  sourceDocument: string;
  clause: string | null;
}
export interface ProcessingActivity {
  purpose: Purpose;
  name: string;
  description: string;
  dataCategories: string[];
  recipients: Recipient[];
  thirdCountryTransfers: ThirdCountryTransfer[];
  securityMeasures: SecurityMeasure[];
  missing: string[];
  /** One line per grant, for the CSV. */
  lines: Array<{
    recipient: Recipient;
    exporterCountry: string;
    mechanism: Mechanism;
    sccModule: number | null;
    tiaReference: string | null;
    thirdCountry: boolean;
    categories: string[];
  }>;
}
export interface RecordsOfProcessing {
  controllerName: string | null;
  controllerCountry: string | null;
  controllerMissing: string[];
  activities: ProcessingActivity[];
  generatedAt: Date;
}

/** Art. 30(1) items the registry holds no data for. */
const ALWAYS_MISSING = [
  'categories of data subjects (Art. 30(1)(c)): not held by the registry',
  'time limits for erasure (Art. 30(1)(f)): not held by the registry',
];

/** The record as it stands at `now`: from the grants in effect then and the obligations current that day. */
export async function recordsOfProcessing(db: Queryable, now: Date): Promise<RecordsOfProcessing> {
  const [hq] = await db.select().from(offices).where(eq(offices.isHeadquarters, true)).limit(1);
  const rows = await db
    .select({
      grantId: grants.id,
      purpose: grants.purpose,
      mechanism: grants.mechanism,
      sccModule: grants.sccModule,
      tiaReference: grants.tiaReference,
      exporterCountry: offices.country,
      contractorId: contractors.id,
      legalName: contractors.legalName,
      country: contractors.country,
      role: contractors.role,
      categories: sql<string[]>`array_agg(${grantCategories.categoryKey} order by ${grantCategories.categoryKey})`,
      thirdCountry: sql<boolean>`${leavesJurisdictionSql(sql`${offices.country}`, sql`${contractors.country}`, now)}`,
    })
    .from(grants)
    .innerJoin(contractors, eq(contractors.id, grants.contractorId))
    .innerJoin(offices, eq(offices.id, grants.officeId))
    .innerJoin(grantCategories, eq(grantCategories.grantId, grants.id))
    .where(grantGivesData(now))
    .groupBy(grants.id, offices.id, contractors.id)
    .orderBy(asc(grants.purpose), asc(grants.id));
  const purposeRows = await db.select().from(purposes);
  const contractorIds = [...new Set(rows.map((r) => r.contractorId))];
  const measures = contractorIds.length
    ? await db
        .select({
          contractorId: obligations.contractorId,
          text: obligations.text,
          sourceDocument: obligations.sourceDocument,
          clause: obligations.clause,
        })
        .from(obligations)
        .where(
          and(
            inArray(obligations.contractorId, contractorIds),
            eq(obligations.kind, 'SECURITY_MEASURES'),
            currentOn(dayOf(now)),
          ),
        )
        .orderBy(obligations.contractorId, obligations.id)
    : [];

  const activities: ProcessingActivity[] = [];
  for (const p of purposeRows) {
    const mine = rows.filter((r) => r.purpose === p.key);
    if (!mine.length) continue;
    const recipients = new Map<number, Recipient>();
    for (const r of mine) recipients.set(r.contractorId, { legalName: r.legalName, country: r.country, role: r.role });
    const securityMeasures = measures
      .filter((m) => recipients.has(m.contractorId))
      .map((m) => ({
        contractor: recipients.get(m.contractorId)!.legalName,
        text: m.text,
        sourceDocument: m.sourceDocument,
        clause: m.clause,
      }));
    const missing = [...ALWAYS_MISSING];
    const unsecured = [...recipients.entries()]
      .filter(([id]) => !measures.some((m) => m.contractorId === id))
      .map(([, r]) => r.legalName);
    if (unsecured.length)
      missing.push(
        `security measures (Art. 30(1)(g)): no current SECURITY_MEASURES obligation for ${unsecured.join(', ')}`,
      );
    // Art. 30(1)(e): the grants whose data leaves the exporter's jurisdiction, with the safeguard each relies on.
    const third = mine.filter((r) => r.thirdCountry);
    activities.push({
      purpose: p.key,
      name: p.name,
      description: p.description,
      dataCategories: [...new Set(mine.flatMap((r) => r.categories))].sort(),
      recipients: [...recipients.values()],
      thirdCountryTransfers: third.map((r) => ({
        recipient: r.legalName,
        exporterCountry: r.exporterCountry,
        importerCountry: r.country,
        mechanism: r.mechanism,
        sccModule: r.sccModule,
        tiaReference: r.tiaReference,
      })),
      securityMeasures,
      missing,
      lines: mine.map((r) => ({
        recipient: recipients.get(r.contractorId)!,
        exporterCountry: r.exporterCountry,
        mechanism: r.mechanism,
        sccModule: r.sccModule,
        tiaReference: r.tiaReference,
        thirdCountry: Boolean(r.thirdCountry),
        categories: r.categories,
      })),
    });
  }
  return {
    controllerName: hq?.legalEntity ?? null,
    controllerCountry: hq?.country ?? null,
    controllerMissing: [
      ...(hq ? [] : ['controller name (Art. 30(1)(a)): no headquarters office is registered']),
      'controller contact details and data protection officer (Art. 30(1)(a)): not held by the registry',
    ],
    activities,
    generatedAt: now,
  };
}
