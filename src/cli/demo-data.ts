// A demo registry for a fictional vendor, Northwind Softworks, shaped like the policy it is built from:
// offices on several continents; contractors that distribute products, give technical support and
// process orders, in adequate and non-adequate countries; grants under the right mechanisms; obligations.
// Loaded through the registry's own functions, so every row is validated, policy-checked and audited as a
// compliance officer's change would be.
import { STAFF_SCOPES, type StaffPrincipal } from '../auth/principal.js';
import { addProcessingLocation, registerContractor, setContractorStatus } from '../registry/contractors.js';
import { grantDataAccess } from '../registry/grants.js';
import { addObligation } from '../registry/obligations.js';
import { createOffice, hasOffices } from '../registry/offices.js';
import type { RegistryDeps } from '../registry/tx.js';
import { loadDemoActivity } from './demo-activity.js';

/** Who the demo's changes are recorded as in the audit log: a compliance officer named demo-loader, for the load. */
function demoLoader(at: Date): StaffPrincipal {
  return {
    kind: 'staff',
    role: 'COMPLIANCE',
    subject: 'demo-loader',
    tokenId: 'demo-loader',
    scopes: STAFF_SCOPES.COMPLIANCE,
    expiresAt: new Date(at.getTime() + 600_000),
  };
}

type Input = Record<string, unknown>;

/**
 * `npm run demo` and `npm start -- --demo`: loads the demo into an empty registry, or says that the registry
 * has data and loads nothing. Returns the one line to tell the user either way.
 */
export async function loadDemoIfEmpty(deps: RegistryDeps): Promise<{ loaded: boolean; message: string }> {
  if (await hasOffices(deps.db)) {
    const afresh = deps.config.databaseUrl
      ? 'point DATABASE_URL at an empty database'
      : `stop the server, delete ${deps.config.dataDir} (DATA_DIR)`;
    return {
      loaded: false,
      message: `The registry already has data; demo not loaded. To start afresh: ${afresh}, then npm start -- --demo.`,
    };
  }
  await loadDemoData(deps);
  return { loaded: true, message: 'Demo registry loaded (Northwind Softworks).' };
}

/** Loads the demo registry. Call it on an empty registry (hasOffices): it adds, it never replaces. */
export async function loadDemoData(deps: RegistryDeps): Promise<void> {
  const principal = demoLoader(deps.clock.now());
  // Grants date from a year back, so the year of transfers (demo-activity.ts) falls within them.
  const yearAgo = new Date(deps.clock.now().getTime() - 366 * 86_400_000);
  const office = async (input: Input) => (await createOffice(deps, principal, { isHeadquarters: false, ...input })).id;
  const contractor = async (input: Input) => (await registerContractor(deps, principal, input)).id;
  const activate = (id: number) =>
    setContractorStatus(deps, principal, { id, status: 'ACTIVE', reason: 'Due diligence completed, DPA signed' });
  const location = (contractorId: number, country: string, operations: string[]) =>
    addProcessingLocation(deps, principal, { contractorId, country, operations });
  const grant = (input: Input) => grantDataAccess(deps, principal, { validFrom: yearAgo, ...input });
  const obligation = async (input: Input) =>
    (await addObligation(deps, principal, { effectiveFrom: '2026-01-01', ...input })).id;

  const dublin = await office({
    name: 'Northwind Softworks headquarters',
    legalEntity: 'Northwind Softworks Ltd',
    country: 'IE',
    city: 'Dublin',
    isHeadquarters: true,
  });
  const berlin = await office({
    name: 'Berlin sales office',
    legalEntity: 'Northwind Softworks GmbH',
    country: 'DE',
    city: 'Berlin',
  });
  const london = await office({
    name: 'London office',
    legalEntity: 'Northwind Softworks UK Ltd',
    country: 'GB',
    city: 'London',
  });
  await office({ name: 'Austin engineering', legalEntity: 'Northwind Softworks Inc.', country: 'US', city: 'Austin' });
  await office({
    name: 'Bengaluru development centre',
    legalEntity: 'Northwind Softworks India Pvt Ltd',
    country: 'IN',
    city: 'Bengaluru',
  });
  await office({ name: 'Tokyo sales office', legalEntity: 'Northwind Softworks KK', country: 'JP', city: 'Tokyo' });
  await office({
    name: 'São Paulo office',
    legalEntity: 'Northwind Softworks Brasil Ltda',
    country: 'BR',
    city: 'São Paulo',
  });

  const parcel = await contractor({
    legalName: 'ParcelPoint Logistics B.V.',
    country: 'NL',
    services: ['DISTRIBUTION'],
    role: 'PROCESSOR',
    contactEmail: 'privacy@parcelpoint.example',
    contractReference: 'NW-DIST-2026-01',
    dpaSignedOn: '2026-01-10',
  });
  const helpdesk = await contractor({
    legalName: 'Helpdesk Services Pvt Ltd',
    country: 'IN',
    services: ['TECHNICAL_SUPPORT'],
    role: 'PROCESSOR',
    contactEmail: 'dpo@helpdesk.example',
    contractReference: 'NW-SUP-2026-02',
    dpaSignedOn: '2026-02-01',
  });
  const orderflow = await contractor({
    legalName: 'OrderFlow Inc.',
    country: 'US',
    services: ['ORDER_PROCESSING'],
    role: 'PROCESSOR',
    certifications: ['EU_US_DPF', 'UK_US_DATA_BRIDGE'],
    contactEmail: 'privacy@orderflow.example',
    contractReference: 'NW-ORD-2026-03',
    dpaSignedOn: '2026-01-20',
  });
  const cardvault = await contractor({
    legalName: 'CardVault Payments Ltd',
    country: 'GB',
    services: ['PAYMENT_PROCESSING'],
    role: 'PROCESSOR',
    contactEmail: 'dpo@cardvault.example',
    contractReference: 'NW-PAY-2026-04',
    dpaSignedOn: '2026-01-05',
  });
  const kanto = await contractor({
    legalName: 'Kanto Support KK',
    country: 'JP',
    services: ['TECHNICAL_SUPPORT'],
    role: 'SUBPROCESSOR',
    parentContractorId: helpdesk,
    contactEmail: 'privacy@kanto.example',
    dpaSignedOn: '2026-03-01',
  });
  await contractor({
    legalName: 'Mailsend Pty Ltd',
    country: 'AU',
    services: ['MARKETING_EMAIL'],
    role: 'PROCESSOR',
    contactEmail: 'privacy@mailsend.example',
  });
  for (const id of [parcel, helpdesk, orderflow, cardvault, kanto]) await activate(id);

  await location(parcel, 'NL', ['COLLECTION', 'STORAGE', 'PROCESSING']);
  await location(parcel, 'DE', ['PROCESSING']);
  await location(helpdesk, 'IN', ['STORAGE', 'PROCESSING']);
  await location(orderflow, 'US', ['COLLECTION', 'TRANSFER', 'STORAGE', 'PROCESSING']);
  await location(cardvault, 'GB', ['STORAGE', 'PROCESSING']);
  await location(kanto, 'JP', ['PROCESSING']);

  // Same jurisdiction (IE → NL): no mechanism needed.
  await grant({
    contractorId: parcel,
    officeId: dublin,
    purpose: 'PRODUCT_DISTRIBUTION',
    categories: ['contact.name', 'contact.postal_address', 'commerce.licence_number'],
  });
  // No adequacy for India: SCC module 2, with a transfer impact assessment.
  const helpdeskGrant = await grant({
    contractorId: helpdesk,
    officeId: dublin,
    purpose: 'TECHNICAL_SUPPORT',
    categories: ['contact.name', 'contact.email', 'device.hardware', 'device.software', 'support.problem_description'],
    mechanism: 'SCC',
    sccModule: 2,
    tiaReference: 'TIA-2026-007',
    tiaDate: '2026-01-28',
  });
  // US adequacy covers DPF-certified importers only; OrderFlow is certified.
  await grant({
    contractorId: orderflow,
    officeId: berlin,
    purpose: 'ORDER_FULFILMENT',
    categories: ['contact.name', 'contact.email', 'contact.postal_address', 'commerce.order_history'],
  });
  // UK adequacy from the EU side; payment cards are RESTRICTED and named explicitly.
  await grant({
    contractorId: cardvault,
    officeId: dublin,
    purpose: 'ORDER_FULFILMENT',
    categories: ['contact.name', 'financial.payment_card'],
  });
  await grant({
    contractorId: cardvault,
    officeId: london,
    purpose: 'ORDER_FULFILMENT',
    categories: ['contact.name', 'financial.payment_card'],
  });
  // Onward, under Helpdesk's grant: India → Japan judged under the EU regime of the Dublin office (adequate).
  await grant({
    contractorId: kanto,
    parentGrantId: helpdeskGrant.id,
    purpose: 'TECHNICAL_SUPPORT',
    categories: ['contact.name', 'device.software', 'support.problem_description'],
  });

  const parcelObligations: number[] = [];
  for (const id of [parcel, helpdesk, orderflow, cardvault, kanto]) {
    const confidentiality = await obligation({
      contractorId: id,
      kind: 'CONFIDENTIALITY',
      text: "Keep personal data secure and confidential and use it only on Northwind Softworks' behalf.",
      sourceDocument: 'Data Processing Agreement v3',
      clause: '4.1',
      reviewDueOn: '2027-01-01',
    });
    const breach = await obligation({
      contractorId: id,
      kind: 'BREACH_NOTIFICATION',
      text: 'Notify Northwind Softworks of a personal-data breach without undue delay.',
      sourceDocument: 'Data Processing Agreement v3',
      clause: '9.2',
      breachNotificationHours: 48,
    });
    if (id === parcel) parcelObligations.push(confidentiality, breach);
  }
  await obligation({
    contractorId: cardvault,
    kind: 'SECURITY_MEASURES',
    text: 'Card data only over TLS; PCI DSS controls maintained.',
    sourceDocument: 'Data Processing Agreement v3, Annex II',
    clause: 'II.3',
    expiresOn: '2027-06-30',
  });
  await loadDemoActivity(deps, principal, {
    dublin,
    berlin,
    london,
    parcel,
    helpdesk,
    orderflow,
    cardvault,
    kanto,
    parcelObligations,
  });
}
