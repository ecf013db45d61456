// Idempotency-Key for POST /graphql: the first request with a key claims it (committed before the operation
// runs); its answer is stored when it completes; a retry with the same key and body gets that answer back
// without running again. The same key with another body is refused; a retry while the first still runs waits.
import { createHash } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import type { Plugin } from 'graphql-yoga';
import type { Principal } from '../auth/principal.js';
import type { Db } from '../db/client.js';
import { idempotencyKeys } from '../db/tables.js';

const KEY = /^[\x21-\x7e]{1,200}$/;
/** Keys are kept this long; a retry later than that runs as a new request. */
export const IDEMPOTENCY_TTL_HOURS = 24;

function problem(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify({ errors: [{ message, extensions: { code } }] }), { status, headers: { 'content-type': 'application/json', ...headers } });
}

export function idempotencyPlugin(db: Db, principalOf: (request: Request) => Principal | undefined): Plugin {
  const claimed = new WeakMap<Request, { principal: string; key: string }>();
  return {
    async onRequest({ request, url, endResponse }) {
      const key = request.headers.get('idempotency-key');
      if (key === null || request.method !== 'POST' || url.pathname !== '/graphql') return;
      if (!KEY.test(key)) return endResponse(problem(400, 'BAD_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–200 visible ASCII characters'));
      const who = principalOf(request);
      if (!who) return;
      const principal = `${who.kind}:${who.subject}`;
      const requestHash = createHash('sha256').update(await request.clone().text()).digest('hex');
      const stale = sql`now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`;
      const [won] = await db.insert(idempotencyKeys).values({ principal, key, requestHash })
        .onConflictDoUpdate({
          target: [idempotencyKeys.principal, idempotencyKeys.key],
          set: { requestHash, status: null, response: null, createdAt: sql`now()` },
          setWhere: lt(idempotencyKeys.createdAt, stale),
        }).returning({ key: idempotencyKeys.key });
      if (won) { claimed.set(request, { principal, key }); return; }
      const [row] = await db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
      if (!row) return endResponse(problem(409, 'IDEMPOTENCY_CONFLICT', 'Idempotency-Key is being reset; retry', { 'retry-after': '1' }));
      if (row.requestHash !== requestHash) return endResponse(problem(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request'));
      if (row.status === null) return endResponse(problem(409, 'IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still running; retry', { 'retry-after': '1' }));
      return endResponse(new Response(row.response, { status: row.status, headers: { 'content-type': 'application/graphql-response+json; charset=utf-8', 'idempotent-replayed': 'true' } }));
    },
    async onResponse({ request, response }) {
      const claim = claimed.get(request);
      if (!claim) return;
      const where = and(eq(idempotencyKeys.principal, claim.principal), eq(idempotencyKeys.key, claim.key));
      // A server failure changed nothing: release the key so a retry runs again.
      if (response.status >= 500) { await db.delete(idempotencyKeys).where(where); return; }
      await db.update(idempotencyKeys).set({ status: response.status, response: await response.clone().text() }).where(where);
    },
  };
}
