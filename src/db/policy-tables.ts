// Loads the rows of the transfer-policy tables that a route needs, for the pure rules in src/policy.
import { eq, inArray } from 'drizzle-orm';
import type { PolicyTables } from '../policy/transfer-rules.js';
import type { Queryable } from './client.js';
import { adequacyDecisions, jurisdictionMembers, jurisdictions, routeRestrictions } from './tables.js';

export async function loadPolicyTables(db: Queryable, countries?: { exporter: string; importer: string }): Promise<PolicyTables> {
  const both = countries ? [countries.exporter, countries.importer] : undefined;
  const [members, names, adequacy, restrictions] = await Promise.all([
    db.select().from(jurisdictionMembers).where(both ? inArray(jurisdictionMembers.country, both) : undefined),
    db.select().from(jurisdictions),
    db.select().from(adequacyDecisions).where(countries ? eq(adequacyDecisions.country, countries.importer) : undefined),
    db.select().from(routeRestrictions).where(countries ? eq(routeRestrictions.exporterCountry, countries.exporter) : undefined),
  ]);
  return {
    membership: new Map(members.map((m) => [m.country, m.jurisdiction])),
    jurisdictionNames: new Map(names.map((j) => [j.code, j.name])),
    adequacy,
    restrictions,
  };
}
