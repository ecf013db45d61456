// `npm run archive -- --before 2025-01 --out ./archive`: exports every month of history before the given one
// (its partitions of transfers and audit events, as JSON lines with their hashes, and a manifest) and detaches
// them (src/audit/archive.ts). Runs as the tables' owner: MIGRATION_DATABASE_URL when set, else DATABASE_URL, or
// the embedded database (which a running server must not hold). The log's seals and Merkle subtrees stay:
// checkpoints still verify, and verification reports how many events are archived.
import { archiveMonths } from '../audit/archive.js';
import { systemClock } from '../clock.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { exitIfDataDirInUse } from '../db/data-dir-lock.js';
import { cliArgs, runCli } from './args.js';

const usage = 'npm run archive -- --before YYYY-MM [--out dir] [--drop]';
const help = `Archives the months of history before --before: writes <out>/<month>/audit-events.jsonl (each event's
position, entry, leaf hash and chain hash), transfers.jsonl (each transfer's canonical row and hash) and
manifest.json (their SHA-256), then detaches the month's partitions.

usage: ${usage}

  --before   the first month kept, YYYY-MM (at most the current month)
  --out      where the files go (default ./archive)
  --drop     drop the detached partitions (default: keep them, detached, in schema "archive")
  -h, --help this text

A month with events not sealed yet, or an event that no longer hashes to its sealed leaf, is refused.`;

const args = cliArgs(
  {
    before: { type: 'string' },
    out: { type: 'string', default: './archive' },
    drop: { type: 'boolean', default: false },
  },
  usage,
  help,
);

await runCli('archive', async () => {
  if (!args.before) throw new Error(`--before is required\nusage: ${usage}`);
  const config = loadConfig();
  const database = await openDatabase({
    databaseUrl: config.migrationDatabaseUrl ?? config.databaseUrl,
    dataDir: config.dataDir,
    max: 1,
    connectTimeoutSeconds: config.db.connectTimeoutSeconds,
  }).catch(exitIfDataDirInUse);
  try {
    const months = await archiveMonths(database.db, {
      before: args.before,
      out: args.out!,
      now: systemClock.now(),
      drop: args.drop,
    });
    if (!months.length) console.log(`no month partitions before ${args.before}`);
    for (const m of months)
      console.log(`${m.month}: ${m.events} events, ${m.transfers} transfers → ${args.out}/${m.month} (detached)`);
  } finally {
    await database.close();
  }
});
