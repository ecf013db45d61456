// The embedded database (PGlite) with the benchmark's registry: offices, contractors, locations, grants, categories
// and obligations from the same set-based SQL as on PostgreSQL (bench/dataset.ts; no transfers, no shared records:
// the contractors page reads neither). Run by bench/run.ts as `node --import tsx bench/pglite-data.ts` with DATA_DIR
// (where the server on PGlite will then start) and BENCH_SCALE (quick or full); prints a staff token of that
// database's signing keys as JSON on stdout, and exits, releasing the data directory for the server.
import type postgres from 'postgres';
import { issueStaffToken } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';
import { FULL, QUICK, seedRegistry } from './dataset.js';

const config = loadConfig();
if (config.databaseUrl) throw new Error('pglite-data.ts builds the embedded database: DATABASE_URL must be unset');
const services = await openServices(config);
try {
  const pglite = services.database.pglite!;
  // What seedRegistry uses of postgres.js (a transaction, statements without parameters), over PGlite.
  const sql = {
    begin: (work: (tx: { unsafe(text: string): Promise<unknown> }) => Promise<void>) =>
      pglite.transaction((tx) => work({ unsafe: (text) => tx.exec(text) })),
    unsafe: (text: string) => pglite.exec(text),
  } as unknown as postgres.Sql;
  const scale = process.env.BENCH_SCALE === 'full' ? FULL : QUICK;
  await seedRegistry(sql, { ...scale, sharedRecords: 0 });
  await pglite.exec('vacuum analyze');
  const { token } = await issueStaffToken(
    services.keys,
    services.tokenSettings,
    'COMPLIANCE',
    'bench@example.com',
    3600,
  );
  console.log(JSON.stringify({ token }));
} finally {
  await services.close();
}
