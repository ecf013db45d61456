// Every page of shared records a contractor fetches becomes a CONTRACTOR_ACCESS transfer, in the same
// transaction as the read: per exporting office in the page, the record count and the categories actually
// returned, with the mechanism and policy explanation of the grant that allowed it.
import { sql } from 'drizzle-orm';
import type { ContractorPrincipal } from '../auth/principal.js';
import type { Queryable } from '../db/client.js';
import type { Purpose } from '../db/enums.js';

export interface ReturnedRow { officeId: number; values: Record<string, string> }
export interface AccessRoute { officeId: number; grantId: number }

/** Writes one transfer per exporting office present in `rows`; returns how many were written. */
export async function recordContractorAccess(tx: Queryable, a: {
  principal: ContractorPrincipal; purpose: Purpose; rows: ReturnedRow[]; routes: AccessRoute[];
}): Promise<number> {
  const byOffice = new Map<number, { count: number; categories: Set<string> }>();
  for (const r of a.rows) {
    const entry = byOffice.get(r.officeId) ?? { count: 0, categories: new Set<string>() };
    entry.count++;
    for (const k of Object.keys(r.values)) entry.categories.add(k);
    byOffice.set(r.officeId, entry);
  }
  for (const [officeId, { count, categories }] of byOffice) {
    const route = a.routes.find((r) => r.officeId === officeId);
    if (!route) throw new Error(`no grant route for office ${officeId} in an access page`);
    const keys = `{${[...categories].sort().map((c) => `"${c}"`).join(',')}}`;
    // third_country: the data left the exporter's jurisdiction (not merely its country) — the same rule as recorded transfers.
    await tx.execute(sql`
      insert into transfers (occurred_at, kind, exporter_office_id, exporter_country, importer_kind, importer_contractor_id, importer_country,
        categories, purpose, mechanism, scc_module, policy_explanation, record_count, cross_border, third_country, grant_id, access_token_id, recorded_by)
      select now(), 'CONTRACTOR_ACCESS', o.id, o.country, 'CONTRACTOR', c.id, c.country,
        ${keys}::text[], ${a.purpose}, g.mechanism, g.scc_module, g.policy_explanation, ${count}, o.country <> c.country,
        o.country <> c.country and not exists (
          select 1 from jurisdiction_members je join jurisdiction_members ji on ji.jurisdiction = je.jurisdiction
          where je.country = o.country and ji.country = c.country),
        g.id, (select t.id from access_tokens t where t.jti = ${a.principal.tokenId}), ${a.principal.subject}
      from grants g join offices o on o.id = g.office_id join contractors c on c.id = g.contractor_id
      where g.id = ${route.grantId}`);
  }
  return byOffice.size;
}
