// The embedded database (PGlite under DATA_DIR) belongs to one process at a time. PGlite does not notice
// a second process on the same files: both run, each on its own copy in memory, and what one writes is
// lost to the other (a demo loaded beside the running server vanished at its next restart). So whoever
// opens it writes a lock file with its pid; the next one finds that process alive and stops with a message
// saying who holds the database, or finds it gone and takes the lock over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

export const LOCK_FILE = 'pglite.lock';

interface Holder {
  pid: number;
  startTime?: string;
  command: string;
  since: string;
}

/** The embedded database is held by another live process. Entry points print the message and exit. */
class DataDirInUseError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holder: Holder,
  ) {
    const lock = join(dataDir, LOCK_FILE);
    super(
      `The embedded database in ${dataDir} is in use by process ${holder.pid} (${holder.command}, since ${holder.since}). ` +
        `PGlite admits one process: stop that one first (npm run token works beside it). ` +
        `If process ${holder.pid} is not this service, delete ${lock}.`,
    );
    this.name = 'DataDirInUseError';
  }
}

/** When the process started (Linux: clock ticks since boot, /proc/<pid>/stat field 22); undefined elsewhere. */
function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/**
 * Whether the process that wrote the lock still runs. A pid alone can mislead: after a container restart
 * the same pid often belongs to another process (npm, a shell), so where the start time is known it must match.
 */
function alive(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    if ((e as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(holder.pid);
  return !holder.startTime || !now || holder.startTime === now;
}

function readHolder(path: string): Holder | undefined {
  try {
    const holder = JSON.parse(readFileSync(path, 'utf8')) as Holder;
    return Number.isInteger(holder.pid) && holder.pid > 0 ? holder : undefined;
  } catch {
    return undefined; // gone, or half written by a process that died while writing it
  }
}

/**
 * Takes the lock on `dataDir` for this process, or throws DataDirInUseError. Returns the release function;
 * the lock is also released when the process exits however it exits short of a kill -9 (then the next
 * opener finds the pid dead and takes over).
 */
export function lockDataDir(dataDir: string): () => void {
  const dir = resolve(dataDir);
  const path = join(dir, LOCK_FILE);
  const me: Holder = {
    pid: process.pid,
    startTime: startTime(process.pid),
    command: process.argv
      .slice(1)
      .map((a) => (a.includes('/') ? basename(a) : a))
      .join(' '),
    since: new Date().toISOString(),
  };
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, 'wx'); // fails if the file exists: only one opener can create it
      try {
        writeSync(fd, JSON.stringify(me));
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 2) throw e;
      const holder = readHolder(path);
      if (holder && alive(holder)) throw new DataDirInUseError(dir, holder);
      // Left by a process that is gone: take it over.
      try {
        unlinkSync(path);
      } catch {
        /* another opener removed it first; the next attempt decides */
      }
    }
  }
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off('exit', release);
    const holder = readHolder(path);
    if (holder?.pid === me.pid && holder.startTime === me.startTime) {
      try {
        unlinkSync(path);
      } catch {
        /* already gone */
      }
    }
  };
  process.on('exit', release);
  return release;
}

/** For entry points: a held database ends the process with the message alone (no stack trace) and exit code 1. */
export function exitIfDataDirInUse(e: unknown): never {
  if (!(e instanceof DataDirInUseError)) throw e;
  console.error(e.message);
  process.exit(1);
}
