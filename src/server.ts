// HTTP listener with graceful shutdown: on SIGTERM/SIGINT readiness fails first, requests in flight
// finish, then the database closes and the process exits (forced after SHUTDOWN_GRACE_MS).
import { createServer, type ServerResponse } from 'node:http';
import { createApp } from './app.js';
import { loadDemoIfEmpty } from './cli/demo-data.js';
import { loadConfig } from './config.js';
import { isPostgresWriteAfterClose } from './db/client.js';
import { exitIfDataDirInUse } from './db/data-dir-lock.js';
import { nodeListener, survivePartialAnswers } from './http/node-listener.js';
import { openServices, registryDeps } from './services.js';

const config = loadConfig();
// On the embedded database, a second process (another server, npm run demo) stops here with a message.
const services = await openServices(config).catch(exitIfDataDirInUse);
let accepting = true;
const app = createApp({ ...services, isAccepting: () => accepting });

if (process.argv.includes('--demo')) {
  const { loaded, message } = await loadDemoIfEmpty(registryDeps(services));
  console.log(JSON.stringify({ msg: message, demo: loaded ? 'loaded' : 'not loaded' }));
}
// Once the listener has closed, every response still to be sent says `Connection: close`: a keep-alive
// client that keeps sending on its socket would otherwise hold server.close() open until the grace ran out.
let listenerClosed = false;
const unsent = new Set<ServerResponse>();
const answer = nodeListener(app);
const server = createServer((req, res) => {
  if (listenerClosed) res.setHeader('connection', 'close');
  else {
    unsent.add(res);
    res.once('close', () => unsent.delete(res));
  }
  return answer(req, res);
});
server.keepAliveTimeout = 5_000;
// Slow clients cannot hold a socket: headers within 10 s, the whole request within the deadline plus 10 s.
server.headersTimeout = 10_000;
server.requestTimeout = config.requestTimeoutMs + 10_000;

server.listen(config.port, config.host, () => {
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
  console.log(
    JSON.stringify({
      msg: 'listening',
      url: `http://localhost:${config.port}/graphql`,
      database: where,
      env: config.env,
    }),
  );
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  accepting = false;
  console.log(JSON.stringify({ msg: 'shutting down', signal }));
  const force = setTimeout(() => {
    console.error(JSON.stringify({ msg: 'grace period over, exiting' }));
    process.exit(1);
  }, config.shutdownGraceMs);
  force.unref();
  // Readiness already fails; keep serving briefly so load balancers stop sending before connections are refused.
  if (config.shutdownDelayMs > 0)
    await new Promise((r) => setTimeout(r, Math.min(config.shutdownDelayMs, config.shutdownGraceMs / 2)));
  listenerClosed = true;
  for (const res of unsent) if (!res.headersSent) res.setHeader('connection', 'close');
  server.close(async () => {
    await services.close();
    console.log(JSON.stringify({ msg: 'stopped' }));
    process.exit(0);
  });
  server.closeIdleConnections();
}
// One known driver fault survives (see isPostgresWriteAfterClose); any other uncaught exception ends the process.
process.on('uncaughtException', (e) => {
  if (isPostgresWriteAfterClose(e)) {
    console.error(
      JSON.stringify({ msg: 'postgres.js wrote to a closed connection; continuing', errorType: 'TypeError' }),
    );
    return;
  }
  console.error(
    JSON.stringify({
      msg: 'uncaught exception, exiting',
      errorType: (e as object)?.constructor?.name,
      at: String((e as Error)?.stack ?? '')
        .split('\n')
        .slice(1, 6)
        .map((l) => l.trim()),
    }),
  );
  process.exit(1);
});
survivePartialAnswers();
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
