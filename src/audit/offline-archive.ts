// The month archives an auditor holds (written by `npm run archive`, src/audit/archive.ts), read for the offline
// verifier: each month's manifest.json names its files with their SHA-256, and audit-events.jsonl holds each
// archived event's log entry by position. The registry serves an archived event without its entry, only its
// stored leaf; these entries are what that leaf is checked against (offline.ts), so that a server cannot hide an
// altered event by calling it archived.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Finding } from './offline.js';

export interface ArchiveEntries {
  /** Each archived event's log entry, by position. */
  entries: Map<number, string>;
  /** The month folders read. */
  months: string[];
  /** The manifests' checks: one finding per month folder (or per folder holding none). */
  findings: Finding[];
}

const MANIFEST = 'manifest.json';
const EVENTS = 'audit-events.jsonl';

/** Month folders: `dir` itself if it holds a manifest, else its sub-folders that do. */
function monthDirs(dir: string): string[] {
  if (existsSync(join(dir, MANIFEST))) return [dir];
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(dir, d.name, MANIFEST)))
    .map((d) => join(dir, d.name))
    .sort();
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Reads month archives (folders of one month, or folders of month folders); problems become failed findings. */
export function readArchives(dirs: string[]): ArchiveEntries {
  const out: ArchiveEntries = { entries: new Map(), months: [], findings: [] };
  for (const dir of dirs) {
    const months = monthDirs(dir);
    if (!months.length)
      out.findings.push({
        ok: false,
        check: 'archive manifest',
        detail: `${dir} holds no month archive (${MANIFEST})`,
      });
    for (const month of months) {
      out.months.push(month);
      const problems: string[] = [];
      let files: { name: string; sha256: string }[] = [];
      try {
        const manifest = JSON.parse(readFileSync(join(month, MANIFEST), 'utf8')) as { files?: unknown };
        if (!Array.isArray(manifest.files)) throw new Error('no list of files');
        files = manifest.files as { name: string; sha256: string }[];
      } catch (e) {
        problems.push(`${MANIFEST} is unreadable (${(e as Error).message})`);
      }
      if (!problems.length && !files.some((f) => f.name === EVENTS)) problems.push(`${MANIFEST} lists no ${EVENTS}`);
      for (const f of files) {
        const path = join(month, String(f.name));
        if (String(f.name).includes('/') || !existsSync(path)) problems.push(`${f.name} is missing`);
        else if (sha256(path) !== f.sha256) problems.push(`${f.name} does not have the SHA-256 ${MANIFEST} gives`);
      }
      // Entries are read even from a file that fails its manifest: each must still hash to the leaf the
      // registry serves, which is the check that matters; the manifest failure is reported on its own.
      if (existsSync(join(month, EVENTS)))
        for (const line of readFileSync(join(month, EVENTS), 'utf8').split('\n')) {
          if (!line.trim()) continue;
          try {
            const e = JSON.parse(line) as { position?: unknown; entry?: unknown };
            if (Number.isSafeInteger(e.position) && typeof e.entry === 'string')
              out.entries.set(e.position as number, e.entry);
            else problems.push(`${EVENTS} has a line without a position and entry`);
          } catch {
            problems.push(`${EVENTS} has a line that is not JSON`);
          }
        }
      out.findings.push({
        ok: problems.length === 0,
        check: 'archive manifest',
        detail: problems.length
          ? `${month}: ${[...new Set(problems)].join('; ')}`
          : `${month}: files as ${MANIFEST} says`,
      });
    }
  }
  return out;
}
