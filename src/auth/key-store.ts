// Where signing keys live. On PostgreSQL every instance shares the `signing_keys` table. The embedded
// database admits one process only, so there the keys live in a file beside it: the token CLI can then
// sign while the server holds the database open.
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import { signingKeys } from '../db/tables.js';

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
  /** Retires the active key and adds `key` as the new active one, atomically. */
  rotate(key: StoredKey, retiredAt: string): Promise<void>;
  remove(kids: string[]): Promise<void>;
}

export function databaseKeyStore(db: Db): KeyStore {
  const toStored = (r: typeof signingKeys.$inferSelect): StoredKey => ({
    kid: r.kid, publicJwk: r.publicJwk as Record<string, unknown>, encryptedPrivateJwk: r.encryptedPrivateJwk,
    createdAt: r.createdAt.toISOString(), retiredAt: r.retiredAt?.toISOString() ?? null,
  });
  const row = (k: StoredKey) => ({ kid: k.kid, publicJwk: k.publicJwk, encryptedPrivateJwk: k.encryptedPrivateJwk, createdAt: new Date(k.createdAt) });
  return {
    async list() { return (await db.select().from(signingKeys).orderBy(signingKeys.createdAt)).map(toStored); },
    async addIfNoActive(key) {
      return db.transaction(async (tx) => {
        // Serialise first starts of several instances: only one of them creates the first key.
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('signing_keys'))`);
        const active = await tx.select({ kid: signingKeys.kid }).from(signingKeys).where(isNull(signingKeys.retiredAt)).limit(1);
        if (active.length) return false;
        await tx.insert(signingKeys).values(row(key));
        return true;
      });
    },
    async rotate(key, retiredAt) {
      await db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtext('signing_keys'))`);
        await tx.update(signingKeys).set({ retiredAt: new Date(retiredAt) }).where(isNull(signingKeys.retiredAt));
        await tx.insert(signingKeys).values(row(key));
      });
    },
    async remove(kids) {
      for (const kid of kids) await db.delete(signingKeys).where(and(eq(signingKeys.kid, kid)));
    },
  };
}

export function fileKeyStore(dataDir: string): KeyStore {
  const path = join(dataDir, 'signing-keys.json');
  const read = (): StoredKey[] => {
    try { return JSON.parse(readFileSync(path, 'utf8')) as StoredKey[]; } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
  };
  const write = (keys: StoredKey[]) => {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(keys, null, 2), { mode: 0o600 });
    renameSync(tmp, path);
  };
  return {
    async list() { return read(); },
    async addIfNoActive(key) {
      if (read().some((k) => !k.retiredAt)) return false;
      mkdirSync(dataDir, { recursive: true });
      // link() fails if the file exists, so two processes starting at once cannot both create a first key.
      const tmp = `${path}.${process.pid}.new`;
      writeFileSync(tmp, JSON.stringify([key], null, 2), { mode: 0o600 });
      try { linkSync(tmp, path); return true; } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw e;
      } finally { unlinkSync(tmp); }
    },
    async rotate(key, retiredAt) {
      write([...read().map((k) => (k.retiredAt ? k : { ...k, retiredAt })), key]);
    },
    async remove(kids) { write(read().filter((k) => !kids.includes(k.kid))); },
  };
}
