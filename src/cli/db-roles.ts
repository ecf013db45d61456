// `npm run db:roles -- --admin postgres://postgres@host:5432/postgres`, with DATABASE_URL (the service's role)
// and MIGRATION_DATABASE_URL (the owner role) set: as that superuser, creates or corrects both roles (each with
// the password in its URL), creates the database if missing and makes the owner own it; safe to repeat. The
// administrator's password can come from PGPASSWORD rather than the command line. Then `npm run db:migrate`.
import { loadConfig } from '../config.js';
import { setUpDatabaseRoles } from '../db/roles.js';
import { cliArgs } from './args.js';

const usage =
  'DATABASE_URL=… MIGRATION_DATABASE_URL=… npm run db:roles -- --admin postgres://superuser@host:5432/postgres';
const { admin } = cliArgs({ admin: { type: 'string' } }, usage);
const config = loadConfig();
if (!admin || !config.databaseUrl || !config.migrationDatabaseUrl) {
  console.error(`--admin, DATABASE_URL and MIGRATION_DATABASE_URL are all required\nusage: ${usage}`);
  process.exit(2);
}
try {
  const r = await setUpDatabaseRoles(admin, config.migrationDatabaseUrl, config.databaseUrl);
  console.log(
    `database ${r.database}: ${r.owner} owns it and applies migrations; ${r.service} (the service) reads and writes rows only`,
  );
} catch (e) {
  console.error((e as Error).message);
  process.exit(1);
}
