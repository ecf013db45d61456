// The benchmark's reference servers, built from the same createApp as src/server.ts:
//   BENCH_VERIFY=off       token checking switched off: deps.verify returns the principal in BENCH_PRINCIPAL (JSON);
//   BENCH_VERIFY=uncached  the real verifier without its cache (openServices with tokenCache: false).
// Only the benchmark builds these. Started by bench/run.ts as `node --import tsx bench/noauth-server.ts`.
import { createServer } from 'node:http';
import { createApp } from '../src/app.js';
import type { Principal } from '../src/auth/principal.js';
import { loadConfig } from '../src/config.js';
import { openServices } from '../src/services.js';

const mode = process.env.BENCH_VERIFY;
if (mode !== 'off' && mode !== 'uncached') throw new Error('BENCH_VERIFY must be off or uncached');
const config = loadConfig();
const services = await openServices(config, { migrate: false, tokenCache: mode !== 'uncached' });
let deps = services;
if (mode === 'off') {
  const p = JSON.parse(process.env.BENCH_PRINCIPAL ?? 'null') as (Principal & { expiresAt: string }) | null;
  if (!p) throw new Error('BENCH_PRINCIPAL is required with BENCH_VERIFY=off');
  const principal = { ...p, expiresAt: new Date(p.expiresAt) } as Principal;
  deps = { ...services, verify: async () => principal };
}
const server = createServer(createApp(deps));
server.keepAliveTimeout = 5_000;
server.listen(config.port, config.host);
const stop = () => server.close(() => void services.close().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
