// Rotating the service's signing key: the new key, the retirement of the old one, the removal of keys no live
// token can carry, and the audit event commit in one transaction, on PostgreSQL and the embedded database alike.
// Every instance reloads the key set on the NOTIFY sent in that transaction; this one also reloads after commit.
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { KEYS_CHANNEL, lockedSigningKeys, replaceActiveKey } from '../auth/key-store.js';
import type { Principal } from '../auth/principal.js';
import { accessTokens } from '../db/tables.js';
import { tokenLive, tokenTime } from './access-tokens.js';
import { write, type RegistryDeps } from './tx.js';
import { parseInput, text } from './validation.js';

const rotateSigningKeySchema = z.object({ reason: text(1000) }).strict();

export interface Rotation {
  kid: string;
  publishedKids: string[];
  removedKids: string[];
}

/**
 * New tokens are signed with a fresh key at once. A retired key stays published while a live token may carry its
 * kid: a stored contractor token not expired nor revoked, or a staff token (not stored) of at most the configured
 * lifetime signed before the key retired.
 */
export async function rotateSigningKey(deps: RegistryDeps, principal: Principal, input: unknown): Promise<Rotation> {
  const { reason } = parseInput(rotateSigningKeySchema, input);
  const next = await deps.keys.generate();
  return write(deps, principal, async ({ tx, afterCommit }) => {
    // Real time, not the registry's clock: token lifetimes are checked against real time when tokens are verified.
    const now = tokenTime();
    const before = await lockedSigningKeys(tx);
    const live = new Set(
      (await tx.selectDistinct({ kid: accessTokens.kid }).from(accessTokens).where(tokenLive(now))).map((r) => r.kid),
    );
    const staffHorizon = now.getTime() - deps.config.staffTokenTtlSeconds * 1000;
    const removedKids = before
      .filter((k) => k.retiredAt && !live.has(k.kid) && Date.parse(k.retiredAt) < staffHorizon)
      .map((k) => k.kid);
    await replaceActiveKey(tx, { ...next, createdAt: now.toISOString() }, now, removedKids);
    await tx.execute(sql`select pg_notify(${KEYS_CHANNEL}, ${next.kid})`);
    afterCommit(() => deps.keys.reload());
    const publishedKids = [...before.map((k) => k.kid).filter((kid) => !removedKids.includes(kid)), next.kid];
    return {
      result: { kid: next.kid, publishedKids, removedKids },
      audit: {
        action: 'rotateSigningKey',
        entityType: 'SigningKey',
        entityId: next.kid,
        before: { kids: before.map((k) => k.kid) },
        after: { kids: publishedKids, reason },
      },
    };
  });
}
