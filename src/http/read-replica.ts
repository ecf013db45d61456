// Which database a request reads from. With a read replica (DATABASE_READ_URL), read-only operations go there: the
// queries of a token that never changes anything (an auditor's, `readsOnly`) and the CSV exports. Everything else,
// mutations above all, runs on the primary. A token that has just changed something reads from the primary for
// READ_YOUR_WRITES_MS afterwards, so it sees its own change while the replica catches up. That memory is this
// process's: behind a load balancer without sticky sessions another instance does not know of the write.
import type { Plugin } from 'graphql-yoga';
import { readsOnly, type Principal } from '../auth/principal.js';
import type { Database, Db } from '../db/client.js';
import type { Context } from '../graphql/builder.js';
import { operationOf } from '../graphql/operation.js';

/** Past this many remembered writers, the expired ones are forgotten (one pass). */
const SWEEP_AT = 1_000;

export interface ReadRouting {
  /** The database read-only work of this token (by its hash) reads from. */
  readerFor(tokenHash: string | undefined): Db;
  /** Marks the request's token as having changed something (its mutations) and moves auditors' queries to the reader. */
  plugin: Plugin<Context & { request: Request }>;
}

export function readRouting(
  database: Pick<Database, 'db' | 'reader'>,
  windowMs: number,
  tokenHashOf: (request: Request) => string | undefined,
): ReadRouting {
  const { db, reader } = database;
  /** Token hash → until when (ms since epoch) its reads stay on the primary. */
  const primaryUntil = new Map<string, number>();
  const wrote = (tokenHash: string | undefined) => {
    if (!tokenHash) return;
    const now = Date.now();
    if (primaryUntil.size >= SWEEP_AT) for (const [k, until] of primaryUntil) if (until <= now) primaryUntil.delete(k);
    primaryUntil.set(tokenHash, now + windowMs);
  };
  const readerFor = (tokenHash: string | undefined): Db => {
    if (reader === db || !tokenHash) return reader;
    const until = primaryUntil.get(tokenHash);
    if (until === undefined) return reader;
    if (until > Date.now()) return db;
    primaryUntil.delete(tokenHash);
    return reader;
  };
  return {
    readerFor,
    plugin:
      reader === db
        ? {}
        : {
            onExecute({ args, extendContext }) {
              const ctx = args.contextValue;
              const kind = operationOf(args.document, args.operationName).operation?.operation;
              const tokenHash = tokenHashOf(ctx.request);
              // Marked once the mutation has run (committed or not): the token's next reads see what it did.
              if (kind === 'mutation') return { onExecuteDone: () => wrote(tokenHash) };
              if (kind === 'query' && readsOnly(ctx.principal as Principal))
                extendContext({ db: readerFor(tokenHash) });
            },
          },
  };
}
