// The token CLI as an operator meets it: --help, a token on stdout, and a wrong KEY_ENCRYPTION_SECRET or a bad
// configuration told in one line (exit 1), never a stack trace.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';

let dataDir: string;
const SECRET = 'right-secret-right-secret-right-secret';

/** Runs the CLI with the embedded database's key file under its own DATA_DIR (the key store on PostgreSQL opens the same key ring). */
function token(args: string[], env: Record<string, string> = {}) {
  const { DATABASE_URL: _ignored, ...base } = process.env;
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'src/cli/token.ts', ...args],
      { env: { ...base, NODE_ENV: 'test', DATA_DIR: dataDir, ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

beforeAll(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'registry-cli-'));
});
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

test('--help explains the flags and exits 0', async () => {
  for (const flag of ['--help', '-h']) {
    const r = await token([flag]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^Mints a staff token/);
    for (const f of ['--role', '--subject', '--ttl', 'KEY_ENCRYPTION_SECRET']) expect(r.stdout).toContain(f);
  }
});

test('a token on stdout with the right secret; with a wrong one, one clear line and exit 1', async () => {
  const ok = await token(['--role', 'auditor', '--subject', 'bob@example.com'], { KEY_ENCRYPTION_SECRET: SECRET });
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout.trim().split('.')).toHaveLength(3);

  const wrong = await token(['--role', 'auditor', '--subject', 'bob@example.com'], {
    KEY_ENCRYPTION_SECRET: 'wrong-secret-wrong-secret-wrong-secret',
  });
  expect(wrong.code).toBe(1);
  expect(wrong.stdout).toBe('');
  expect(wrong.stderr.trimEnd().split('\n')).toEqual([
    'token: Cannot decrypt the signing key: KEY_ENCRYPTION_SECRET is not the one it was encrypted with',
  ]);
});

test('a configuration error is told without a stack trace; a bad flag names itself (exit 2)', async () => {
  const short = await token(['--role', 'auditor', '--subject', 'bob@example.com'], {
    KEY_ENCRYPTION_SECRET: 'too-short',
  });
  expect(short.code).toBe(1);
  expect(short.stderr).toMatch(/^token: Invalid configuration:\n {2}KEY_ENCRYPTION_SECRET: /);
  expect(short.stderr).not.toMatch(/\n\s+at /);
  const flag = await token(['--rol', 'auditor']);
  expect(flag.code).toBe(2);
  expect(flag.stderr).toMatch(/'--rol'/);
});
