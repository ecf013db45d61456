// Idempotency-Key for mutations over POST /graphql: the first request with a key claims it (committed before
// the operation runs); its answer is stored when it completes; a retry with the same key and body, under the
// same bearer token, gets that answer back without running again. The same key with another body is refused;
// a retry while the first still runs waits. Keys belong to a token, not to a principal: another token of the
// same contractor may carry other scopes and must not be handed an answer it could not have got itself.
// Queries ignore the header: they change nothing, and their answers (shared records) must not be stored.
import { createHash } from 'node:crypto';
import { and, eq, lt, sql } from 'drizzle-orm';
import { parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Db } from '../db/client.js';
import { idempotencyKeys } from '../db/tables.js';
import { operationOf } from './limits.js';
import { problem } from './responses.js';

const KEY = /^[\x21-\x7e]{1,200}$/;
/** Keys are kept this long; a retry later than that runs as a new request. */
export const IDEMPOTENCY_TTL_HOURS = 24;

/** True when the body is a single GraphQL mutation; anything unparsable is left to GraphQL to refuse. */
function isMutation(body: string): boolean {
  try {
    const { query, operationName } = JSON.parse(body) as { query?: unknown; operationName?: string | null };
    if (typeof query !== 'string') return false;
    return operationOf(parse(query), operationName).operation?.operation === 'mutation';
  } catch {
    return false;
  }
}

/**
 * Refusals after which nothing can have been written and a retry may succeed: a rate limit (any 429) and a
 * full pool (503 DATABASE_BUSY). Any other server failure (a deadline, a lost connection) may have committed.
 */
const refusedBeforeRunning = (status: number, code: unknown) => status === 429 || code === 'DATABASE_BUSY';

/** `bodyOf`: the request body, read once with the size limit. */
export function idempotencyPlugin(db: Db, bodyOf: (request: Request) => Promise<string>, tokenHashOf: (request: Request) => string | undefined): Plugin {
  const claimed = new WeakMap<Request, { principal: string; key: string }>();
  return {
    async onRequest({ request, url, endResponse }) {
      const key = request.headers.get('idempotency-key');
      if (key === null || request.method !== 'POST' || url.pathname !== '/graphql') return;
      if (!KEY.test(key)) return endResponse(problem(400, 'BAD_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–200 visible ASCII characters'));
      const tokenHash = tokenHashOf(request);
      if (!tokenHash) return;
      const body = await bodyOf(request);
      if (!isMutation(body)) return;
      const principal = `token:${tokenHash}`;
      const requestHash = createHash('sha256').update(body).digest('hex');
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
      if (response.status >= 500 || response.status === 429) {
        const text = await response.clone().text();
        let code: unknown;
        try { code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code; } catch { /* not JSON */ }
        // Refused before it ran: release the key so a retry runs.
        if (refusedBeforeRunning(response.status, code)) { await db.delete(idempotencyKeys).where(where); return; }
        // A deadline or a lost connection: the write may still commit. Running a retry could apply it twice,
        // so the key answers every retry with "outcome unknown" until it expires.
        const unknown = JSON.stringify({ errors: [{
          message: 'The first request with this Idempotency-Key failed in a way that may still have applied it: read the current state, then send the change again with a new key if it is missing',
          extensions: { code: 'IDEMPOTENCY_OUTCOME_UNKNOWN', firstStatus: response.status, firstCode: code ?? null },
        }] });
        await db.update(idempotencyKeys).set({ status: 409, response: unknown }).where(where);
        return;
      }
      await db.update(idempotencyKeys).set({ status: response.status, response: await response.clone().text() }).where(where);
    },
  };
}
