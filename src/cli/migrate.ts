// `npm run db:migrate`: applies the committed migrations to DATABASE_URL — as the owner role in
// MIGRATION_DATABASE_URL when set, which then grants DATABASE_URL's role its privileges — or to the
// embedded database (which must not be open in a running server: PGlite admits one process, and this
// stops saying so).
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { exitIfDataDirInUse } from '../db/data-dir-lock.js';

const config = loadConfig();
const database = await openDatabase({
  databaseUrl: config.databaseUrl,
  migrationUrl: config.migrationDatabaseUrl,
  dataDir: config.dataDir,
  max: 1,
  connectTimeoutSeconds: config.db.connectTimeoutSeconds,
}).catch(exitIfDataDirInUse);
try {
  await database.migrate();
  const as = config.migrationDatabaseUrl ? ' as the owner in MIGRATION_DATABASE_URL' : '';
  console.log(`migrations applied to ${config.databaseUrl ? `DATABASE_URL${as}` : `${config.dataDir}/pglite`}`);
} finally {
  await database.close();
}
