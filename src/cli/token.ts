// Mints a staff token: `npm run --silent token -- --role compliance --subject alice@example.com`.
// Prints only the JWT on stdout. Works while the server runs (on the embedded database it signs with the copy of
// the key set that the server keeps in DATA_DIR).
import { issueStaffToken } from '../auth/tokens.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { STAFF_ROLES, type StaffRole } from '../db/enums.js';
import { openKeyRing, tokenSettings } from '../services.js';
import { cliArgs, runCli } from './args.js';

const usage = 'npm run --silent token -- --role compliance|auditor --subject alice@example.com [--ttl seconds]';
const help = `Mints a staff token, signed with the service's key, and prints it on stdout.

usage: ${usage}

  --role      compliance (reads and writes the registry) or auditor (reads only)
  --subject   who the token is for, e.g. an e-mail address (at most 200 characters)
  --ttl       lifetime in seconds; default and maximum STAFF_TOKEN_TTL_SECONDS (8 hours unless set)
  -h, --help  this text

Reads the server's environment: DATABASE_URL (keys in PostgreSQL) or DATA_DIR (keys beside the embedded
database), and KEY_ENCRYPTION_SECRET, which must be the server's.`;
const args = cliArgs({ role: { type: 'string' }, subject: { type: 'string' }, ttl: { type: 'string' } }, usage, help);
const role = args.role?.toUpperCase() as StaffRole;
if (!STAFF_ROLES.includes(role)) {
  console.error(`--role must be compliance or auditor\nusage: ${usage}`);
  process.exit(2);
}
const subject = args.subject?.trim();
if (!subject || subject.length > 200) {
  console.error(`--subject is required (who the token is for, at most 200 characters)\nusage: ${usage}`);
  process.exit(2);
}

await runCli('token', async () => {
  const config = loadConfig();
  const ttl = args.ttl ? Number(args.ttl) : config.staffTokenTtlSeconds;
  if (!Number.isInteger(ttl) || ttl <= 0 || ttl > config.staffTokenTtlSeconds) {
    console.error(
      `--ttl must be a whole number of seconds up to ${config.staffTokenTtlSeconds} (STAFF_TOKEN_TTL_SECONDS)`,
    );
    process.exit(2);
  }
  const database = config.databaseUrl
    ? await openDatabase({
        databaseUrl: config.databaseUrl,
        max: 1,
        connectTimeoutSeconds: config.db.connectTimeoutSeconds,
      })
    : undefined;
  try {
    const keys = await openKeyRing(config, database);
    const { token } = await issueStaffToken(keys, tokenSettings(config), role, subject, ttl);
    process.stdout.write(`${token}\n`);
  } finally {
    await database?.close();
  }
});
