// The offline verifier for auditors: `npm run --silent verify -- --url https://registry.example --checkpoint saved.json`.
// Checks a live registry's audit log against a checkpoint saved earlier, using only what the registry serves over
// HTTP, and prints a report. Exit code 0: verified; 1: something failed (the report says what and where); 2: usage;
// 3: nothing failed but archived events were not checked (no --archive given).
import { readFileSync } from 'node:fs';
import { formatReport, isCheckpoint, verifyRemoteLog } from '../audit/offline.js';
import { readArchives } from '../audit/offline-archive.js';
import { cliArgs, runCli } from './args.js';

const usage =
  'npm run --silent verify -- --url <registry> --checkpoint saved.json [--events 3,17] [--sample n] [--full] [--archive dir]… [--json]';
const help = `Verifies a registry's audit log against a checkpoint saved earlier (curl <registry>/.well-known/audit-checkpoint > saved.json).

usage: ${usage}

  --url         the registry, e.g. https://registry.example
  --checkpoint  the saved checkpoint (JSON as served)
  --events      positions in the log whose inclusion to prove, comma-separated
  --sample      how many randomly chosen positions to prove as well (default 8)
  --full        also re-hash every event of the log and rebuild the tree
  --archive     a month archive (npm run archive) or a folder of them; repeatable. Each archive's files are
                checked against its manifest.json, and each event the registry serves as archived must be in
                one, with an entry that hashes to the leaf the registry serves
  --json        print the report as JSON
  -h, --help    this text

The auditor token is read from REGISTRY_TOKEN (a staff token with role AUDITOR).
Checks: both checkpoints' Ed25519 signatures (keys from /.well-known/audit-checkpoint-keys.json), that the log
still holds every event of the saved checkpoint, that today's signed tree extends the saved one (RFC 9162
consistency proof), the inclusion of chosen events, and with --full every entry.

Exit code: 0 verified; 1 a check failed; 2 usage; 3 nothing failed but events the registry serves as archived
were not verified (the registry no longer serves their entries: give their month archives with --archive).`;

const args = cliArgs(
  {
    url: { type: 'string' },
    checkpoint: { type: 'string' },
    events: { type: 'string' },
    sample: { type: 'string' },
    full: { type: 'boolean', default: false },
    archive: { type: 'string', multiple: true },
    json: { type: 'boolean', default: false },
  },
  usage,
  help,
);
const token = process.env.REGISTRY_TOKEN;
const events = (args.events ?? '')
  .split(',')
  .filter(Boolean)
  .map((e) => Number(e));
const sample = args.sample === undefined ? undefined : Number(args.sample);
if (!args.url || !args.checkpoint || !token || events.some((e) => !Number.isSafeInteger(e) || e < 1)) {
  console.error(
    `${!token ? 'REGISTRY_TOKEN must hold an auditor token\n' : ''}--url and --checkpoint are required; --events takes positive integers\nusage: ${usage}`,
  );
  process.exit(2);
}
if (sample !== undefined && !(Number.isSafeInteger(sample) && sample >= 0)) {
  console.error(`--sample takes a number of events\nusage: ${usage}`);
  process.exit(2);
}

await runCli('verify', async () => {
  const saved: unknown = JSON.parse(readFileSync(args.checkpoint!, 'utf8'));
  if (!isCheckpoint(saved)) throw new Error(`${args.checkpoint} is not a checkpoint as the registry serves it`);
  const archives = args.archive?.length ? readArchives(args.archive) : undefined;
  const report = await verifyRemoteLog({ url: args.url!, token, saved, events, sample, full: args.full, archives });
  console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
  if (report.verdict !== 'VERIFIED') process.exitCode = report.verdict === 'INCOMPLETE' ? 3 : 1;
});
