// Opens what the app depends on, in order: database (migrated), signing keys, token verifier.
// Shared by the server, the CLI and the tests, so each runs the same start-up.
import { checkpointSigner as checkpointSigner_ } from './audit/checkpoint.js';
import { startSealer, type Sealer } from './audit/seal.js';
import { KeyRing } from './auth/keys.js';
import { KEYS_CHANNEL, copiedTo, databaseKeyStore, fileKeyStore } from './auth/key-store.js';
import { deriveKeyEncryptionKey, loadOrCreateSecret } from './auth/encryption.js';
import { Revocations } from './auth/revocation.js';
import { lastUseRecorder } from './auth/last-use.js';
import type { TokenSettings } from './auth/tokens.js';
import { createVerifier } from './auth/verifier.js';
import type { AppDeps } from './app.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { latestMigration, openDatabase, type Database } from './db/client.js';
import { PARTITION_CHECK_MS, ensurePartitions } from './db/partitions.js';
import { idempotencyKeys } from './db/tables.js';
import type { RegistryDeps } from './registry/tx.js';
import { IDEMPOTENCY_TTL_HOURS } from './http/idempotency.js';
import { lt } from 'drizzle-orm';
import { createLogger } from './observability/logger.js';
import { startPolicyScheduler } from './registry/policy-scheduler.js';
import { attestSeededRows } from './registry/seeded-rows.js';

export interface Services extends AppDeps {
  clock: Clock;
  /** This instance's audit sealer (src/audit/seal.ts). */
  sealer: Sealer;
  close(): Promise<void>;
}

/** What the registry's functions run on, from the opened services (the CLI calls them without a request). */
export function registryDeps(s: Services): RegistryDeps {
  return {
    db: s.database.db,
    clock: s.clock,
    config: s.config,
    keys: s.keys,
    tokenSettings: s.tokenSettings,
    revocations: s.revocations,
  };
}

export function tokenSettings(config: Config): TokenSettings {
  return {
    issuer: config.tokenIssuer,
    audience: config.tokenAudience,
    maxTokenAgeSeconds: Math.max(config.staffTokenTtlSeconds, config.contractorTokenMaxTtlSeconds),
  };
}

/**
 * The signing keys: from the database when the caller holds it; the token CLI on the embedded database (which the
 * server holds) reads the server's copy in DATA_DIR instead. The embedded server takes over the keys of that file
 * if its database has none yet (a key the CLI made before the first start, or an older release's key file).
 */
export async function openKeyRing(
  config: Config,
  database: Pick<Database, 'db' | 'kind'> | undefined,
): Promise<KeyRing> {
  const kek = deriveKeyEncryptionKey(
    loadOrCreateSecret(config.keyEncryptionSecret, config.dataDir),
    'signing-key-encryption',
  );
  const file = fileKeyStore(config.dataDir);
  if (!database) return KeyRing.open(file, kek);
  const store = databaseKeyStore(database.db);
  if (database.kind === 'postgres') return KeyRing.open(store, kek);
  await store.adopt(await file.list());
  return KeyRing.open(copiedTo(store, file), kek);
}

export interface OpenOptions {
  /** PGlite in memory rather than under DATA_DIR. */
  memory?: boolean;
  /** false: the database is known to be migrated already (tests start from a migrated copy). */
  migrate?: boolean;
  /** false: verify every token afresh (a benchmark compares both). */
  tokenCache?: boolean;
  /** PGlite: start from this data-directory dump (see DatabaseOptions.loadDataDir). */
  loadDataDir?: Blob;
  /** What the app takes as now; tests move it (default: the system clock). */
  clock?: Clock;
}

export async function openServices(config: Config, opts: OpenOptions = {}): Promise<Services> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    readUrl: config.databaseReadUrl,
    migrationUrl: config.migrationDatabaseUrl,
    dataDir: config.dataDir,
    memory: opts.memory,
    loadDataDir: opts.loadDataDir,
    max: config.db.poolMax,
    statementTimeoutMs: config.db.statementTimeoutMs,
    connectTimeoutSeconds: config.db.connectTimeoutSeconds,
  });
  try {
    if (opts.migrate !== false) await database.migrate();
    const keys = await openKeyRing(config, database);
    const settings = tokenSettings(config);
    const revocations = await Revocations.start(database);
    // Another instance rotated the signing key: load the new key set. Also after every reconnect (a notice sent
    // while the connection was down is lost), and once listening, for a rotation since the key ring opened.
    const reloadKeys = () =>
      void keys.reload().catch(() => {
        /* the next notice or reconnect retries */
      });
    await database.listen(KEYS_CHANNEL, reloadKeys, reloadKeys);
    await keys.reload();
    const answerKey = deriveKeyEncryptionKey(
      loadOrCreateSecret(config.keyEncryptionSecret, config.dataDir),
      'idempotency-answer-encryption',
    );
    const checkpointSigner = checkpointSigner_(
      deriveKeyEncryptionKey(
        loadOrCreateSecret(config.keyEncryptionSecret, config.dataDir),
        'audit-checkpoint-signing',
      ),
    );
    const clock = opts.clock ?? systemClock;
    // The coming months' partitions, now and every few hours (a write in a month without one still lands, in the
    // default partition, and is moved into the month's partition when that is made).
    await ensurePartitions(database.db, clock.now());
    const partitions = setInterval(
      () => void ensurePartitions(database.db, clock.now()).catch(() => {}),
      PARTITION_CHECK_MS,
    );
    partitions.unref();
    const sealer = startSealer(
      database.db,
      {
        signer: checkpointSigner,
        origin: config.tokenIssuer,
        checkpointEvery: config.audit.checkpointEveryEvents,
        checkpointSeconds: config.audit.checkpointEverySeconds,
        now: () => clock.now(),
      },
      config.audit.sealIntervalMs,
      // The next run retries; a lasting fault shows as a growing number of pending events in verifyAuditLog.
      () => {},
    );
    const lastUse = lastUseRecorder(database);
    const verify = createVerifier({
      keys,
      settings,
      revocations,
      external: config.oidc,
      cache: opts.tokenCache,
      onUse: lastUse.record,
    });
    const prune = setInterval(() => revocations.prune(), 60_000);
    prune.unref();
    // Idempotency answers are kept for a day; older ones only take space.
    const sweep = setInterval(
      () =>
        void database.db
          .delete(idempotencyKeys)
          .where(lt(idempotencyKeys.createdAt, new Date(Date.now() - IDEMPOTENCY_TTL_HOURS * 3600_000)))
          .catch(() => {}),
      3600_000,
    );
    sweep.unref();
    const registryDeps = { db: database.db, clock, config, keys, tokenSettings: settings, revocations };
    // The rows the migrations seeded, attested once in the audit log by the first instance to start after them.
    await attestSeededRows(registryDeps, latestMigration());
    // Policy changes effective later take effect at their instant, on whichever instance gets there first.
    const logger = createLogger(config.logLevel);
    const scheduler = await startPolicyScheduler(
      registryDeps,
      database,
      // The error's name only: a database error's message can quote a value.
      (e) => logger.error({ error: (e as Error)?.name }, 'a due policy change could not be applied; retrying'),
    );
    return {
      config,
      database,
      keys,
      tokenSettings: settings,
      revocations,
      verify,
      clock,
      answerKey,
      checkpointSigner,
      sealer,
      close: async () => {
        scheduler.stop();
        clearInterval(prune);
        clearInterval(sweep);
        clearInterval(partitions);
        await sealer.stop();
        await lastUse.flush();
        await database.close();
      },
    };
  } catch (e) {
    await database.close();
    throw e;
  }
}
