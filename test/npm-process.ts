// The service and its commands as a user runs them from the README: `npm start`, `npm run demo`,
// `npm run --silent token`, as child processes on a data directory and a port of their own, on the
// embedded database (DATABASE_URL removed from their environment).
import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from './private-postgres.js';

const root = new URL('../', import.meta.url).pathname;

export function npmEnv(dataDir: string, env: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { DATABASE_URL: _, ...rest } = process.env;
  return {
    ...rest,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    NODE_ENV: 'development',
    LOG_LEVEL: 'warn',
    SHUTDOWN_DELAY_MS: '0',
    npm_config_update_notifier: 'false',
    ...env,
  };
}

export interface Exited {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion, collecting its output. */
export function run(
  command: string,
  args: string[],
  opts: { env: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number },
): Promise<Exited> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd ?? root, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => {
      stdout += String(d);
    });
    child.stderr!.on('data', (d) => {
      stderr += String(d);
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} timed out: ${stderr}`));
    }, opts.timeoutMs ?? 60_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `npm <args>` in the project to completion. */
export const npm = (args: string[], env: NodeJS.ProcessEnv) => run('npm', args, { env });

export interface Server {
  base: string;
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** npm's exit code, once npm and the node behind it are both gone. */
  exited: Promise<number | null>;
  /** SIGTERM to the whole process group (npm and the node it started); resolves once npm has exited. */
  stop(): Promise<void>;
}

/**
 * `npm start -- <args>` on its own port. Resolves once /ready answers, or once the process has exited (then
 * `base` answers nothing and `exited` tells how it ended).
 */
export async function npmStart(
  dataDir: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<Server> {
  const port = await freePort();
  // Its own process group, so that stop() reaches node behind npm.
  const child = spawn('npm', ['start', '--', ...args], {
    cwd: root,
    env: npmEnv(dataDir, { PORT: String(port), ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => {
    stdout += String(d);
  });
  child.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  // 'close', not 'exit': npm may exit first; the node behind it holds the same pipes until it is gone.
  const exited = new Promise<number | null>((r) => child.once('close', (code) => r(code)));
  const base = `http://127.0.0.1:${port}`;
  let gone = false;
  void exited.then(() => {
    gone = true;
  });
  for (let i = 0; i < 600 && !gone; i++) {
    try {
      if ((await fetch(`${base}/ready`)).ok) break;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    base,
    child,
    exited,
    output: () => ({ stdout, stderr }),
    stop: async () => {
      if (!gone) {
        try {
          process.kill(-child.pid!, 'SIGTERM');
        } catch {
          /* already gone */
        }
      }
      await exited;
    },
  };
}
