// Keeps one slow query, a saturated pool or a database outage from holding the service: a request
// deadline around execution, fast refusal while too many statements already wait for a connection, and
// clear coded errors for database faults (instead of a masked "Unexpected error.").
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { PoolUse } from '../db/client.js';

export function deadlineError(ms: number) {
  return new GraphQLError(`Request deadline of ${ms} ms exceeded`, { extensions: { code: 'TIMEOUT', http: { status: 503 } } });
}

export function databaseGuard(opts: { pool: PoolUse; queueLimit: number; requestTimeoutMs: number; onRefused?: (reason: string) => void }): Plugin {
  const { pool, queueLimit, requestTimeoutMs } = opts;
  return {
    onExecute({ executeFn, setExecuteFn, setResultAndStopExecution }) {
      const waiting = pool.waiting();
      if (waiting > 0 && waiting >= queueLimit) {
        opts.onRefused?.('database_busy');
        setResultAndStopExecution({ errors: [new GraphQLError(`Database busy: all ${pool.max} connections in use and ${waiting} statements waiting; retry shortly`, {
          extensions: { code: 'DATABASE_BUSY', http: { status: 503, headers: { 'retry-after': '1' } } },
        })] });
        return;
      }
      setExecuteFn(async (args) => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<{ errors: GraphQLError[] }>((resolve) => {
          timer = setTimeout(() => { opts.onRefused?.('deadline'); resolve({ errors: [deadlineError(requestTimeoutMs)] }); }, requestTimeoutMs);
        });
        try {
          return await Promise.race([executeFn(args) as Promise<never>, deadline]);
        } finally {
          clearTimeout(timer);
        }
      });
    },
  };
}

const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT']);
// SQLSTATE: admin shutdown, crash shutdown, cannot connect now, connection failures.
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/** A database fault as a coded error that says what happened and nothing of the data; else undefined. */
export function databaseFault(e: unknown): GraphQLError | undefined {
  for (let err = e, i = 0; err && i < 4; err = (err as { cause?: unknown }).cause, i++) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    if (code === '57014') return new GraphQLError('A database statement exceeded its time limit (statement_timeout)', { extensions: { code: 'TIMEOUT', http: { status: 503 } } });
    if (CONNECTION_CODES.has(code) || UNAVAILABLE_STATES.has(code)) {
      return new GraphQLError('Database unavailable; retry shortly', { extensions: { code: 'DATABASE_UNAVAILABLE', http: { status: 503, headers: { 'retry-after': '1' } } } });
    }
    // Class 22, data exception: a value the database cannot hold or read — an ID beyond integer range, year 0,
    // a NUL character, a forged cursor. The client's input, not a fault; the transaction has rolled back.
    // The database's message can quote the value, so it is not passed on.
    if (/^22[0-9A-Z]{3}$/.test(code)) {
      return new GraphQLError('A value in the request is out of range or malformed (an ID, a date, a cursor or a character the registry cannot store)', { extensions: { code: 'VALIDATION_FAILED' } });
    }
  }
  return undefined;
}
