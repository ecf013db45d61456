// `npm run db:migrate`: applies the committed migrations to DATABASE_URL, or to the embedded database
// (which must not be open in a running server: PGlite admits one process).
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';

const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, max: 1 });
try {
  await database.migrate();
  console.log(`migrations applied to ${config.databaseUrl ? 'DATABASE_URL' : `${config.dataDir}/pglite`}`);
} finally {
  await database.close();
}
