// Idempotency-Key for mutations over POST /graphql: the first request with a key claims it (committed before
// the operation runs); its answer is stored when it completes; a retry with the same key and body, under the
// same bearer token, gets that answer back without running again. The same key with another body is refused;
// a retry while the first still runs waits. Keys belong to a token, not to a principal: another token of the
// same contractor may carry other scopes and must not be handed an answer it could not have got itself.
// Queries ignore the header: they change nothing, and their answers (shared records) must not be stored.
//
// Every statement here runs within the request's deadline (REQUEST_TIMEOUT_MS), and a claim's answer is due
// by that deadline: a claim still without an answer after it belongs to a request that ended without storing
// one (its process died, or the database went away under it), so retries are told the outcome is unknown
// rather than to wait for an answer that will never come. Stored answers are sealed (AES-256-GCM, bound to
// their token and key): the answer to issueAccessToken carries a usable contractor token.
import { createHash, randomUUID } from 'node:crypto';
import { and, eq, isNull, lt, sql } from 'drizzle-orm';
import { parse } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { decrypt, encrypt, type KeyEncryptionKey } from '../auth/encryption.js';
import type { Db } from '../db/client.js';
import { idempotencyKeys } from '../db/tables.js';
import type { Deadlines } from './database-guard.js';
import { operationOf } from '../graphql/operation.js';
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

/** The answer every retry gets once the first request's outcome cannot be known (stored in place of an answer). */
function outcomeUnknown(firstStatus: number | null, firstCode: unknown) {
  return JSON.stringify({
    errors: [
      {
        message:
          'The first request with this Idempotency-Key failed or ended in a way that may still have applied it: read the current state, then send the change again with a new key if it is missing',
        extensions: { code: 'IDEMPOTENCY_OUTCOME_UNKNOWN', firstStatus, firstCode: firstCode ?? null },
      },
    ],
  });
}

export interface IdempotencyOptions {
  db: Db;
  /** The request body, read once with the size limit. */
  body: (request: Request) => Promise<string>;
  tokenHashOf: (request: Request) => string | undefined;
  deadlines: Deadlines;
  /** Seals stored answers. */
  answerKey: KeyEncryptionKey;
}

export function idempotencyPlugin({ db, body: bodyOf, tokenHashOf, deadlines, answerKey }: IdempotencyOptions): Plugin {
  type Claim = { principal: string; key: string; owner: string };
  const claimed = new WeakMap<Request, Claim>();
  const owned = (c: Claim) =>
    and(eq(idempotencyKeys.principal, c.principal), eq(idempotencyKeys.key, c.key), eq(idempotencyKeys.owner, c.owner));
  // Only while no answer is stored: an answer, once given (or once declared unknown), stays.
  const unanswered = (c: Claim) => and(owned(c), isNull(idempotencyKeys.status));
  const aad = (c: Pick<Claim, 'principal' | 'key'>) => `${c.principal}\n${c.key}`;
  const answer = (c: Claim, status: number, text: string) =>
    db
      .update(idempotencyKeys)
      .set({ status, response: encrypt(answerKey, text, aad(c)) })
      .where(unanswered(c))
      .returning({ key: idempotencyKeys.key });
  const release = (c: Claim) => db.delete(idempotencyKeys).where(unanswered(c));

  return {
    async onRequest({ request, url, endResponse }) {
      const key = request.headers.get('idempotency-key');
      if (key === null || request.method !== 'POST' || url.pathname !== '/graphql') return;
      if (!KEY.test(key))
        return endResponse(
          problem(400, 'BAD_IDEMPOTENCY_KEY', 'Idempotency-Key must be 1–200 visible ASCII characters'),
        );
      const tokenHash = tokenHashOf(request);
      if (!tokenHash) return;
      const body = await bodyOf(request);
      if (!isMutation(body)) return;
      const claim: Claim = { principal: `token:${tokenHash}`, key, owner: randomUUID() };
      const requestHash = createHash('sha256').update(body).digest('hex');
      const stale = sql`now() - make_interval(hours => ${IDEMPOTENCY_TTL_HOURS})`;
      // Due when this request's deadline passes, counted from when the claim is written (clock_timestamp(), not
      // the statement's start): a claim that lands late, after waiting for a lock or for the database to come
      // back, must not read as overdue before this request has had the chance to let it go.
      const answerDueAt = sql`clock_timestamp() + ${deadlines.remaining(request)}::int * interval '1 millisecond'`;
      // A promise, not drizzle's query builder: awaited twice below, it must run once.
      const claiming = Promise.resolve(
        db
          .insert(idempotencyKeys)
          .values({ ...claim, requestHash, answerDueAt })
          .onConflictDoUpdate({
            target: [idempotencyKeys.principal, idempotencyKeys.key],
            set: { requestHash, status: null, response: null, owner: claim.owner, answerDueAt, createdAt: sql`now()` },
            setWhere: lt(idempotencyKeys.createdAt, stale),
          })
          .returning({ key: idempotencyKeys.key }),
      );
      let won: unknown;
      try {
        [won] = await deadlines.within(request, claiming);
      } catch (e) {
        // No answer to the claim in time: this request ends here and runs nothing. The claim may still land
        // (postgres.js sends it once the database is back); then let it go, so a retry can run.
        void claiming
          .then(async ([landed]) => {
            if (landed) await release(claim);
          })
          .catch(() => {
            /* then the overdue claim reads as "outcome unknown" */
          });
        throw e;
      }
      if (won) {
        claimed.set(request, claim);
        return;
      }
      const [row] = await deadlines.within(
        request,
        db
          .select({
            requestHash: idempotencyKeys.requestHash,
            status: idempotencyKeys.status,
            response: idempotencyKeys.response,
            owner: idempotencyKeys.owner,
            overdue: sql<boolean>`${idempotencyKeys.answerDueAt} < now()`,
          })
          .from(idempotencyKeys)
          .where(and(eq(idempotencyKeys.principal, claim.principal), eq(idempotencyKeys.key, key))),
      );
      if (!row)
        return endResponse(
          problem(409, 'IDEMPOTENCY_CONFLICT', 'Idempotency-Key is being reset; retry', { 'retry-after': '1' }),
        );
      if (row.requestHash !== requestHash)
        return endResponse(
          problem(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request'),
        );
      const inProgress = () =>
        endResponse(
          problem(409, 'IDEMPOTENCY_IN_PROGRESS', 'A request with this Idempotency-Key is still running; retry', {
            'retry-after': '1',
          }),
        );
      if (row.status === null || row.response === null) {
        if (!row.overdue) return inProgress();
        // Its deadline has passed and no answer came: the request that claimed it is gone. Say so, for good.
        const unknown = outcomeUnknown(null, null);
        const [resolved] = await deadlines.within(request, answer({ ...claim, owner: row.owner }, 409, unknown));
        // Its answer arrived meanwhile: the next retry gets it.
        if (!resolved) return inProgress();
        return endResponse(new Response(unknown, { status: 409, headers: { 'content-type': 'application/json' } }));
      }
      return endResponse(
        new Response(decrypt(answerKey, row.response, { aad: aad(claim), what: 'a stored answer' }), {
          status: row.status,
          headers: {
            'content-type': 'application/graphql-response+json; charset=utf-8',
            'idempotent-replayed': 'true',
          },
        }),
      );
    },
    async onResponse({ request, response }) {
      const claim = claimed.get(request);
      if (!claim) return;
      const text = await response.clone().text();
      if (response.status >= 500 || response.status === 429) {
        let code: unknown;
        try {
          code = (JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] }).errors?.[0]?.extensions?.code;
        } catch {
          /* not JSON */
        }
        // Refused before it ran: release the key so a retry runs.
        if (refusedBeforeRunning(response.status, code)) {
          await deadlines.atMost(request, release(claim));
          return;
        }
        // A deadline or a lost connection: the write may still commit. Running a retry could apply it twice,
        // so the key answers every retry with "outcome unknown" until it expires.
        await deadlines.atMost(request, answer(claim, 409, outcomeUnknown(response.status, code)));
        return;
      }
      // Not stored by the deadline (or at all): the answer still leaves, and the key's claim, overdue, will
      // tell retries the outcome is unknown.
      await deadlines.atMost(request, answer(claim, response.status, text));
    },
  };
}
