// `node --import tsx test/pglite-snapshot.ts <file>`: migrates an empty in-memory PGlite with the app's own
// migrate() and writes a tarball of its data directory to <file>. The test run's globalSetup runs this in a
// process of its own, so the ~1 GB a fresh PGlite cluster takes is returned when it exits instead of
// staying with vitest's main process for the whole run.
import { writeFileSync } from 'node:fs';
import { openDatabase } from '../src/db/client.js';

const [file] = process.argv.slice(2);
if (!file) throw new Error('usage: test/pglite-snapshot.ts <file>');
const database = await openDatabase({ memory: true });
try {
  await database.migrate();
  // Uncompressed: gunzip on every load costs more than reading 40 MB.
  const dump = await database.pglite!.dumpDataDir('none');
  writeFileSync(file, Buffer.from(await dump.arrayBuffer()));
} finally {
  await database.close();
}
