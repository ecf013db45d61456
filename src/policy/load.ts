// The transfer policy against the database: loads the rows of the policy tables that some routes need, once,
// and judges each route with the pure rules of transfer-rules.ts. Callers ask one question ("is this route
// allowed, and why") and never load the tables themselves.
import { and, asc, eq, gt, inArray, isNull, lte, or, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Queryable } from '../db/client.js';
import {
  adequacyDecisions,
  derogationLimits,
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
  type DerogationLimit,
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

/** SQL: a policy row's period has not ended by `at` (it is open, or ends after `at`). */
export const endsAfter = (t: { validUntil: AnyPgColumn }, at: Date): SQL =>
  or(isNull(t.validUntil), gt(t.validUntil, at))!;

/** SQL: a policy row's valid-time period contains `at`. */
export const inForce = (t: { validFrom: AnyPgColumn; validUntil: AnyPgColumn }, at: Date): SQL =>
  and(lte(t.validFrom, at), endsAfter(t, at))!;

/** SQL: a policy row's period meets [from, to]: it is in force at some instant between them. */
const inForceWithin = (t: { validFrom: AnyPgColumn; validUntil: AnyPgColumn }, from: Date, to: Date): SQL =>
  and(lte(t.validFrom, to), endsAfter(t, from))!;

const holds = (row: { validFrom: Date; validUntil: Date | null }, at: Date) =>
  row.validFrom <= at && (row.validUntil === null || row.validUntil > at);

/** The policy rows in force at any of some instants, and the tables as they stood at each of them. */
export interface Policy {
  at(at: Date): PolicyTables;
}

/**
 * Loads the rows of the policy tables that routes between `countries` can touch (all rows when omitted), in force
 * at any of the instants `ats`: one statement per table whatever the number of routes and instants.
 */
export async function loadPolicy(
  db: Queryable,
  ats: readonly Date[],
  countries?: Countries | readonly Countries[],
): Promise<Policy> {
  const pairs = countries === undefined ? undefined : Array.isArray(countries) ? countries : [countries as Countries];
  const exporters = pairs && [...new Set(pairs.map((p) => p.exporter))];
  const importers = pairs && [...new Set(pairs.map((p) => p.importer))];
  const both = pairs && [...new Set([...exporters!, ...importers!])];
  const times = ats.map((t) => t.getTime());
  const from = new Date(Math.min(...times));
  const to = new Date(Math.max(...times));
  const [members, names, adequacy, restrictions] = await Promise.all([
    db
      .select()
      .from(jurisdictionMembers)
      .where(
        and(
          inForceWithin(jurisdictionMembers, from, to),
          both ? inArray(jurisdictionMembers.country, both) : undefined,
        ),
      ),
    db.select().from(jurisdictions).where(lte(jurisdictions.validFrom, to)),
    db
      .select()
      .from(adequacyDecisions)
      .where(
        and(
          inForceWithin(adequacyDecisions, from, to),
          importers ? inArray(adequacyDecisions.country, importers) : undefined,
        ),
      )
      .orderBy(asc(adequacyDecisions.jurisdiction), asc(adequacyDecisions.country)),
    db
      .select()
      .from(routeRestrictions)
      .where(
        and(
          inForceWithin(routeRestrictions, from, to),
          exporters ? inArray(routeRestrictions.exporterCountry, exporters) : undefined,
        ),
      )
      .orderBy(asc(routeRestrictions.id)),
  ]);
  const snapshots = new Map<number, PolicyTables>();
  return {
    at(at) {
      let tables = snapshots.get(at.getTime());
      if (!tables) {
        tables = {
          membership: new Map(members.filter((m) => holds(m, at)).map((m) => [m.country, m.jurisdiction])),
          jurisdictionNames: new Map(names.filter((j) => j.validFrom <= at).map((j) => [j.code, j.name])),
          adequacy: adequacy.filter((a) => holds(a, at)),
          restrictions: restrictions.filter((r) => holds(r, at)),
        };
        snapshots.set(at.getTime(), tables);
      }
      return tables;
    },
  };
}

/** The policy tables in force at `at`: whole, or only the rows that routes between `countries` can touch. */
export async function loadPolicyTables(
  db: Queryable,
  at: Date,
  countries?: Countries | readonly Countries[],
): Promise<PolicyTables> {
  return (await loadPolicy(db, [at], countries)).at(at);
}

/** The country pairs whose policy rows a route needs: its hop, and for an onward hop its origin's regime too. */
const routeCountries = (route: Omit<Route, 'importerCountry'>, importer: string): Countries[] => [
  { exporter: route.exporterCountry, importer },
  ...(route.originCountry ? [{ exporter: route.originCountry, importer }] : []),
];

/** The derogation limits (policy data) in force at `at`: every row, oldest first. */
export async function loadDerogationLimits(db: Queryable, at: Date): Promise<(DerogationLimit & { id: number })[]> {
  return db
    .select({
      id: derogationLimits.id,
      derogation: derogationLimits.derogation,
      exporterCountry: derogationLimits.exporterCountry,
      importerCountry: derogationLimits.importerCountry,
      maxTransfers: derogationLimits.maxTransfers,
      maxRecords: derogationLimits.maxRecords,
      validFrom: derogationLimits.validFrom,
      validUntil: derogationLimits.validUntil,
    })
    .from(derogationLimits)
    .where(inForce(derogationLimits, at))
    .orderBy(asc(derogationLimits.id));
}

export interface RouteCase {
  route: Route;
  choice?: MechanismChoice;
}

/** Judges every case with one load of the tables (not one per route). */
export async function judgeRoutes(db: Queryable, cases: readonly RouteCase[]): Promise<Decision[]> {
  if (!cases.length) return [];
  const policy = await loadPolicy(
    db,
    cases.map(({ route }) => route.at),
    cases.flatMap(({ route }) => routeCountries(route, route.importerCountry)),
  );
  return cases.map(({ route, choice }) => decideRoute(policy.at(route.at), route, choice));
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
  const policy = await loadPolicy(
    db,
    cases.map(({ route }) => route.at),
    cases.flatMap(({ route, destinations }) => destinations.flatMap((importer) => routeCountries(route, importer))),
  );
  return cases.map(({ route, destinations, choice }) =>
    decideDestinations(policy.at(route.at), route, destinations, choice),
  );
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
  at: Date,
): Promise<string | null> {
  const tables = await loadPolicyTables(db, at, { exporter: exporterCountry, importer: authorityCountry });
  return foreignAuthority(tables, exporterCountry, authorityCountry);
}

/**
 * SQL: leavesJurisdiction for two country expressions of a statement (`o.country`, a column), over the policy's
 * jurisdiction_members in force at `at`: for statements that write or list many routes at once without loading the tables.
 */
export const leavesJurisdictionSql = (from: SQL, to: SQL, at: Date): SQL => sql`(${from} <> ${to} and not exists (
  select 1 from jurisdiction_members je join jurisdiction_members ji on ji.jurisdiction = je.jurisdiction
  where je.country = ${from} and ji.country = ${to}
    and je.valid_from <= ${at.toISOString()}::timestamptz and (je.valid_until is null or je.valid_until > ${at.toISOString()}::timestamptz)
    and ji.valid_from <= ${at.toISOString()}::timestamptz and (ji.valid_until is null or ji.valid_until > ${at.toISOString()}::timestamptz)))`;

/** The purpose-limitation rows in force at `at`: for one purpose, or every purpose. */
export async function loadPurposeLimits(db: Queryable, at: Date, purpose?: Purpose): Promise<PurposeLimit[]> {
  const [rows, allowed] = await Promise.all([
    db
      .select({ purpose: purposes.key, reason: purposes.categoryLimitReason })
      .from(purposes)
      .where(purpose ? eq(purposes.key, purpose) : undefined)
      .orderBy(asc(purposes.key)),
    db
      .select()
      .from(purposeCategories)
      .where(and(inForce(purposeCategories, at), purpose ? eq(purposeCategories.purpose, purpose) : undefined))
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
  at: Date,
): Promise<string | null> {
  const [limit] = await loadPurposeLimits(db, at, purpose);
  return decidePurposeCategories(limit ?? { purpose, categoryKeys: [], reason: null }, requested);
}
