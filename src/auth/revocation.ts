// Revocation that holds on every instance: access_tokens is the truth; each instance keeps the set of
// revoked, unexpired jtis in memory, filled at start and kept current by PostgreSQL NOTIFY (sent in the
// revoking transaction, so it arrives exactly when the revocation commits). After a reconnect the set is
// reloaded whole, so nothing missed while the connection was down is lost.
import { and, gt, isNotNull } from 'drizzle-orm';
import type { Database } from '../db/client.js';
import { accessTokens } from '../db/tables.js';

export const REVOCATION_CHANNEL = 'registry_token_revocations';

export class Revocations {
  private revoked = new Map<string, number>();

  private constructor(private readonly database: Database) {}

  static async start(database: Database): Promise<Revocations> {
    const r = new Revocations(database);
    // Listen first, then load: a revocation committed in between is in the load or in a notice, never lost.
    let first = true;
    await database.listen(
      REVOCATION_CHANNEL,
      (payload) => r.add(JSON.parse(payload) as [string, number][]),
      () => {
        if (first) {
          first = false;
          return;
        } // the load below
        void r.reload().catch(() => {
          /* the next reconnect retries */
        });
      },
    );
    await r.reload();
    return r;
  }

  isRevoked(jti: string): boolean {
    return this.revoked.has(jti);
  }

  /** Records revocations seen in this process (the NOTIFY echo then finds them already there). */
  add(entries: [jti: string, expiresAtMs: number][]): void {
    for (const [jti, exp] of entries) this.revoked.set(jti, exp);
  }

  async reload(): Promise<void> {
    const rows = await this.database.db
      .select({ jti: accessTokens.jti, expiresAt: accessTokens.expiresAt })
      .from(accessTokens)
      .where(and(isNotNull(accessTokens.revokedAt), gt(accessTokens.expiresAt, new Date())));
    const next = new Map(rows.map((r) => [r.jti, r.expiresAt.getTime()]));
    this.revoked = next;
  }

  /** Forgets revocations of tokens that have expired anyway (they fail verification on their own). */
  prune(now = Date.now()): void {
    for (const [jti, exp] of this.revoked) if (exp <= now) this.revoked.delete(jti);
  }
}
