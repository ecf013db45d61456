// The transfer policy as staff read it: its tables, and how a standing grant on a route would be judged.
import { z } from 'zod';
import { CERTIFICATIONS, CONTRACTOR_ROLES, MECHANISMS } from '../db/enums.js';
import type { Queryable } from '../db/client.js';
import { loadPolicyTables } from '../policy/load.js';
import { decideRoute, type Decision, type PolicyTables } from '../policy/transfer-rules.js';
import { country, parseInput } from './validation.js';

export const transferPolicy = (db: Queryable): Promise<PolicyTables> => loadPolicyTables(db);

const checkRouteSchema = z
  .object({
    from: country,
    to: country,
    importerRole: z.enum(CONTRACTOR_ROLES).nullish(),
    certifications: z.array(z.enum(CERTIFICATIONS)).nullish(),
    mechanism: z.enum(MECHANISMS).nullish(),
    sccModule: z.number().int().nullish(),
  })
  .strict();

/** How a standing grant from an office in `from` to a contractor in `to` would be judged at `at`. */
export function checkRoute(tables: PolicyTables, args: unknown, at: Date): Decision {
  const a = parseInput(checkRouteSchema, args, 'args');
  return decideRoute(
    tables,
    {
      exporterCountry: a.from,
      importerCountry: a.to,
      exporterRole: 'CONTROLLER',
      context: 'GRANT',
      at,
      importer: { kind: 'CONTRACTOR', role: a.importerRole ?? 'PROCESSOR', certifications: a.certifications ?? [] },
    },
    { mechanism: a.mechanism, sccModule: a.sccModule },
  );
}
