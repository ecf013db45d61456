// `npm run demo`: loads the demo registry into the configured database, unless it has data already. On the
// embedded database the server must be stopped (PGlite admits one process: a running server holds it and this
// stops with a message saying so); or start the server with `npm start -- --demo`.
import { loadConfig } from '../config.js';
import { exitIfDataDirInUse } from '../db/data-dir-lock.js';
import { openServices, registryDeps } from '../services.js';
import { loadDemoIfEmpty } from './demo-data.js';

const config = loadConfig();
const services = await openServices(config).catch(exitIfDataDirInUse);
try {
  const { message } = await loadDemoIfEmpty(registryDeps(services));
  console.log(message);
} finally {
  await services.close();
}
