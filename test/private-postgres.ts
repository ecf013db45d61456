// A PostgreSQL server of the test's own: initdb into a temporary directory owned by the postgres user,
// its own port on 127.0.0.1, its own socket directory. Never the machine's shared server. Sessions and CI
// run as root and PostgreSQL refuses root, so every command runs through `runuser -u postgres`.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The bin directory of the newest installed PostgreSQL, or a reason why none can be used. */
export function findPostgres(): { bin: string } | { skip: string } {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return { skip: `no PostgreSQL binaries under ${root}` };
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions.length) return { skip: `no initdb under ${root}/*/bin` };
  if (process.getuid?.() === 0 && !/^postgres:/m.test(readFileSync('/etc/passwd', 'utf8'))) {
    return { skip: 'running as root but there is no postgres user to run PostgreSQL as' };
  }
  return { bin: join(root, versions[0]!, 'bin') };
}

/** A port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface PrivatePostgres {
  url: string;
  port: number;
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

/** A data directory to be, owned by the postgres user, and a way to run PostgreSQL's programs as that user. */
async function privateDirectory(bin: string) {
  const dir = mkdtempSync(join(tmpdir(), 'registry-pg-'));
  const asRoot = process.getuid?.() === 0;
  const uid = asRoot ? Number((await run('id', ['-u', 'postgres'])).stdout.trim()) : undefined;
  const gid = asRoot ? Number((await run('id', ['-g', 'postgres'])).stdout.trim()) : undefined;
  if (asRoot) chownSync(dir, uid!, gid!);
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args);
  return { dir, as, data: join(dir, 'data'), port: await freePort() };
}

/** Starts the cluster in `data` on `port` and returns its handle. */
async function serve({ dir, as, data, port }: Awaited<ReturnType<typeof privateDirectory>>): Promise<PrivatePostgres> {
  const opts = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c max_connections=50 -c fsync=on`;
  const start = async () => {
    await as('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', '-t', '30', 'start']);
  };
  await start();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    start,
    stop: async (mode = 'fast') => {
      await as('pg_ctl', ['-D', data, '-m', mode, '-w', '-t', '30', 'stop']);
    },
    destroy: async () => {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']).catch(() => {});
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startPrivatePostgres(bin: string): Promise<PrivatePostgres> {
  const d = await privateDirectory(bin);
  await d.as('initdb', ['-D', d.data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  return serve(d);
}

/**
 * A hot standby of `primary` (a private server above: initdb's defaults allow replication from 127.0.0.1),
 * copied with pg_basebackup and streaming from it, read-only, on a port of its own.
 */
export async function startStreamingReplica(bin: string, primary: PrivatePostgres): Promise<PrivatePostgres> {
  const d = await privateDirectory(bin);
  await d.as('pg_basebackup', [
    ...['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres', '-D', d.data],
    ...['--wal-method=stream', '--write-recovery-conf', '--checkpoint=fast', '--no-sync'],
  ]);
  return serve(d);
}
