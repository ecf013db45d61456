// The transfer policy as staff read it: its tables, and how a grant or an occasional transfer on a route would be
// judged — to a country, to a registered contractor (its country, role, certifications and processing
// locations) or to one of the group's offices, at a given date.
import { z } from 'zod';
import { CERTIFICATIONS, CONTRACTOR_ROLES, MECHANISMS } from '../db/enums.js';
import type { Queryable } from '../db/client.js';
import { ValidationError } from '../errors.js';
import { loadDerogationLimits, loadPolicyTables, loadPurposeLimits } from '../policy/load.js';
import {
  ROUTE_CONTEXTS,
  decideDestinations,
  derogationLimitFor,
  validMechanisms,
  type DerogationLimit,
  type DestinationsDecision,
  type MechanismOption,
  type PolicyTables,
  type Route,
} from '../policy/transfer-rules.js';
import { findContractor } from './contractor-status.js';
import { locationCountries } from './grants.js';
import { findOffice } from './office-lookup.js';
import { country, optionalText, parseInput, rowId } from './validation.js';

/** The policy tables in force at `at` (default now): what the registry judged routes by then. */
export const transferPolicy = (db: Queryable, at: Date): Promise<PolicyTables> => loadPolicyTables(db, at);

/** The purpose-limitation table in force at `at`, every purpose (changed through applyPolicyChange). */
export const purposeLimits = (db: Queryable, at: Date) => loadPurposeLimits(db, at);

/** The derogation limits in force at `at` (changed through applyPolicyChange). */
export const derogationLimits = (db: Queryable, at: Date) => loadDerogationLimits(db, at);

/**
 * A route check's answer: the decision; the mechanisms that would make the route allowed (validMechanisms);
 * allowed under a derogation, the limit in force then that it counts against.
 */
export type RouteCheck = DestinationsDecision & {
  validMechanisms: MechanismOption[];
  occasionalLimit?: DerogationLimit | null;
};

/** The history of policy changes, newest first: the relational-query `where` of a page. */
export const policyChangeFilters = (f: { pendingOnly?: boolean | null }) =>
  f.pendingOnly ? { appliedAt: { isNull: true as const } } : {};

/** The importer a route check names: a registered contractor or office (by the ID the API decoded). */
export type RouteImporter = { contractorId: number } | { officeId: number };

const checkRouteSchema = z
  .object({
    from: country,
    to: country.nullish(),
    importer: z.union([z.object({ contractorId: rowId }).strict(), z.object({ officeId: rowId }).strict()]).nullish(),
    via: rowId.nullish(),
    importerRole: z.enum(CONTRACTOR_ROLES).nullish(),
    certifications: z.array(z.enum(CERTIFICATIONS)).nullish(),
    context: z.enum(ROUTE_CONTEXTS).nullish(),
    at: z.date().nullish(),
    mechanism: z.enum(MECHANISMS).nullish(),
    sccModule: z.number().int().nullish(),
    derogationJustification: optionalText(2000),
  })
  .strict();

/**
 * How a grant (or, with context TRANSFER, one occasional transfer) from an office in `from` would be judged at
 * `at` (default `now`), under the policy in force then (past or future): to a country `to`, or to the importer named — a
 * contractor is judged to its country and every processing location, as its grants are. With `via` (a
 * contractor), the route is onward: from that contractor's country, under the regime of `from`.
 */
export async function checkRoute(db: Queryable, args: unknown, now: Date): Promise<RouteCheck> {
  const a = parseInput(checkRouteSchema, args, 'args');
  if ((a.to == null) === (a.importer == null))
    throw ValidationError.field('args.to', 'give exactly one of a country `to` or an `importer`');
  if (a.importer && (a.importerRole != null || a.certifications != null))
    throw ValidationError.field(
      a.importerRole != null ? 'args.importerRole' : 'args.certifications',
      'only with `to`: a registered importer has its own',
    );
  // Onward: the data leaves the office in `from` for the contractor `via`, which passes it on to the importer.
  const via = a.via != null ? await findContractor(db, a.via) : undefined;
  const base = {
    exporterCountry: via ? via.country : a.from,
    ...(via ? { originCountry: a.from } : {}),
    exporterRole: via && via.role !== 'INDEPENDENT_CONTROLLER' ? ('PROCESSOR' as const) : ('CONTROLLER' as const),
    context: a.context ?? 'GRANT',
    at: a.at ?? now,
  };
  let route: Omit<Route, 'importerCountry'>;
  let destinations: string[];
  if (!a.importer) {
    const role = a.importerRole ?? (via ? 'SUBPROCESSOR' : 'PROCESSOR');
    route = { ...base, importer: { kind: 'CONTRACTOR', role, certifications: a.certifications ?? [] } };
    destinations = [a.to!];
  } else if ('contractorId' in a.importer) {
    const c = await findContractor(db, a.importer.contractorId);
    if (via && c.parentContractorId !== via.id)
      throw ValidationError.field('args.via', `the importer is not a sub-processor engaged by ${via.legalName}`);
    route = { ...base, importer: { kind: 'CONTRACTOR', role: c.role, certifications: c.certifications } };
    destinations = [c.country, ...(await locationCountries(db, [c.id])).get(c.id)!];
  } else if (via) {
    throw ValidationError.field('args.via', 'an onward route goes to a contractor, not to an office');
  } else {
    const office = await findOffice(db, a.importer.officeId);
    route = { ...base, importer: { kind: 'OFFICE' } };
    destinations = [office.country];
  }
  // The rows in force at the instant asked about, for these routes only.
  const tables = await loadPolicyTables(
    db,
    base.at,
    destinations.map((importer) => ({ exporter: a.from, importer })),
  );
  const decision = {
    ...decideDestinations(tables, route, destinations, {
      mechanism: a.mechanism,
      sccModule: a.sccModule,
      derogationJustification: a.derogationJustification,
    }),
    validMechanisms: validMechanisms(tables, route, destinations),
  };
  if (!decision.allowed || decision.basis !== 'DEROGATION') return decision;
  // Occasional only: the limit in force then, on the hop a recorded transfer would count on (assertOccasional).
  const limits = await loadDerogationLimits(db, base.at);
  const limit = derogationLimitFor(limits, decision.mechanism, base.exporterCountry, decision.importerCountry);
  return { ...decision, occasionalLimit: limit ?? null };
}
