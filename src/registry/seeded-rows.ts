// Rows the migrations put in the policy and taxonomy tables (regimes, adequacy decisions, restrictions, derogation
// limits, categories, purposes: the tables marked `seeded` in src/audit/rows.ts) were written by no change of the
// registry, so no audit event vouched for them. The first instance to start after a migration writes one event,
// `attestSeededRows`, carrying the hash of every seeded row no event names yet; from then on verification holds those
// rows to it like any other. Once per migration, whatever the number of instances: the event is keyed by the
// migration's name and written under a transaction-level advisory lock, so an instance that starts at the same time
// waits, then finds the event and writes nothing.
import { sql } from 'drizzle-orm';
import { unattestedSeededRows } from '../audit/rows.js';
import type { StaffPrincipal } from '../auth/principal.js';
import { rowsOf } from '../db/rows.js';
import { write, type RegistryDeps } from './tx.js';

/** The registry itself, as the actor of the attestation: what the migrations wrote, it vouches for at start. */
const MIGRATIONS: StaffPrincipal = {
  kind: 'staff',
  role: 'COMPLIANCE',
  subject: 'registry:migrations',
  tokenId: 'migrations',
  scopes: [],
  expiresAt: new Date(8.64e15),
};

export const SEEDED_ROWS_ENTITY = 'SeededRows';

/**
 * Attests the seeded rows no event names, once per `migration` (the newest one applied). Returns how many rows the
 * event attests, or null when the migration's rows were attested already.
 */
export function attestSeededRows(deps: RegistryDeps, migration: string): Promise<number | null> {
  return write(deps, MIGRATIONS, async (w) => {
    await w.tx.execute(sql`select pg_advisory_xact_lock(hashtext('attest_seeded_rows'))`);
    const done = rowsOf(
      await w.tx.execute(sql`select 1 from audit_events
        where entity_type = ${SEEDED_ROWS_ENTITY} and entity_id = ${migration} limit 1`),
    );
    if (done.length) return { result: null, audit: [] };
    const found = await unattestedSeededRows(w.tx);
    for (const { table, rows } of found) w.wrote(table.table, rows);
    const counts = Object.fromEntries(found.map(({ table, rows }) => [table.name, rows.length]));
    const total = found.reduce((n, { rows }) => n + rows.length, 0);
    return {
      result: total,
      audit: {
        action: 'attestSeededRows',
        entityType: SEEDED_ROWS_ENTITY,
        entityId: migration,
        after: { migration, rows: counts },
      },
    };
  });
}
