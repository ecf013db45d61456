// The archive CLI as an operator meets it: --help, a missing or bad --before told in one line (exit 1), and a run
// on an embedded database with nothing old enough to archive. What archiving does is tested in partitions.test.ts.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';

let dataDir: string;

function cli(script: string, args: string[]) {
  const { DATABASE_URL: _ignored, MIGRATION_DATABASE_URL: _owner, ...base } = process.env;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, ...args],
      { env: { ...base, NODE_ENV: 'test', DATA_DIR: dataDir } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}
const archive = (args: string[]) => cli('src/cli/archive.ts', args);

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'registry-archive-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('--help explains the flags and exits 0', async () => {
  const r = await archive(['--help']);
  expect(r.code).toBe(0);
  for (const f of ['--before', '--out', '--drop']) expect(r.stdout).toContain(f);
});

test('a missing or malformed --before is one line and exit 1; nothing is archived', async () => {
  const missing = await archive([]);
  expect(missing.code).toBe(1);
  expect(missing.stderr.split('\n')[0]).toBe('archive: --before is required');
  expect((await cli('src/cli/migrate.ts', [])).code).toBe(0);
  const bad = await archive(['--before', '2024-13']);
  expect(bad.code).toBe(1);
  expect(bad.stderr.trimEnd()).toBe('archive: Invalid input: before: must be a month, YYYY-MM');
  const future = await archive(['--before', '2999-01']);
  expect(future.code).toBe(1);
  expect(future.stderr).toMatch(
    /^archive: Invalid input: before: must not be after the current month \(\d{4}-\d{2}\)\n$/,
  );
}, 180_000);

test('a database with no month before the one given: nothing to archive, exit 0', async () => {
  const month = new Date().toISOString().slice(0, 7);
  const r = await archive(['--before', month, '--out', join(dataDir, 'archive')]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.trim()).toBe(`no month partitions before ${month}`);
}, 180_000);
