// One database handle for the whole process: postgres.js against DATABASE_URL, or embedded PGlite under DATA_DIR.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { PgAsyncDatabase, PgAsyncTransaction, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import postgres from 'postgres';
import { lockDataDir } from './data-dir-lock.js';
import { relations } from './relations.js';
import { grantServicePrivileges, roleOf } from './roles.js';
import { onlyRow } from './rows.js';

type Relations = typeof relations;
export type Db = PgAsyncDatabase<PgQueryResultHKT, Relations>;
export type Tx = PgAsyncTransaction<PgQueryResultHKT, Relations>;
/** Anything that can run a query: the database or a transaction in it. */
export type Queryable = Db | Tx;

export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), 'migrations');

export interface Database {
  db: Db;
  /**
   * Where read-only work may go: a streaming replica (DATABASE_READ_URL) when configured, else `db` itself. It can
   * lag the primary by the replication delay; src/http/read-replica.ts decides who reads from it.
   */
  reader: Db;
  kind: 'postgres' | 'pglite';
  /** Called with the SQL text and parameters of every statement; tests use it to count round trips and EXPLAIN them. */
  onQuery: Set<(sql: string, params: unknown[]) => void>;
  migrate(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
  /**
   * LISTEN on a channel. `onConnect` runs once listening starts and again after every reconnect, so a
   * subscriber can reload what it may have missed while the connection was down.
   */
  listen(channel: string, onNotify: (payload: string) => void, onConnect?: () => void): Promise<void>;
  /** The raw postgres.js client, when on PostgreSQL. */
  sql?: postgres.Sql;
  /** The PGlite instance, when embedded. */
  pglite?: PGlite;
  /** Connection use, counted by this process (postgres.js exposes no pool statistics). */
  pool: PoolUse;
}

export interface PoolUse {
  /** Size of the pool (PGlite: one connection). */
  max: number;
  /** Statements and transactions started through drizzle and not yet finished: each holds or waits for a connection. */
  inFlight(): number;
  /** Of those, how many exceed the pool size, i.e. wait for a connection. */
  waiting(): number;
}

/**
 * Counts statements and transactions in flight on a postgres.js client by wrapping `unsafe` (how drizzle
 * sends every statement outside a transaction) and `begin` (a transaction holds one connection for its
 * duration; its statements run on that connection and are not counted again — nor is its BEGIN, which
 * postgres.js sends through the same `unsafe` from inside `begin`, so a transaction waiting for a
 * connection counted twice and `waiting` said two).
 */
function trackPool(client: postgres.Sql, max: number): PoolUse {
  let inFlight = 0;
  let inBegin = false;
  const done = () => {
    inFlight--;
  };
  const unsafe = client.unsafe.bind(client);
  const begin = client.begin.bind(client);
  (client as { unsafe: unknown }).unsafe = (...args: Parameters<typeof client.unsafe>) => {
    const query = unsafe(...args);
    if (inBegin) return query;
    const then = query.then.bind(query);
    let counted = false;
    // postgres.js runs a query when it is first awaited: count from then until it settles.
    (query as { then: unknown }).then = (onOk?: (v: unknown) => unknown, onErr?: (e: unknown) => unknown) => {
      if (!counted) {
        counted = true;
        inFlight++;
        then(done, done);
      }
      return then(onOk as never, onErr as never);
    };
    return query;
  };
  (client as { begin: unknown }).begin = (...args: unknown[]) => {
    inFlight++;
    // postgres.js' begin() issues its BEGIN synchronously, before its first await.
    inBegin = true;
    let p: Promise<unknown>;
    try {
      p = (begin as (...a: unknown[]) => Promise<unknown>)(...args);
    } finally {
      inBegin = false;
    }
    p.then(done, done);
    return p;
  };
  return { max, inFlight: () => inFlight, waiting: () => Math.max(0, inFlight - max) };
}

type Unsafe = postgres.Sql['unsafe'];
/** Statements with more parameters (long `in` lists, multi-row inserts) are sent unnamed, not kept. */
const PREPARE_MAX_PARAMETERS = 64;
type Scoped = (sql: postgres.Sql) => unknown;

/**
 * Sends drizzle's statements as named prepared statements. drizzle 1.0 passes postgres.js `prepare: false` for every
 * statement not built with `.prepare(name)` (all of ours: the Pothos drizzle plugin builds them per request), and
 * postgres.js sends such an unnamed statement with parameters in two round trips — Parse and Describe, a wait for the
 * parameter types, then Bind and Execute — every time, so PostgreSQL parses it again each time. Named, postgres.js
 * keeps the statement per connection (by text and parameter types) and sends only Bind and Execute from the second
 * use on: one round trip, one write and one read fewer per statement (≈ 10% of the server's CPU on a transfers page,
 * BENCHMARKS.md). drizzle writes values as parameters, so the texts differ only where a list's length does (`in (…)`,
 * multi-row inserts): statements with more than PREPARE_MAX_PARAMETERS parameters are not kept, which bounds each
 * connection's set by the statement shapes times that number; a connection's statements go with it (postgres.js
 * replaces each connection after 30–60 minutes). Statements without parameters keep the simple protocol (one round
 * trip already). After a migration that changes a column's type, a statement an older instance prepared fails once
 * per connection ("cached plan must not change result type") and is prepared anew: roll instances after migrating. `plan_cache_mode = force_custom_plan` (set per connection in `openDatabase`) keeps
 * PostgreSQL planning every execution with its values, exactly as for an unnamed statement: no generic plans.
 * Transactions and savepoints get their own `sql` from postgres.js, so `begin` and `savepoint` hand the same on.
 */
function preparedStatements(sql: postgres.Sql): void {
  const unsafe: Unsafe = sql.unsafe.bind(sql);
  (sql as { unsafe: Unsafe }).unsafe = ((query: string, args?: unknown[], options?: object) =>
    Array.isArray(args) && args.length > 0 && args.length <= PREPARE_MAX_PARAMETERS
      ? unsafe(query, args as never, { ...options, prepare: true })
      : unsafe(query, args as never, options as never)) as Unsafe;
  const scoped = (fn: Scoped) => (inner: postgres.Sql) => {
    preparedStatements(inner);
    return fn(inner);
  };
  const begin = sql.begin?.bind(sql) as ((...a: unknown[]) => unknown) | undefined;
  if (begin)
    (sql as { begin: unknown }).begin = (...args: unknown[]) => {
      const i = args.length - 1;
      if (typeof args[i] === 'function') args[i] = scoped(args[i] as Scoped);
      return begin(...args);
    };
  const savepoint = (sql as { savepoint?: (...a: unknown[]) => unknown }).savepoint?.bind(sql);
  if (savepoint)
    (sql as unknown as { savepoint: unknown }).savepoint = (...args: unknown[]) => {
      const i = args.length - 1;
      if (typeof args[i] === 'function') args[i] = scoped(args[i] as Scoped);
      return savepoint(...args);
    };
}

function logger(onQuery: Database['onQuery']) {
  return {
    logQuery: (query: string, params: unknown[]) => {
      for (const f of onQuery) f(query, params);
    },
  };
}

/**
 * postgres.js 3.4.9 can write to a connection whose socket has just closed, from a setImmediate, and throw
 * "Cannot read properties of null (reading 'write')" where no caller can catch it (porsager/postgres#1154,
 * #1208; no fixed release yet). The query concerned has already been rejected with CONNECTION_CLOSED.
 */
export function isPostgresWriteAfterClose(e: unknown): boolean {
  return (
    e instanceof TypeError &&
    /reading 'write'/.test(e.message) &&
    /postgres[\\/]src[\\/]connection\.js/.test(e.stack ?? '') &&
    /nextWrite/.test(e.stack ?? '')
  );
}

/**
 * Seconds before reconnecting, given how many connection attempts in a row have failed across the pool.
 * postgres.js' default grows as 3^n / 100 up to 20 s, so after a few seconds of outage each waiting
 * statement sat up to 7–20 s behind its timer once PostgreSQL was back (writes resumed 4–8 s late and
 * SIGTERM waited for the timers). Capped at 0.5 s: a query waiting for a connection is sent at most
 * half a second after the server accepts again. Attempts are only made for queries that wait, so while
 * the server is down that is at most a few refused connects per second per pooled connection.
 */
function reconnectBackoff(failures: number): number {
  return Math.min(0.05 * 2 ** failures, 0.5) * (0.5 + Math.random() / 2);
}

/**
 * How long `close` waits for statements still in flight before ending their connections. It runs after the
 * HTTP server has answered every request, so what is left belongs to requests already answered at their
 * deadline (their callers were told the outcome is unknown) or to a connection attempt an outage holds up.
 */
const CLOSE_TIMEOUT_MS = 1_000;

/** The name of the newest committed migration: what a database migrated by this code has applied last. */
export function latestMigration(): string {
  const names = readMigrationFiles({ migrationsFolder }).map((m) => m.name);
  return names[names.length - 1] ?? 'none';
}

/** Names of the committed migrations the database has not applied (all of them before the first). */
async function pendingMigrations(client: postgres.Sql): Promise<string[]> {
  const local = readMigrationFiles({ migrationsFolder }).map((m) => m.name);
  const { journal } = onlyRow(
    await client<{ journal: string | null }[]>`select to_regclass('drizzle.__drizzle_migrations')::text as journal`,
  );
  if (!journal) return local;
  const applied = new Set(
    (await client<{ name: string | null }[]>`select name from drizzle.__drizzle_migrations`).map((r) => r.name),
  );
  return local.filter((n) => !applied.has(n));
}

/**
 * Applies pending migrations as the owner role in `migrationUrl`, then grants the service's role (the one in
 * `databaseUrl`) its privileges on what the migrations made; the owner's connection is closed again.
 */
async function migrateAsOwner(migrationUrl: string, serviceRole: string, connectTimeoutSeconds: number | undefined) {
  const owner = postgres(migrationUrl, { max: 1, onnotice: () => {}, connect_timeout: connectTimeoutSeconds });
  try {
    await migratePostgres(drizzlePostgres({ client: owner, relations }) as never, { migrationsFolder });
    if (roleOf(migrationUrl) !== serviceRole) await owner.begin((tx) => grantServicePrivileges(tx, serviceRole));
  } finally {
    await owner.end();
  }
}

export interface DatabaseOptions {
  databaseUrl?: string;
  /** PostgreSQL: the owner role that applies migrations, when the service's role (databaseUrl) may not. */
  migrationUrl?: string;
  dataDir?: string;
  memory?: boolean;
  max?: number;
  /** PostgreSQL statement_timeout for every connection; 0 turns it off. */
  statementTimeoutMs?: number;
  /** DB_CONNECT_TIMEOUT_SECONDS (unset: postgres.js' 30 s). */
  connectTimeoutSeconds?: number;
  /** PostgreSQL: a read replica of databaseUrl's database (DATABASE_READ_URL), with a pool of the same size. */
  readUrl?: string;
  /**
   * PGlite only: start from this data-directory dump (PGlite's `dumpDataDir`) rather than an empty
   * cluster. The test run migrates one database and starts every test file from a copy of it.
   */
  loadDataDir?: Blob;
}

export async function openDatabase(opts: DatabaseOptions): Promise<Database> {
  const onQuery: Database['onQuery'] = new Set();
  if (opts.databaseUrl) {
    const max = opts.max ?? 10;
    const connect = (url: string) => {
      const sql = postgres(url, {
        max,
        onnotice: () => {},
        connect_timeout: opts.connectTimeoutSeconds,
        backoff: reconnectBackoff,
        connection: {
          application_name: 'transfer-registry',
          statement_timeout: opts.statementTimeoutMs ?? 0,
          // Prepared statements (preparedStatements) are still planned for each execution's values.
          plan_cache_mode: 'force_custom_plan',
        },
      });
      preparedStatements(sql);
      return sql;
    };
    const client = connect(opts.databaseUrl);
    const pool = trackPool(client, max);
    const db = drizzlePostgres({ client, relations, logger: logger(onQuery) }) as unknown as Db;
    const replica = opts.readUrl ? connect(opts.readUrl) : undefined;
    const reader = replica
      ? (drizzlePostgres({ client: replica, relations, logger: logger(onQuery) }) as unknown as Db)
      : db;
    return {
      db,
      reader,
      kind: 'postgres',
      onQuery,
      sql: client,
      pool,
      migrate: async () => {
        if (opts.migrationUrl)
          return migrateAsOwner(opts.migrationUrl, roleOf(opts.databaseUrl!), opts.connectTimeoutSeconds);
        // The service's role can read the journal but not create it or apply anything: check first.
        const pending = await pendingMigrations(client);
        if (!pending.length) return;
        try {
          await migratePostgres(db as never, { migrationsFolder });
        } catch (e) {
          if ((e as { code?: string }).code !== '42501' && (e as { cause?: { code?: string } }).cause?.code !== '42501')
            throw e;
          throw new Error(
            `${pending.length} migration(s) pending (${pending.join(', ')}) and the role in DATABASE_URL may not apply them: ` +
              'run npm run db:migrate with MIGRATION_DATABASE_URL set to the owner role, or set it for the service',
            { cause: e },
          );
        }
      },
      // postgres.js waits for a connection while the server is down: bound the wait.
      ping: async () => {
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<boolean>((r) => {
          timer = setTimeout(() => r(false), 1_000);
        });
        try {
          return await Promise.race([
            client`select 1`.then(
              () => true,
              () => false,
            ),
            timeout,
          ]);
        } finally {
          clearTimeout(timer);
        }
      },
      listen: async (channel, onNotify, onConnect) => {
        await client.listen(channel, onNotify, onConnect);
      },
      close: async () => {
        // Let statements still counted in flight finish (bounded), then end every connection at once:
        // postgres.js' own end() waits for a connection that closed with an error mid-query as if that
        // query still ran (its end() never settles), so after an outage it always sat out its timeout.
        const until = Date.now() + CLOSE_TIMEOUT_MS;
        while (pool.inFlight() > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        await Promise.all([client.end({ timeout: 0 }), replica?.end({ timeout: 0 })]);
      },
    };
  }
  let dir: string | undefined;
  let unlock = () => {};
  if (!opts.memory) {
    dir = join(opts.dataDir ?? './.data', 'pglite');
    mkdirSync(dirname(dir), { recursive: true });
    unlock = lockDataDir(dirname(dir));
  }
  const client = new PGlite({ dataDir: dir, loadDataDir: opts.loadDataDir });
  try {
    await client.waitReady;
  } catch (e) {
    unlock();
    throw e;
  }
  const db = drizzlePglite({ client, relations, logger: logger(onQuery) }) as unknown as Db;
  let closed = false;
  // PGlite is one connection in this process: statements queue on it; nothing to count but the one.
  return {
    db,
    reader: db,
    kind: 'pglite',
    onQuery,
    pglite: client,
    pool: { max: 1, inFlight: () => 0, waiting: () => 0 },
    migrate: async () => {
      await migratePglite(db as never, { migrationsFolder });
    },
    ping: async () => !closed && client.ready,
    listen: async (channel, onNotify, onConnect) => {
      await client.listen(channel, onNotify);
      onConnect?.();
    },
    close: async () => {
      if (!closed) {
        closed = true;
        try {
          await client.close();
        } finally {
          unlock();
        }
      }
    },
  };
}
