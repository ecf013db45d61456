// Rows the migrations put in the policy and taxonomy tables (regimes, adequacy decisions, restrictions, derogation
// limits, categories, purposes: the tables marked `seeded` in src/audit/rows.ts) were written by no change of the
// registry, so no audit event vouched for them. The first instance to start after a migration writes one event,
// `attestSeededRows`, carrying the hash of every seeded row no event names yet; from then on verification holds those
// rows to it like any other. Once per migration, whatever the number of instances: the event is keyed by the
// migration's name and written under a transaction-level advisory lock, so an instance that starts at the same time
// waits, then finds the event and writes nothing.
//
// A migration may also reshape rows an event already vouched for (a column added, one dropped): their hash then
// differs from the event's, and verification would call them altered. The same event re-attests such a row only
// when the change is proven to be the migration's: the row as it was before, rebuilt from the row now and the event
// that vouched for it (`RESHAPED`), hashes exactly to what that event carries. A row edited besides does not, and
// stays "altered", named with its event.
import { inArray, sql } from 'drizzle-orm';
import { seededRowsToAttest, type AlteredSeededRow } from '../audit/rows.js';
import { rowHash } from '../audit/row-check.js';
import { auditEvents } from '../db/tables.js';
import type { StaffPrincipal } from '../auth/principal.js';
import type { Queryable } from '../db/client.js';
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

type Canonical = Record<string, unknown>;

/**
 * Per table, the migrations that reshaped its rows: the canonical row as it was before them, rebuilt from the row
 * now and the `after` of the event that vouched for it; undefined when the row cannot have come from that shape.
 */
const RESHAPED: Record<string, (row: Canonical, after: unknown) => Canonical | undefined> = {
  // 20261130060313_derogation_limit_versions: a limit set by staff became a version valid from its updated_at, open
  // (no valid_until, no policy change); updated_by and updated_at were dropped. The event of setDerogationLimit
  // holds the row as it wrote it, updatedBy included.
  derogation_limits: (row, after) => {
    const a = after as { id?: unknown; updatedBy?: unknown } | null;
    if (row.valid_until !== null || row.change_id !== null || typeof a?.updatedBy !== 'string') return undefined;
    if (String(a.id) !== row.id) return undefined;
    const { valid_from, valid_until: _u, change_id: _c, ...kept } = row;
    return { ...kept, updated_by: a.updatedBy, updated_at: valid_from };
  },
};

/** Of the altered rows, those a migration reshaped and nothing else changed (see above). */
async function reshapedByMigrations(db: Queryable, altered: readonly AlteredSeededRow[]): Promise<AlteredSeededRow[]> {
  const candidates = altered.filter((a) => RESHAPED[a.table.name]);
  if (!candidates.length) return [];
  const events = await db
    .select({ seq: auditEvents.seq, after: auditEvents.after })
    .from(auditEvents)
    .where(inArray(auditEvents.seq, [...new Set(candidates.map((a) => a.seq))]));
  const afterOf = new Map(events.map((e) => [Number(e.seq), e.after]));
  return candidates.filter((a) => {
    const before = RESHAPED[a.table.name]!(a.row, afterOf.get(a.seq));
    return before !== undefined && rowHash(a.table.name, before) === a.hash;
  });
}

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
    const { unattested, altered } = await seededRowsToAttest(w.tx);
    for (const { table, rows } of unattested) w.wrote(table.table, rows);
    const counts = Object.fromEntries(unattested.map(({ table, rows }) => [table.name, rows.length]));
    const reshaped = await reshapedByMigrations(w.tx, altered);
    const reshapedCounts: Record<string, number> = {};
    for (const r of reshaped) {
      w.wrote(r.table.table, [r.row]);
      reshapedCounts[r.table.name] = (reshapedCounts[r.table.name] ?? 0) + 1;
    }
    const total = unattested.reduce((n, { rows }) => n + rows.length, 0) + reshaped.length;
    return {
      result: total,
      audit: {
        action: 'attestSeededRows',
        entityType: SEEDED_ROWS_ENTITY,
        entityId: migration,
        after: { migration, rows: counts, ...(reshaped.length ? { reshaped: reshapedCounts } : {}) },
      },
    };
  });
}
