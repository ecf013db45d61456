// Where signing keys live: in the database (`signing_keys`), on PostgreSQL and on the embedded database alike, so a
// rotation commits the new key together with its audit event, and every instance on PostgreSQL shares them.
// The embedded database admits one process only, so there the server also writes a copy of the key set to a file
// beside it (`signing-keys.json`, private halves encrypted as in the table): the token CLI reads that copy and can
// sign while the server holds the database open.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inArray, isNull, sql } from 'drizzle-orm';
import type { Db, Queryable } from '../db/client.js';
import { signingKeys } from '../db/tables.js';

/** NOTIFY channel telling every instance to reload the signing keys after a rotation. */
export const KEYS_CHANNEL = 'registry_signing_keys';

export interface StoredKey {
  kid: string;
  publicJwk: Record<string, unknown>;
  encryptedPrivateJwk: string;
  createdAt: string;
  retiredAt: string | null;
}

export interface KeyStore {
  list(): Promise<StoredKey[]>;
  /** Adds `key` as the active key only if there is no active key yet; returns whether it was added. */
  addIfNoActive(key: StoredKey): Promise<boolean>;
}

const toStored = (r: typeof signingKeys.$inferSelect): StoredKey => ({
  kid: r.kid,
  publicJwk: r.publicJwk as Record<string, unknown>,
  encryptedPrivateJwk: r.encryptedPrivateJwk,
  createdAt: r.createdAt.toISOString(),
  retiredAt: r.retiredAt?.toISOString() ?? null,
});
const toRow = (k: StoredKey) => ({
  kid: k.kid,
  publicJwk: k.publicJwk,
  encryptedPrivateJwk: k.encryptedPrivateJwk,
  createdAt: new Date(k.createdAt),
  retiredAt: k.retiredAt ? new Date(k.retiredAt) : null,
});

/** Serialises first starts and rotations: one writer of the key set at a time, until its transaction ends. */
const lockKeySet = (tx: Queryable) => tx.execute(sql`select pg_advisory_xact_lock(hashtext('signing_keys'))`);

/** In the caller's transaction: the key set, locked against another rotation until the transaction ends. */
export async function lockedSigningKeys(tx: Queryable): Promise<StoredKey[]> {
  await lockKeySet(tx);
  return (await tx.select().from(signingKeys).orderBy(signingKeys.createdAt)).map(toStored);
}

/** In the caller's transaction (after lockedSigningKeys): retires the active key, adds `next` as active, removes `remove`. */
export async function replaceActiveKey(
  tx: Queryable,
  next: StoredKey,
  retiredAt: Date,
  remove: readonly string[],
): Promise<void> {
  await tx.update(signingKeys).set({ retiredAt }).where(isNull(signingKeys.retiredAt));
  await tx.insert(signingKeys).values(toRow(next));
  if (remove.length) await tx.delete(signingKeys).where(inArray(signingKeys.kid, [...remove]));
}

export function databaseKeyStore(db: Db): KeyStore & { adopt(keys: StoredKey[]): Promise<void> } {
  return {
    async list() {
      return (await db.select().from(signingKeys).orderBy(signingKeys.createdAt)).map(toStored);
    },
    async addIfNoActive(key) {
      return db.transaction(async (tx) => {
        const keys = await lockedSigningKeys(tx);
        if (keys.some((k) => !k.retiredAt)) return false;
        await tx.insert(signingKeys).values(toRow(key));
        return true;
      });
    },
    /** Takes over keys kept elsewhere before (the file of an older embedded release), if the table holds none yet. */
    async adopt(keys) {
      if (!keys.length) return;
      await db.transaction(async (tx) => {
        if ((await lockedSigningKeys(tx)).length) return;
        await tx.insert(signingKeys).values(keys.map(toRow));
      });
    },
  };
}

/** The embedded database's key file: read by the token CLI; written by the server after every load of the key set. */
export function fileKeyStore(dataDir: string): KeyStore & { replace(keys: StoredKey[]): void } {
  const path = join(dataDir, 'signing-keys.json');
  const read = (): StoredKey[] => {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as StoredKey[];
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  };
  return {
    async list() {
      return read();
    },
    async addIfNoActive(key) {
      if (read().some((k) => !k.retiredAt)) return false;
      mkdirSync(dataDir, { recursive: true });
      // link() fails if the file exists, so two processes starting at once cannot both create a first key.
      const tmp = `${path}.${process.pid}.new`;
      writeFileSync(tmp, JSON.stringify([key], null, 2), { mode: 0o600 });
      try {
        linkSync(tmp, path);
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      } finally {
        unlinkSync(tmp);
      }
    },
    replace(keys) {
      mkdirSync(dataDir, { recursive: true });
      const tmp = `${path}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
      renameSync(tmp, path);
    },
  };
}

/** A store whose every load is also copied to `copy` (the embedded server's key file for the token CLI). */
export function copiedTo(store: KeyStore, copy: { replace(keys: StoredKey[]): void }): KeyStore {
  return {
    async list() {
      const keys = await store.list();
      copy.replace(keys);
      return keys;
    },
    addIfNoActive: (key) => store.addIfNoActive(key),
  };
}
