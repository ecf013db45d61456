// Minimal `--name value` parsing for the CLI scripts, with a usage error that names the flag, `--help`, and one
// line instead of a stack trace when the script fails.
import { parseArgs } from 'node:util';

/** Parses `options`; `--help` (or `-h`) prints `help` and exits 0, a bad flag prints the error and `usage` and exits 2. */
export function cliArgs<
  const O extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean; multiple?: boolean }>,
>(options: O, usage: string, help = `usage: ${usage}`) {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(help);
    process.exit(0);
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\nusage: ${usage}`);
    process.exit(2);
  }
}

/**
 * Runs a script's work. A failure (a configuration error, a KEY_ENCRYPTION_SECRET that does not open the signing
 * keys, an unreachable database) ends it with one line on stderr and exit code 1: the message is written for the
 * operator, a stack trace only hides it.
 */
export async function runCli(name: string, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (e) {
    console.error(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    process.exitCode = 1;
  }
}
