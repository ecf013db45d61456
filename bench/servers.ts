// Server processes for the benchmark: each a child `node --import tsx <entry>` on its own loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface ServerProcess {
  name: string;
  url: string;
  pid: number;
  /** Peak resident set (VmHWM) so far, in MiB. */
  peakMiB(): number;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

function peakMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * The V8 flags `npm start` runs the server with (package.json): a 64 MiB young generation, because a wide
 * page allocates many short-lived objects and the default 16 MiB sends too many of them through full
 * scavenges (contractors page ≈ 8% faster in process). Every server here gets them, the peer's included.
 */
const SERVER_NODE_FLAGS = ['--max-semi-space-size=64'];

/**
 * Starts `entry` with NODE_ENV=production and waits until `ready` answers. The child's stderr is kept
 * (last 4 KiB) to explain a failed start; its stdout (request logs) is discarded.
 */
export async function startServer(
  name: string,
  entry: string,
  env: Record<string, string>,
  opts: {
    ready: (url: string) => Promise<boolean>;
    path: string;
    nodeArgs?: string[];
    timeoutMs?: number;
    /** Where the entry is run from (another checkout, to compare two versions side by side); this one by default. */
    cwd?: string;
  },
): Promise<ServerProcess> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    process.execPath,
    [...SERVER_NODE_FLAGS, ...(opts.nodeArgs ?? []), '--import', 'tsx', entry],
    {
      env: { ...process.env, ...env, NODE_ENV: 'production', PORT: String(port), HOST: '127.0.0.1' },
      stdio: ['ignore', 'ignore', 'pipe'],
      cwd: opts.cwd,
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4096);
  });
  let exited: number | null = null;
  const exit = new Promise<void>((resolve) =>
    child.on('exit', (code) => {
      exited = code ?? -1;
      resolve();
    }),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  for (;;) {
    if (exited !== null) throw new Error(`${name} exited with ${exited} before it was ready:\n${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} was not ready within ${opts.timeoutMs ?? 60_000} ms:\n${stderr}`);
    }
    if (await opts.ready(base).catch(() => false)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const pid = child.pid!;
  return {
    name,
    url: base + opts.path,
    pid,
    peakMiB: () => peakMiB(pid),
    async stop() {
      if (exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** The environment every benchmark gives the registry's servers, on the benchmark's database. */
export function benchServerEnv(databaseUrl: string, dataDir: string): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dataDir,
    KEY_ENCRYPTION_SECRET: 'benchmark-key-encryption-secret-0123456789',
    // Off for the load generator, which sends far more than a client may (per token and per address).
    RATE_LIMIT_PER_TOKEN: '0',
    RATE_LIMIT_PER_ADDRESS: '0',
    // The default cost limit (50,000) refuses the contractors page issue 7 names (50 × 20 grants × categories, cost
    // 222,826): raised here only.
    MAX_QUERY_COST: '1000000',
  };
}

export const healthReady = async (base: string) => (await fetch(`${base}/health`)).ok;
