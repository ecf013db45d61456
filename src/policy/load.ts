// The transfer policy against the database: loads the rows of the policy tables that some routes need, once,
// and judges each route with the pure rules of transfer-rules.ts. Callers ask one question ("is this route
// allowed, and why") and never load the tables themselves.
import { asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Queryable } from '../db/client.js';
import {
  adequacyDecisions,
  jurisdictionMembers,
  jurisdictions,
  purposeCategories,
  purposes,
  routeRestrictions,
} from '../db/tables.js';
import type { Purpose } from '../db/enums.js';
import { decidePurposeCategories, type PurposeLimit, type RequestedCategory } from './purpose-limits.js';
import {
  decideDestinations,
  decideRoute,
  foreignAuthority,
  type DestinationsDecision,
  type Decision,
  type MechanismChoice,
  type PolicyTables,
  type Route,
} from './transfer-rules.js';

export interface Countries {
  exporter: string;
  importer: string;
}

/** The policy tables: whole, or only the rows that routes between `countries` can touch. */
export async function loadPolicyTables(
  db: Queryable,
  countries?: Countries | readonly Countries[],
): Promise<PolicyTables> {
  const pairs = countries === undefined ? undefined : Array.isArray(countries) ? countries : [countries as Countries];
  const exporters = pairs && [...new Set(pairs.map((p) => p.exporter))];
  const importers = pairs && [...new Set(pairs.map((p) => p.importer))];
  const both = pairs && [...new Set([...exporters!, ...importers!])];
  const [members, names, adequacy, restrictions] = await Promise.all([
    db
      .select()
      .from(jurisdictionMembers)
      .where(both ? inArray(jurisdictionMembers.country, both) : undefined),
    db.select().from(jurisdictions),
    db
      .select()
      .from(adequacyDecisions)
      .where(importers ? inArray(adequacyDecisions.country, importers) : undefined),
    db
      .select()
      .from(routeRestrictions)
      .where(exporters ? inArray(routeRestrictions.exporterCountry, exporters) : undefined),
  ]);
  return {
    membership: new Map(members.map((m) => [m.country, m.jurisdiction])),
    jurisdictionNames: new Map(names.map((j) => [j.code, j.name])),
    adequacy,
    restrictions,
  };
}

export interface RouteCase {
  route: Route;
  choice?: MechanismChoice;
}

/** Judges every case with one load of the tables (not one per route). */
export async function judgeRoutes(db: Queryable, cases: readonly RouteCase[]): Promise<Decision[]> {
  if (!cases.length) return [];
  const tables = await loadPolicyTables(
    db,
    cases.map(({ route }) => ({ exporter: route.exporterCountry, importer: route.importerCountry })),
  );
  return cases.map(({ route, choice }) => decideRoute(tables, route, choice));
}

export interface DestinationsCase {
  route: Omit<Route, 'importerCountry'>;
  /** The contractor's country first, then its processing locations. */
  destinations: readonly string[];
  choice?: MechanismChoice;
}

/** Judges each grant's route to every destination of its contractor, with one load of the tables. */
export async function judgeDestinations(
  db: Queryable,
  cases: readonly DestinationsCase[],
): Promise<DestinationsDecision[]> {
  if (!cases.length) return [];
  const tables = await loadPolicyTables(
    db,
    cases.flatMap(({ route, destinations }) =>
      destinations.map((importer) => ({ exporter: route.exporterCountry, importer })),
    ),
  );
  return cases.map(({ route, destinations, choice }) => decideDestinations(tables, route, destinations, choice));
}

/** Is this route allowed with this mechanism, and why. */
export async function judgeRoute(db: Queryable, route: Route, choice: MechanismChoice = {}): Promise<Decision> {
  const [decision] = await judgeRoutes(db, [{ route, choice }]);
  return decision!;
}

/** GDPR Art. 48: why an authority in `authorityCountry` is foreign to an office in `exporterCountry`, or null. */
export async function judgeAuthority(
  db: Queryable,
  exporterCountry: string,
  authorityCountry: string,
): Promise<string | null> {
  const tables = await loadPolicyTables(db, { exporter: exporterCountry, importer: authorityCountry });
  return foreignAuthority(tables, exporterCountry, authorityCountry);
}

/**
 * SQL: leavesJurisdiction for two country expressions of a statement (`o.country`, a column), over the policy's
 * jurisdiction_members: for statements that write or list many routes at once without loading the tables.
 */
export const leavesJurisdictionSql = (from: SQL, to: SQL): SQL => sql`(${from} <> ${to} and not exists (
  select 1 from jurisdiction_members je join jurisdiction_members ji on ji.jurisdiction = je.jurisdiction
  where je.country = ${from} and ji.country = ${to}))`;

/** The purpose-limitation rows: for one purpose, or every purpose. */
export async function loadPurposeLimits(db: Queryable, purpose?: Purpose): Promise<PurposeLimit[]> {
  const [rows, allowed] = await Promise.all([
    db
      .select({ purpose: purposes.key, reason: purposes.categoryLimitReason })
      .from(purposes)
      .where(purpose ? eq(purposes.key, purpose) : undefined)
      .orderBy(asc(purposes.key)),
    db
      .select()
      .from(purposeCategories)
      .where(purpose ? eq(purposeCategories.purpose, purpose) : undefined)
      .orderBy(asc(purposeCategories.categoryKey)),
  ]);
  return rows.map((r) => ({
    purpose: r.purpose,
    reason: r.reason,
    categoryKeys: allowed.filter((a) => a.purpose === r.purpose).map((a) => a.categoryKey),
  }));
}

/** May `purpose` use these categories, and if not, why. */
export async function judgePurposeCategories(
  db: Queryable,
  purpose: Purpose,
  requested: readonly RequestedCategory[],
): Promise<string | null> {
  const [limit] = await loadPurposeLimits(db, purpose);
  return decidePurposeCategories(limit ?? { purpose, categoryKeys: [], reason: null }, requested);
}
