// The one write path of the registry. A change runs in one transaction with the audit event(s) it returns, so a
// failed change leaves no event and no committed change is without one. Work that must happen only once the
// change is durable (marking revoked tokens in this process, reloading the signing keys) is queued with
// `afterCommit` and runs after the commit, never for a change that rolled back. The rows a change writes that
// matter as evidence are named with `wrote`: write() reads them back as stored and puts their content hashes in
// the change's first audit event, so verification can tell a row altered or deleted behind the registry's back.
import { sql } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { evidenceTable, hashWrittenRows, keyOfWritten, type EvidenceTable } from '../audit/rows.js';
import { appendAuditEvents, type AuditEntry } from '../audit/write.js';
import type { KeyRing } from '../auth/keys.js';
import type { Principal } from '../auth/principal.js';
import type { Revocations } from '../auth/revocation.js';
import type { TokenSettings } from '../auth/tokens.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config.js';
import type { Db, Tx } from '../db/client.js';

/** What the domain functions run on: the database, the clock, and the process-wide token machinery. */
export interface RegistryDeps {
  db: Db;
  clock: Clock;
  config: Config;
  keys: KeyRing;
  tokenSettings: TokenSettings;
  revocations: Revocations;
}

/** Handed to a change: its transaction, who makes it, its moment, and the queue of work after commit. */
export interface Write {
  tx: Tx;
  principal: Principal;
  /** The moment of this change, read once from the clock: every rule it checks and every row it stamps uses it. */
  now: Date;
  deps: RegistryDeps;
  afterCommit(work: () => void | Promise<void>): void;
  /**
   * Names rows of an evidence table (src/audit/rows.ts) this change inserted, updated or deleted — any objects
   * holding their primary key, e.g. what `returning()` gave. Verification reports any evidence row no event names.
   */
  wrote(table: PgTable, rows: readonly object[]): void;
}

export interface Change<T> {
  result: T;
  audit: AuditEntry | AuditEntry[];
}

export async function write<T>(
  deps: RegistryDeps,
  principal: Principal,
  change: (w: Write) => Promise<Change<T>>,
): Promise<T> {
  const queued: (() => void | Promise<void>)[] = [];
  const now = deps.clock.now();
  const result = await deps.db.transaction(async (tx) => {
    // The history triggers (src/db/history.ts) stamp each version with this change's instant, not the database's.
    await tx.execute(sql`select set_config('registry.now', ${now.toISOString()}, true)`);
    const written = new Map<EvidenceTable, Set<string>>();
    const wrote = (table: PgTable, rows: readonly object[]) => {
      const t = evidenceTable(table);
      const keys = written.get(t) ?? written.set(t, new Set()).get(t)!;
      for (const row of rows) keys.add(keyOfWritten(t, row as Record<string, unknown>));
    };
    const done = await change({ tx, principal, now, deps, afterCommit: (work) => void queued.push(work), wrote });
    const [first, ...rest] = Array.isArray(done.audit) ? done.audit : [done.audit];
    // Read back after the whole change, so a row written twice is hashed as it will be committed.
    const rowHashes = await hashWrittenRows(tx, written);
    if (!first && rowHashes.length) throw new Error('a change wrote evidence rows but no audit event');
    await appendAuditEvents(tx, principal, first ? [{ ...first, rowHashes }, ...rest] : [], now);
    return done.result;
  });
  // In order, each awaited. The change is committed: a failure here is reported, but nothing is undone.
  for (const work of queued) await work();
  return result;
}
