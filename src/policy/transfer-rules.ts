// The transfer policy as pure functions over the seeded policy tables (which the caller loads).
// Given a route and the mechanism a user names, it decides whether the route is allowed and says why.
// It imports nothing but types, so the table of route cases in test/policy.test.ts exercises it directly.
import type { Certification, ContractorRole, Mechanism } from '../db/enums.js';

export interface PolicyTables {
  /** Jurisdiction code per member country, e.g. DE → EU_EEA, GB → UK. */
  membership: ReadonlyMap<string, string>;
  jurisdictionNames: ReadonlyMap<string, string>;
  adequacy: ReadonlyArray<{
    jurisdiction: string;
    country: string;
    instrument: string;
    adoptedOn: string;
    scopeCondition: string | null;
    requiresCertification: Certification | null;
    /** A version recording the decision as suspended (from `validFrom`): no adequacy while it is in force. */
    suspended?: boolean;
    /** The version's valid-time period, as loaded (absent in hand-made tables). */
    validFrom?: Date;
    validUntil?: Date | null;
  }>;
  restrictions: ReadonlyArray<{
    exporterCountry: string;
    importerCountry: string | null;
    legalBasis: string;
    reason: string;
    id?: number;
    validFrom?: Date;
    validUntil?: Date | null;
  }>;
}

export type Importer =
  | { kind: 'CONTRACTOR'; role: ContractorRole; certifications: readonly Certification[] }
  | { kind: 'OFFICE' }
  | { kind: 'AUTHORITY' };

/** A standing grant, or one recorded occasional transfer (the only context Art. 49 derogations are for). */
export const ROUTE_CONTEXTS = ['GRANT', 'TRANSFER'] as const;

export interface Route {
  exporterCountry: string;
  importerCountry: string;
  /**
   * An onward route (a processor passing data to its sub-processor): the country of the office whose data it is.
   * GDPR Art. 44: the data stays under that office's regime along the chain, so the hop `exporterCountry` →
   * `importerCountry` is judged under it. Absent: the exporter is the office itself.
   */
  originCountry?: string;
  /** The office exporting is a controller; a contractor passing data on to its sub-processor is a processor. */
  exporterRole: 'CONTROLLER' | 'PROCESSOR';
  importer: Importer;
  /** Standing grants may not rely on Art. 49 derogations; one recorded transfer may. */
  context: (typeof ROUTE_CONTEXTS)[number];
  at: Date;
}

export interface MechanismChoice {
  mechanism?: Mechanism | null;
  sccModule?: number | null;
  derogationJustification?: string | null;
}

type Basis = 'SAME_COUNTRY' | 'SAME_JURISDICTION' | 'ADEQUACY' | 'NO_TRANSFER_REGIME' | 'SAFEGUARD' | 'DEROGATION';

/** Whether the route crosses a border, and whether it leaves the exporter's jurisdiction (a "third country"). */
interface Reach {
  crossBorder: boolean;
  thirdCountry: boolean;
}

export type Decision =
  | (Reach & { allowed: true; mechanism: Mechanism; sccModule: number | null; basis: Basis; explanation: string })
  | (Reach & { allowed: false; reason: string });

/**
 * Data sent from `from` to `to` leaves the exporter's jurisdiction — not merely its country: `to` is outside the
 * regime `from` belongs to (DE → FR stays in the EU/EEA, DE → GB leaves it), or, with no regime recorded for
 * `from`, is any other country. Transfers record it as `thirdCountry`; the records of processing list such routes;
 * an authority there is foreign (Art. 48). leavesJurisdictionSql in load.ts says the same in SQL.
 */
export function leavesJurisdiction(tables: Pick<PolicyTables, 'membership'>, from: string, to: string): boolean {
  if (from === to) return false;
  const regime = tables.membership.get(from);
  return !regime || tables.membership.get(to) !== regime;
}

/** The seeded jurisdiction whose exporters fall under UK GDPR. */
const UK_JURISDICTION = 'UK';

const SCC_MODULE_NAMES: Record<number, string> = {
  1: 'module 1 (controller to controller)',
  2: 'module 2 (controller to processor)',
  3: 'module 3 (processor to processor)',
  4: 'module 4 (processor to controller)',
};

/** Decision 2021/914: the module follows from the parties' roles. */
function requiredSccModule(exporterRole: Route['exporterRole'], importer: Importer): number {
  const importerIsProcessor = importer.kind === 'CONTRACTOR' && importer.role !== 'INDEPENDENT_CONTROLLER';
  if (exporterRole === 'CONTROLLER') return importerIsProcessor ? 2 : 1;
  return importerIsProcessor ? 3 : 4;
}

export function decideRoute(tables: PolicyTables, route: Route, choice: MechanismChoice = {}): Decision {
  const { exporterCountry: from, importerCountry: to } = route;
  const origin = route.originCountry ?? from;
  const onward = origin !== from;
  const crossBorder = from !== to;
  // Third country: outside the regime of the office whose data it is (for an onward hop, not of the processor).
  const thirdCountry = leavesJurisdiction(tables, origin, to);
  // An onward hop says which chain it is on: the explanation and the refusal both start with it.
  const hop = onward ? `onward ${from} → ${to} of data exported from ${origin}: ` : '';
  const refuse = (reason: string): Decision => ({ allowed: false, crossBorder, thirdCountry, reason: hop + reason });
  const allow = (
    mechanism: Mechanism,
    basis: Basis,
    explanation: string,
    sccModule: number | null = null,
  ): Decision => ({
    allowed: true,
    crossBorder,
    thirdCountry,
    mechanism,
    sccModule,
    basis,
    explanation: hop + explanation,
  });
  const chosen = choice.mechanism ?? null;

  // A localisation law binds the country the data leaves, and the data's origin along the whole chain.
  const restriction = tables.restrictions.find(
    (r) =>
      ((r.exporterCountry === from && crossBorder) || (r.exporterCountry === origin && origin !== to)) &&
      (r.importerCountry === null || r.importerCountry === to),
  );
  if (restriction) return refuse(`route forbidden by ${restriction.legalBasis}: ${restriction.reason}`);

  const regime = tables.membership.get(origin);
  const regimeName = regime ? (tables.jurisdictionNames.get(regime) ?? regime) : undefined;
  // The UK's own safeguards (IDTA, UK Addendum) serve UK exporters only, and UK exporters need one of them.
  const ukExporter = regime === UK_JURISDICTION;
  const notUkExporter = (mechanism: Mechanism) =>
    `${mechanism} is a UK GDPR safeguard and covers only exporters in ${tables.jurisdictionNames.get(UK_JURISDICTION) ?? UK_JURISDICTION}, not one in ${regimeName} (${validMechanismsText(route, false)})`;
  /** SCC or the UK Addendum that amends them: the module is given and follows from the parties' roles. */
  const sccSafeguard = (mechanism: 'SCC' | 'UK_ADDENDUM', safeguard: string): Decision => {
    const module = requiredSccModule(route.exporterRole, route.importer);
    if (route.importer.kind === 'AUTHORITY')
      return refuse('standard contractual clauses cannot bind a public authority');
    if (choice.sccModule == null)
      return refuse(`${mechanism} needs a module: this route needs ${SCC_MODULE_NAMES[module]}`);
    if (choice.sccModule !== module) {
      return refuse(
        `${mechanism} ${SCC_MODULE_NAMES[choice.sccModule] ?? `module ${choice.sccModule}`} does not match the parties' roles: ${SCC_MODULE_NAMES[module]} is required`,
      );
    }
    return allow(
      mechanism,
      'SAFEGUARD',
      `${adequacyGap}; safeguarded by ${safeguard} ${SCC_MODULE_NAMES[module]}`,
      module,
    );
  };
  const onlyNoMechanism = (basis: Basis, explanation: string) => {
    if (chosen && chosen !== 'NOT_REQUIRED')
      return refuse(`${explanation}; no transfer mechanism applies, so ${chosen} must not be recorded`);
    return allow('NOT_REQUIRED', basis, explanation);
  };

  // An onward hop inside one third country still carries the data outside its regime: judged below (SCC clause 8.7).
  if (!crossBorder && !thirdCountry) return onlyNoMechanism('SAME_COUNTRY', `${from} → ${to} stays in one country`);
  if (!regime)
    return onlyNoMechanism(
      'NO_TRANSFER_REGIME',
      `no cross-border transfer regime is recorded for exporter country ${origin}`,
    );
  if (!thirdCountry)
    return onlyNoMechanism(
      'SAME_JURISDICTION',
      onward ? `${to} is in ${regimeName}, the regime of ${origin}` : `${from} and ${to} are both in ${regimeName}`,
    );

  // Adequacy: the destination is adequate for this exporter's regime, from the decision's date, within its scope.
  const decision = tables.adequacy.find((a) => a.jurisdiction === regime && a.country === to);
  let adequacyGap = `${to} has no adequacy decision under ${regimeName}`;
  if (decision) {
    const certified =
      !decision.requiresCertification ||
      (route.importer.kind === 'CONTRACTOR' && route.importer.certifications.includes(decision.requiresCertification));
    if (decision.suspended)
      adequacyGap = `the adequacy decision for ${to} (${decision.instrument}) is suspended${decision.validFrom ? ` from ${decision.validFrom.toISOString()}` : ''}`;
    else if (new Date(`${decision.adoptedOn}T00:00:00Z`) > route.at)
      adequacyGap = `the adequacy decision for ${to} (${decision.instrument}) applies only from ${decision.adoptedOn}`;
    else if (!certified)
      adequacyGap = `the adequacy decision for ${to} (${decision.instrument}) covers only importers certified under ${decision.requiresCertification}, and this importer is not`;
    else {
      const explanation = `${to} is adequate under ${regimeName}: ${decision.instrument} of ${decision.adoptedOn}${decision.scopeCondition ? ` (${decision.scopeCondition})` : ''}`;
      if (!chosen || chosen === 'ADEQUACY') return allow('ADEQUACY', 'ADEQUACY', explanation);
      // A safeguard on top of adequacy is allowed (belt and braces); judged below like any other.
    }
  }

  if (!chosen)
    return refuse(`${adequacyGap}; a transfer mechanism is required (${validMechanismsText(route, ukExporter)})`);
  switch (chosen) {
    case 'NOT_REQUIRED':
      return refuse(
        `${onward ? `${to} is outside` : `${from} → ${to} leaves`} ${regimeName}, so a mechanism is required (${validMechanismsText(route, ukExporter)})`,
      );
    case 'ADEQUACY':
      return refuse(`${adequacyGap}, so ADEQUACY cannot be relied on (${validMechanismsText(route, ukExporter)})`);
    case 'SCC':
      // UK GDPR Art. 46 recognises the EU clauses only as amended by the UK Addendum (or the IDTA instead).
      if (ukExporter)
        return refuse(
          `under UK GDPR the EU SCCs alone do not safeguard a transfer from ${origin}: use the IDTA or the UK Addendum to the EU SCCs (${validMechanismsText(route, true)})`,
        );
      return sccSafeguard('SCC', 'standard contractual clauses (Decision 2021/914)');
    case 'UK_ADDENDUM':
      if (!ukExporter) return refuse(notUkExporter('UK_ADDENDUM'));
      return sccSafeguard(
        'UK_ADDENDUM',
        "the UK Addendum to the EU standard contractual clauses (UK GDPR Art. 46), amending the EU SCCs'",
      );
    case 'IDTA':
      if (!ukExporter) return refuse(notUkExporter('IDTA'));
      if (route.importer.kind === 'AUTHORITY') return refuse('the IDTA cannot bind a public authority');
      return allow('IDTA', 'SAFEGUARD', `${adequacyGap}; safeguarded by the UK International Data Transfer Agreement`);
    case 'BCR':
    case 'INTRA_GROUP_AGREEMENT':
      if (route.importer.kind !== 'OFFICE')
        return refuse(`${chosen} covers transfers inside the group only, and the importer is not one of its offices`);
      return allow(
        chosen,
        'SAFEGUARD',
        `${adequacyGap}; intra-group transfer safeguarded by ${chosen === 'BCR' ? 'binding corporate rules (Art. 47)' : 'the intra-group agreement'}`,
      );
    default: {
      // Art. 49 derogations: occasional transfers only, each with its written justification.
      if (route.context === 'GRANT')
        return refuse(
          `${chosen} is an Art. 49 derogation, for occasional transfers only; a standing grant needs adequacy or an Art. 46 safeguard (${validMechanismsText(route, ukExporter)})`,
        );
      if (!choice.derogationJustification?.trim())
        return refuse(`${chosen} is an Art. 49 derogation and needs a written justification`);
      return allow(
        chosen,
        'DEROGATION',
        `${adequacyGap}; occasional transfer under the Art. 49 derogation ${chosen}: ${choice.derogationJustification.trim()}`,
      );
    }
  }
}

/**
 * GDPR Art. 48: is an authority in `authorityCountry` foreign to an office in `exporterCountry`, and why. Foreign
 * means outside the office's jurisdiction (or, with no regime recorded for the office, outside its country).
 * Null when it is not; a foreign authority's order alone is no basis for disclosure.
 */
export function foreignAuthority(
  tables: PolicyTables,
  exporterCountry: string,
  authorityCountry: string,
): string | null {
  if (!leavesJurisdiction(tables, exporterCountry, authorityCountry)) return null;
  const regime = tables.membership.get(exporterCountry);
  if (!regime) return `${authorityCountry} is a foreign authority for the exporting office (${exporterCountry})`;
  return `${authorityCountry} is outside ${tables.jurisdictionNames.get(regime) ?? regime}, the jurisdiction of the exporting office (${exporterCountry}): GDPR Art. 48 needs an international agreement such as an MLAT`;
}

/** A mechanism (and SCC module) a grant or a transfer could rest on. */
export interface MechanismOption {
  mechanism: Mechanism;
  sccModule: number | null;
}

/**
 * The Art. 46/47 safeguards that can serve this importer from an exporter of this regime, with the SCC module the
 * parties' roles require: what a refusal names as "valid here", and the safeguards validMechanisms tries.
 */
function safeguardsFor(route: Pick<Route, 'exporterRole' | 'importer'>, ukExporter: boolean): MechanismOption[] {
  const module = requiredSccModule(route.exporterRole, route.importer);
  if (route.importer.kind === 'CONTRACTOR')
    return ukExporter
      ? [
          { mechanism: 'IDTA', sccModule: null },
          { mechanism: 'UK_ADDENDUM', sccModule: module },
        ]
      : [{ mechanism: 'SCC', sccModule: module }];
  if (route.importer.kind === 'OFFICE')
    return [
      { mechanism: 'BCR', sccModule: null },
      { mechanism: 'INTRA_GROUP_AGREEMENT', sccModule: null },
    ];
  return [];
}

function validMechanismsText(route: Route, ukExporter: boolean): string {
  const options = safeguardsFor(route, ukExporter).map(({ mechanism, sccModule }) => {
    if (mechanism === 'SCC') return `SCC ${SCC_MODULE_NAMES[sccModule!]}`;
    if (mechanism === 'UK_ADDENDUM') return `UK_ADDENDUM with the EU SCC ${SCC_MODULE_NAMES[sccModule!]}`;
    return mechanism;
  });
  if (route.context === 'TRANSFER') options.push('an Art. 49 derogation with a written justification');
  return options.length ? `valid here: ${options.join(', ')}` : 'no mechanism is available for this importer';
}

/**
 * The mechanisms that would make this route allowed to every destination, each judged by decideDestinations as
 * the route itself is: none (NOT_REQUIRED) or ADEQUACY where either suffices, and the safeguards a refusal names as
 * valid here. Art. 49 derogations are not listed: they serve one occasional transfer only, each with its written
 * justification. Empty: nothing makes the route allowed (a forbidden route, a safeguard-less importer, or one
 * destination no safeguard of the others reaches).
 */
export function validMechanisms(
  tables: PolicyTables,
  route: Omit<Route, 'importerCountry'>,
  destinations: readonly string[],
): MechanismOption[] {
  const ukExporter = tables.membership.get(route.originCountry ?? route.exporterCountry) === UK_JURISDICTION;
  const candidates: MechanismOption[] = [
    { mechanism: 'NOT_REQUIRED', sccModule: null },
    { mechanism: 'ADEQUACY', sccModule: null },
    ...safeguardsFor(route, ukExporter),
  ];
  return candidates.filter((c) => decideDestinations(tables, route, destinations, c).allowed);
}

/** A decision over several destinations: when refused, `importerCountry` is the destination that fails. */
export type DestinationsDecision = Decision & { importerCountry: string };

/**
 * A contractor receives data in its own country and in every country where it collects, transfers, stores or
 * processes it: each is a destination of the route. One recorded mechanism must cover every destination that
 * needs one; a destination that needs none (same country or jurisdiction) does not refuse the mechanism the
 * others need. `destinations[0]` is the contractor's own country; the first that fails is the one named.
 */
export function decideDestinations(
  tables: PolicyTables,
  route: Omit<Route, 'importerCountry'>,
  destinations: readonly string[],
  choice: MechanismChoice = {},
): DestinationsDecision {
  const unique = [...new Set(destinations)];
  const judged = unique.map((importerCountry) => {
    const at = { ...route, importerCountry };
    const free = decideRoute(tables, at);
    // No mechanism needed here: only the destinations that need one are judged with the mechanism named.
    const needsMechanism = !(free.allowed && free.mechanism === 'NOT_REQUIRED');
    return { importerCountry, needsMechanism, decision: needsMechanism ? decideRoute(tables, at, choice) : free };
  });
  const failed = judged.find((j) => !j.decision.allowed);
  if (failed) return { ...failed.decision, importerCountry: failed.importerCountry };
  const needing = judged.filter((j) => j.needsMechanism);
  // Nowhere needs a mechanism: judged as a single route, so a mechanism named in vain is refused as before.
  const crossBorder = judged.some((j) => j.decision.crossBorder);
  const thirdCountry = judged.some((j) => j.decision.thirdCountry);
  if (!needing.length || unique.length === 1) {
    const importerCountry = unique[0]!;
    const only = decideRoute(tables, { ...route, importerCountry }, choice);
    return only.allowed ? { ...only, crossBorder, thirdCountry, importerCountry } : { ...only, importerCountry };
  }
  const first = needing[0]!.decision;
  if (!first.allowed) throw new Error('unreachable: refusals were returned above');
  return {
    ...first,
    importerCountry: unique[0]!,
    crossBorder,
    thirdCountry,
    explanation: judged
      .map((j) => `${j.importerCountry}: ${j.decision.allowed ? j.decision.explanation : ''}`)
      .join('; '),
  };
}

/**
 * How often one route may rely on an Art. 49 derogation ("occasional", EDPB Guidelines 2/2018): transfers and
 * records per rolling 12 months. A null derogation or country matches any; the most specific row applies.
 */
export interface DerogationLimit {
  derogation: Mechanism | null;
  exporterCountry: string | null;
  importerCountry: string | null;
  maxTransfers: number;
  maxRecords: number;
  /** The version's valid-time period, as loaded (absent in hand-made tables). */
  validFrom?: Date;
  validUntil?: Date | null;
}

/** The limit for `derogation` on `from` → `to`: the matching row naming the most (derogation first). */
export function derogationLimitFor(
  limits: readonly DerogationLimit[],
  derogation: Mechanism,
  from: string,
  to: string,
): DerogationLimit | undefined {
  const score = (l: DerogationLimit) =>
    (l.derogation ? 4 : 0) + (l.exporterCountry ? 2 : 0) + (l.importerCountry ? 1 : 0);
  return limits
    .filter(
      (l) =>
        (l.derogation === null || l.derogation === derogation) &&
        (l.exporterCountry === null || l.exporterCountry === from) &&
        (l.importerCountry === null || l.importerCountry === to),
    )
    .sort((a, b) => score(b) - score(a))[0];
}

/** Whether `use` (transfers and records in 12 months) goes beyond the derogation `limit`. */
export function beyondOccasional(limit: DerogationLimit, use: { transfers: number; records: number }): boolean {
  return use.transfers > limit.maxTransfers || use.records > limit.maxRecords;
}

/**
 * Is one more transfer under a derogation still occasional? `use` counts it with the others on the same route and
 * derogation, in the busiest 12 months that contain it. Null when within the limit; otherwise why not, and the
 * safeguard a repeated transfer needs instead.
 */
export function decideOccasional(
  tables: Pick<PolicyTables, 'membership'>,
  route: Route,
  derogation: Mechanism,
  limit: DerogationLimit | undefined,
  use: { transfers: number; records: number },
): string | null {
  if (!limit || !beyondOccasional(limit, use)) return null;
  const ukExporter = tables.membership.get(route.originCountry ?? route.exporterCountry) === UK_JURISDICTION;
  const safeguards = validMechanismsText({ ...route, context: 'GRANT' }, ukExporter);
  return `${derogation} is an Art. 49 derogation for occasional transfers only: with this one, ${route.exporterCountry} → ${route.importerCountry} would carry ${use.transfers} transfer(s) and ${use.records} record(s) under it within 12 months, beyond the limit of ${limit.maxTransfers} transfer(s) and ${limit.maxRecords} record(s); a repeated transfer needs a standing grant with a safeguard instead (${safeguards})`;
}
