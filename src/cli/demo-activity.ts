// A year of the demo registry's life, so every view of the console shows something on the first start: transfers
// on every route its grants open (an onward one among them), disclosure requests in every state (one overdue),
// shared records with an opt-out, one contractor's reads of them, and a policy change that suspends a grant. All
// through the registry's own functions, audited as the demo loader's (or, for its reads, the contractor's) changes.
import type { ContractorPrincipal, StaffPrincipal } from '../auth/principal.js';
import type { Purpose } from '../db/enums.js';
import {
  decideDisclosureRequest,
  receiveDisclosureRequest,
  startDisclosureReview,
  withdrawDisclosureRequest,
} from '../registry/disclosures.js';
import { acknowledgeObligation, addObligation } from '../registry/obligations.js';
import { applyPolicyChange } from '../registry/policy-changes.js';
import { fetchSharedRecords, importSharedRecords, recordOptOut } from '../registry/shared-records.js';
import { publicId } from '../registry/ids.js';
import { recordTransfer } from '../registry/transfers.js';
import type { RegistryDeps } from '../registry/tx.js';

export interface DemoIds {
  dublin: number;
  berlin: number;
  london: number;
  parcel: number;
  helpdesk: number;
  orderflow: number;
  cardvault: number;
  kanto: number;
  /** ParcelPoint's obligations, acknowledged before it reads shared records. */
  parcelObligations: number[];
}

const DAY = 86_400_000;

/** The routes transfers take, each with a typical batch size. */
function routes(ids: DemoIds) {
  const support = ['contact.name', 'support.problem_description'];
  return [
    {
      officeId: ids.dublin,
      contractorId: ids.parcel,
      purpose: 'PRODUCT_DISTRIBUTION',
      categories: ['contact.name', 'contact.postal_address'],
      size: 900,
    },
    { officeId: ids.dublin, contractorId: ids.helpdesk, purpose: 'TECHNICAL_SUPPORT', categories: support, size: 400 },
    // Onward: Helpdesk (India) passes tickets on to its sub-processor in Japan.
    {
      officeId: ids.dublin,
      contractorId: ids.kanto,
      viaContractorId: ids.helpdesk,
      purpose: 'TECHNICAL_SUPPORT',
      categories: support,
      size: 120,
    },
    {
      officeId: ids.berlin,
      contractorId: ids.orderflow,
      purpose: 'ORDER_FULFILMENT',
      categories: ['contact.name', 'contact.email'],
      size: 1500,
    },
    {
      officeId: ids.dublin,
      contractorId: ids.cardvault,
      purpose: 'ORDER_FULFILMENT',
      categories: ['contact.name', 'financial.payment_card'],
      size: 700,
    },
    {
      officeId: ids.london,
      contractorId: ids.cardvault,
      purpose: 'ORDER_FULFILMENT',
      categories: ['contact.name', 'financial.payment_card'],
      size: 300,
    },
  ] as const;
}

/** Loads the year of activity; the grants it uses must be valid from a year before `now`. */
export async function loadDemoActivity(deps: RegistryDeps, loader: StaffPrincipal, ids: DemoIds): Promise<void> {
  const now = deps.clock.now().getTime();
  // One transfer a month on every route, in each of the last twelve calendar months (UTC), the current one up to
  // now; sizes vary by a fixed pattern (same demo every time). Each is a recorded, audited change: few keep the
  // first start quick.
  const today = new Date(now);
  let n = 0;
  for (let month = 11; month >= 0; month--) {
    for (const { size, ...route } of routes(ids)) {
      n++;
      const planned = Date.UTC(today.getUTCFullYear(), today.getUTCMonth() - month, 10, n % 17);
      const occurredAt = new Date(Math.min(planned, now - (n % 17) * 3_600_000 - 60_000));
      await recordTransfer(deps, loader, { ...route, recordCount: size + ((n * 37) % 211) - month * 9, occurredAt });
    }
  }

  await disclosureRequests(deps, loader, ids, now);

  await importSharedRecords(deps, loader, {
    officeId: ids.dublin,
    records: ['cust-0001', 'cust-0002', 'cust-0003', 'cust-0004', 'cust-0005'].map((subjectRef, i) => ({
      subjectRef,
      values: {
        'contact.name': ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Katherine Johnson', 'Edsger Dijkstra'][i],
        'contact.email': `customer${i + 1}@example.org`,
      },
    })),
  });
  await recordOptOut(deps, loader, { subjectRef: 'cust-0004', purpose: 'PRODUCT_DISTRIBUTION' });

  // ParcelPoint acknowledges its obligations and reads the records its grant covers, twice.
  const parcel: ContractorPrincipal = {
    kind: 'contractor',
    contractorId: ids.parcel,
    subject: publicId('Contractor', ids.parcel),
    tokenId: 'demo-parcelpoint',
    scopes: ['registry:read', 'records:read', 'obligations:acknowledge'],
    categories: ['contact.name', 'contact.postal_address'],
    purposes: ['PRODUCT_DISTRIBUTION' satisfies Purpose],
    expiresAt: new Date(now + 600_000),
  };
  for (const id of ids.parcelObligations) await acknowledgeObligation(deps, parcel, { id });
  for (let i = 0; i < 2; i++)
    await fetchSharedRecords(deps, parcel, { purpose: 'PRODUCT_DISTRIBUTION', first: 50, afterId: 0 });
  // A new obligation, still to acknowledge: the contractor's console shows it with its button.
  await addObligation(deps, loader, {
    contractorId: ids.parcel,
    kind: 'AUDIT_COOPERATION',
    text: 'Allow Northwind Softworks, or an auditor it appoints, to audit the processing once a year.',
    sourceDocument: 'Data Processing Agreement v3',
    clause: '11.1',
    effectiveFrom: new Date(now - DAY).toISOString().slice(0, 10),
  });
  // Last, a policy change with a finding: the EU's US adequacy suspended, so OrderFlow's grant from Berlin waits in
  // the compliance queue to be re-papered with the SCCs the refusal names.
  await applyPolicyChange(deps, loader, {
    reason: 'Demo: the EU-US Data Privacy Framework is under review; rely on SCCs until it is confirmed.',
    suspendAdequacy: { jurisdiction: 'EU_EEA', country: 'US' },
  });
}

/** One request in every state; the one still RECEIVED is past its due date. */
async function disclosureRequests(deps: RegistryDeps, loader: StaffPrincipal, ids: DemoIds, now: number) {
  const receive = (input: Record<string, unknown>, daysAgo: number, dueInDays: number) =>
    receiveDisclosureRequest(deps, loader, {
      requestedCategories: ['contact.name', 'contact.email'],
      subjectsRequested: 3,
      ...input,
      receivedAt: new Date(now - daysAgo * DAY),
      dueAt: new Date(now + (dueInDays - daysAgo) * DAY),
    });
  const review = (id: number) => startDisclosureReview(deps, loader, { id });

  const garda = await receive(
    {
      officeId: ids.dublin,
      authorityName: 'An Garda Síochána',
      authorityType: 'LAW_ENFORCEMENT',
      authorityCountry: 'IE',
      instrument: 'WARRANT',
      reference: 'GS-2026-0142',
    },
    200,
    30,
  );
  await review(garda.id);
  await decideDisclosureRequest(deps, loader, {
    id: garda.id,
    decision: 'DISCLOSED',
    disclosedCategories: ['contact.name', 'contact.email'],
    subjectsDisclosed: 3,
    exporterNotified: true,
  });
  const bka = await receive(
    {
      officeId: ids.berlin,
      authorityName: 'Bundeskriminalamt',
      authorityType: 'LAW_ENFORCEMENT',
      authorityCountry: 'DE',
      instrument: 'COURT_ORDER',
      reference: 'BKA-7781/26',
    },
    150,
    30,
  );
  await review(bka.id);
  await decideDisclosureRequest(deps, loader, {
    id: bka.id,
    decision: 'PARTIALLY_DISCLOSED',
    disclosedCategories: ['contact.name'],
    subjectsDisclosed: 1,
    rationale: 'Only the named suspect is in scope of the order; e-mail addresses are not.',
  });
  const doj = await receive(
    {
      officeId: ids.dublin,
      authorityName: 'US Department of Justice',
      authorityType: 'GOVERNMENT_AGENCY',
      authorityCountry: 'US',
      instrument: 'SUBPOENA',
      reference: 'DOJ-26-00931',
    },
    120,
    30,
  );
  await review(doj.id);
  await decideDisclosureRequest(deps, loader, {
    id: doj.id,
    decision: 'REJECTED',
    rationale: 'GDPR Art. 48: a foreign subpoena without an international agreement is no basis for disclosure.',
    challenged: true,
  });
  const ico = await receive(
    {
      officeId: ids.london,
      authorityName: "Information Commissioner's Office",
      authorityType: 'REGULATOR',
      authorityCountry: 'GB',
      instrument: 'OTHER',
      reference: 'ICO-INV-2231',
    },
    90,
    30,
  );
  await withdrawDisclosureRequest(deps, loader, {
    id: ico.id,
    reason: 'The complaint behind the request was resolved.',
  });
  const cbi = await receive(
    {
      officeId: ids.dublin,
      authorityName: 'Central Bureau of Investigation',
      authorityType: 'LAW_ENFORCEMENT',
      authorityCountry: 'IN',
      instrument: 'COURT_ORDER',
      reference: 'CBI-2026-118',
    },
    10,
    30,
  );
  await review(cbi.id);
  // Received three weeks ago, due a week ago, still undecided: the overdue queue's entry.
  await receive(
    {
      officeId: ids.berlin,
      authorityName: 'Staatsanwaltschaft München',
      authorityType: 'COURT',
      authorityCountry: 'DE',
      instrument: 'COURT_ORDER',
      reference: 'StA-M-2026-5512',
    },
    21,
    14,
  );
}
