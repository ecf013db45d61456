// Minimal `--name value` parsing for the CLI scripts, with a usage error that names the flag.
import { parseArgs } from 'node:util';

export function cliArgs<const O extends Record<string, { type: 'string' | 'boolean'; default?: string | boolean }>>(options: O, usage: string) {
  try {
    return parseArgs({ options, allowPositionals: false, strict: true }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\nusage: ${usage}`);
    process.exit(2);
  }
}
