// The offline verifier for auditors: `npm run --silent verify -- --url https://registry.example --checkpoint saved.json`.
// Checks a live registry's audit log against a checkpoint saved earlier, using only what the registry serves over
// HTTP, and prints a report; or, with --pack, an evidence pack on its own (--url: against the published keys).
// Exit code 0: verified; 1: something failed (the report says what and where); 2: usage.
import { readFileSync } from 'node:fs';
import type { Checkpoint } from '../audit/checkpoint.js';
import { formatReport, isCheckpoint, verifyRemoteLog } from '../audit/offline.js';
import { formatPackReport, verifyPack } from '../audit/pack.js';
import { cliArgs, runCli } from './args.js';

const usage =
  'npm run --silent verify -- --url <registry> --checkpoint saved.json [--events 3,17] [--sample n] [--full] [--rows] [--json]\n       npm run --silent verify -- --pack evidence-pack.zip [--url <registry> | --checkpoint saved.json] [--json]';
const help = `Verifies a registry's audit log against a checkpoint saved earlier (curl <registry>/.well-known/audit-checkpoint > saved.json).

usage: ${usage}

  --url         the registry, e.g. https://registry.example
  --checkpoint  the saved checkpoint (JSON as served)
  --events      positions in the log whose inclusion to prove, comma-separated
  --sample      how many randomly chosen positions to prove as well (default 8)
  --full        also re-hash every event of the log and rebuild the tree
  --rows        also re-hash every evidence row (transfers, grants, policy, tokens…) and compare it with the
                hash the newest event that wrote it carries; names each row altered, deleted, or written by no
                event (implies --full)
  --pack        check an evidence pack instead: every file against the manifest, the manifest's signature, the
                checkpoint's signature and every inclusion proof against its root. With --url, the keys are the
                ones the registry publishes (proof of who made it); without, the pack's own (proof it is whole),
                and a --checkpoint saved from the registry earlier pins the checkpoint's key
  --json        print the report as JSON
  -h, --help    this text

The auditor token is read from REGISTRY_TOKEN (a staff token with role AUDITOR).
Checks: both checkpoints' Ed25519 signatures (keys from /.well-known/audit-checkpoint-keys.json), that the log
still holds every event of the saved checkpoint, that today's signed tree extends the saved one (RFC 9162
consistency proof), the inclusion of chosen events, with --full every entry, with --rows every evidence row.`;

const args = cliArgs(
  {
    url: { type: 'string' },
    checkpoint: { type: 'string' },
    events: { type: 'string' },
    sample: { type: 'string' },
    full: { type: 'boolean', default: false },
    rows: { type: 'boolean', default: false },
    pack: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
  usage,
  help,
);
if (args.pack) {
  const file = args.pack;
  await runCli('verify', async () => {
    let saved: Checkpoint | undefined;
    if (args.checkpoint) {
      const c: unknown = JSON.parse(readFileSync(args.checkpoint, 'utf8'));
      if (!isCheckpoint(c)) throw new Error(`${args.checkpoint} is not a checkpoint as the registry serves it`);
      saved = c;
    }
    const report = await verifyPack(readFileSync(file), { file, url: args.url, saved });
    console.log(args.json ? JSON.stringify(report, null, 2) : formatPackReport(report));
    if (!report.ok) process.exitCode = 1;
  });
} else await verifyLog();

async function verifyLog() {
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
    const report = await verifyRemoteLog({
      url: args.url!,
      token,
      saved,
      events,
      sample,
      full: args.full,
      rows: args.rows,
    });
    console.log(args.json ? JSON.stringify(report, null, 2) : formatReport(report));
    if (!report.ok) process.exitCode = 1;
  });
}
