// When a contractor token was last used: informative bookkeeping beside verification, written off the request path.
import { eq } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { accessTokens } from '../db/tables.js';
import type { Principal } from './principal.js';

/** Writes `last_used_at` at most once a minute per token, off the request path. */
export function lastUseRecorder(database: Database, everyMs = 60_000) {
  const written = new Map<string, number>();
  const pending = new Set<Promise<unknown>>();
  return {
    record(principal: Principal) {
      if (principal.kind !== 'contractor') return;
      const now = Date.now();
      if (now - (written.get(principal.tokenId) ?? 0) < everyMs) return;
      written.set(principal.tokenId, now);
      if (written.size > 50_000) written.clear();
      const p = database.db
        .update(accessTokens)
        .set({ lastUsedAt: new Date(now) })
        .where(eq(accessTokens.jti, principal.tokenId))
        .catch(() => {
          /* best effort: last use is informative, never a reason to fail a request */
        })
        .finally(() => pending.delete(p));
      pending.add(p);
    },
    async flush() {
      await Promise.all(pending);
    },
  };
}
