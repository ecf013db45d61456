// Contractor access tokens, as far as other aggregates end them: revoking the live tokens a change invalidates.
import type { SQL } from 'drizzle-orm';
import { revokeTokensWhere } from '../auth/revocation.js';
import type { Write } from './tx.js';

/**
 * Revokes the live tokens matching `where` in the change's transaction (every other instance learns it from the
 * NOTIFY sent there, at commit) and, once committed, marks them revoked in this process at once.
 */
export async function revokeTokens(w: Write, where: SQL | undefined, reason: string): Promise<number> {
  const revoked = await revokeTokensWhere(w.tx, where, w.principal.subject, reason);
  if (revoked.length) w.afterCommit(() => w.deps.revocations.add(revoked));
  return revoked.length;
}
