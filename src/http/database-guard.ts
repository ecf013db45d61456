// Keeps one slow query, a saturated pool or a database outage from holding the service: a request
// deadline around every statement of a request (the Idempotency-Key's and execution's), fast refusal while too
// many statements already wait for a connection, and clear coded errors for database faults (instead of a
// masked "Unexpected error.").
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { PoolUse } from '../db/client.js';

function deadlineError(ms: number) {
  return new GraphQLError(`Request deadline of ${ms} ms exceeded`, {
    extensions: { code: 'TIMEOUT', http: { status: 503 } },
  });
}

/**
 * One deadline per request, REQUEST_TIMEOUT_MS from its first database statement (the Idempotency-Key claim,
 * or else execution). The statements are not stopped at the deadline (postgres.js keeps a query until the
 * database answers, or fails it); the request stops waiting for them and answers TIMEOUT.
 */
export interface Deadlines {
  readonly ms: number;
  /** Milliseconds left before the request's deadline (starting its clock if it has not started). */
  remaining(request: Request): number;
  /** What `work` resolves to; once the deadline passes, what `late` returns (by default: throws TIMEOUT, 503). */
  within<T, L = never>(request: Request, work: Promise<T>, late?: () => L): Promise<T | L>;
  /**
   * Waits for `work` until the deadline at most, for work after the answer is decided (storing it): past the
   * deadline the answer leaves without it, and the work goes on (its failure is then nobody's to report).
   */
  atMost(request: Request, work: Promise<unknown>): Promise<void>;
}

export function requestDeadlines(ms: number, onLate?: () => void): Deadlines {
  const ends = new WeakMap<Request, number>();
  const remaining = (request: Request) => {
    let end = ends.get(request);
    if (end === undefined) {
      end = Date.now() + ms;
      ends.set(request, end);
    }
    return Math.max(0, end - Date.now());
  };
  /** `{ value }` when `work` settles first, 'expired' when the deadline comes first. */
  async function race<T>(request: Request, work: Promise<T>): Promise<{ value: T } | 'expired'> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => {
      timer = setTimeout(() => resolve('expired'), remaining(request));
    });
    try {
      return await Promise.race([work.then((value) => ({ value })), expired]);
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    ms,
    remaining,
    async within(request, work, late) {
      const first = await race(request, work);
      if (first !== 'expired') return first.value;
      onLate?.();
      if (late) return late();
      throw deadlineError(ms);
    },
    async atMost(request, work) {
      await race(request, work);
    },
  };
}

export function databaseGuard(opts: {
  pool: PoolUse;
  queueLimit: number;
  deadlines: Deadlines;
  onRefused?: (reason: string) => void;
}): Plugin {
  const { pool, queueLimit, deadlines } = opts;
  return {
    onExecute({ args, executeFn, setExecuteFn, setResultAndStopExecution }) {
      const waiting = pool.waiting();
      if (waiting > 0 && waiting >= queueLimit) {
        opts.onRefused?.('database_busy');
        setResultAndStopExecution({
          errors: [
            new GraphQLError(
              `Database busy: all ${pool.max} connections in use and ${waiting} statements waiting; retry shortly`,
              {
                extensions: { code: 'DATABASE_BUSY', http: { status: 503, headers: { 'retry-after': '1' } } },
              },
            ),
          ],
        });
        return;
      }
      const request = (args.contextValue as { request: Request }).request;
      setExecuteFn((a) =>
        deadlines.within(request, Promise.resolve(executeFn(a)), () => ({ errors: [deadlineError(deadlines.ms)] })),
      );
    },
  };
}

const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);
// SQLSTATE: admin shutdown, crash shutdown, cannot connect now, connection failures.
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/** A database fault as a coded error that says what happened and nothing of the data; else undefined. */
export function databaseFault(e: unknown): GraphQLError | undefined {
  for (let err = e, i = 0; err && i < 4; err = (err as { cause?: unknown }).cause, i++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (code === '57014')
      return new GraphQLError('A database statement exceeded its time limit (statement_timeout)', {
        extensions: { code: 'TIMEOUT', http: { status: 503 } },
      });
    if (CONNECTION_CODES.has(code) || UNAVAILABLE_STATES.has(code)) {
      return new GraphQLError('Database unavailable; retry shortly', {
        extensions: { code: 'DATABASE_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '1' } } },
      });
    }
    // Class 22, data exception: a value the database cannot hold or read — an ID beyond integer range, year 0,
    // a NUL character, a forged cursor. The client's input, not a fault; the transaction has rolled back.
    // The database's message can quote the value, so it is not passed on.
    if (/^22[0-9A-Z]{3}$/.test(code)) {
      return new GraphQLError(
        'A value in the request is out of range or malformed (an ID, a date, a cursor or a character the registry cannot store)',
        { extensions: { code: 'VALIDATION_FAILED' } },
      );
    }
  }
  return undefined;
}
