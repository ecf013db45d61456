// Helpers for the transfer, disclosure and audit-log tests: a small registry with routes inside and outside the EEA.
import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { onPostgres, type Harness } from './harness.js';
import { createOffice, grant, mutate, registerContractor, setStatus } from './fixtures.js';
import { rowsOf } from '../src/db/rows.js';

export const TRANSFER_FIELDS = `id occurredAt kind exporterCountry originCountry importerKind importerCountry categories purpose mechanism sccModule
  recordCount crossBorder thirdCountry policyExplanation derogationJustification importerAuthority
  exporterOffice { id name } importerContractor { id legalName } importerOffice { id name } grant { id }`;

export async function recordTransfer(h: Harness, token: string, input: Record<string, unknown>) {
  return mutate(
    h,
    token,
    'recordTransfer',
    'RecordTransferInput',
    { categories: ['contact.email'], purpose: 'TECHNICAL_SUPPORT', recordCount: 10, ...input },
    `... on RecordTransferPayload { transfer { ${TRANSFER_FIELDS} } }`,
  );
}

export async function recordOk(h: Harness, token: string, input: Record<string, unknown>) {
  const r = await recordTransfer(h, token, input);
  expect(r.__typename, JSON.stringify(r)).toBe('RecordTransferPayload');
  return r.transfer;
}

export const PAST = '2020-01-01T00:00:00Z';

/** A German office, an ACTIVE French processor (same jurisdiction) and an ACTIVE Indian processor (SCC module 2), both granted e-mail and name since 2020. */
export async function smallRegistry(h: Harness, compliance: string, tag = '') {
  const office = await createOffice(h, compliance, { name: `Berlin office${tag}`, country: 'DE' });
  const fr = await registerContractor(h, compliance, { legalName: `Support FR${tag}`, country: 'FR' });
  const india = await registerContractor(h, compliance, { legalName: `Helpdesk IN${tag}`, country: 'IN' });
  for (const c of [fr, india]) await setStatus(h, compliance, c.id, 'ACTIVE');
  const categories = ['contact.email', 'contact.name'];
  const frGrant = await grant(h, compliance, { contractorId: fr.id, officeId: office.id, categories, validFrom: PAST });
  const inGrant = await grant(h, compliance, {
    contractorId: india.id,
    officeId: office.id,
    categories,
    validFrom: PAST,
    mechanism: 'SCC',
    sccModule: 2,
  });
  return { office, fr, india, frGrant, inGrant };
}

export async function count(h: Harness, table: 'transfers' | 'audit_events' | 'disclosure_requests'): Promise<number> {
  const r: any = await h.database.db.execute(sql.raw(`select count(*)::int as n from ${table}`));
  return Number(rowsOf<any>(r)[0].n);
}

export async function rawSql(h: Harness, text: string): Promise<unknown> {
  return h.database.db.execute(sql.raw(text));
}

export async function csv(h: Harness, token: string | undefined, path: string) {
  const res = await h.app.fetch(`http://registry.test${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** Minimal RFC 4180 parser for the tests. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

/** The previous calendar quarter, [start, end). */
export function lastQuarter(now = new Date()) {
  const q = Math.floor(now.getUTCMonth() / 3);
  return {
    from: new Date(Date.UTC(now.getUTCFullYear(), (q - 1) * 3, 1)),
    to: new Date(Date.UTC(now.getUTCFullYear(), q * 3, 1)),
  };
}

/**
 * Raw SQL that the database must refuse as a change to append-only history: from the service's connection
 * (on PostgreSQL its role lacks the privilege; on PGlite the trigger refuses) and from the tables' owner,
 * whom the trigger refuses too.
 */
export async function expectRefused(h: Harness, text: string) {
  const asService: any = await rawSql(h, text).then(
    () => null,
    (e) => e,
  );
  expect(asService, `${text} was accepted`).not.toBeNull();
  expect(`${asService.message} ${asService.cause?.message ?? ''}`).toMatch(
    onPostgres ? /permission denied for table/ : /append-only/,
  );
  const asOwner: any = await h.asOwner(text).then(
    () => null,
    (e) => e,
  );
  expect(asOwner, `${text} was accepted from the owner`).not.toBeNull();
  expect(`${asOwner.message} ${asOwner.cause?.message ?? ''}`).toMatch(/append-only/);
}
