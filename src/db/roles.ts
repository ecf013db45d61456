// Least privilege on PostgreSQL. Two roles: an owner that applies the migrations and owns every table,
// and the service's role, which may read and write rows and nothing more — no DDL, no TRUNCATE, no UPDATE
// or DELETE on the append-only history, only SELECT on what the registry held (its triggers write it), not a
// superuser (so it cannot set session_replication_role = replica, which skips triggers, the append-only ones
// included).
import postgres from 'postgres';
import { onlyRow } from './rows.js';

/** The role a PostgreSQL URL logs in as. */
export function roleOf(url: string): string {
  return decodeURIComponent(new URL(url).username);
}

function passwordOf(url: string): string | undefined {
  const p = new URL(url).password;
  return p ? decodeURIComponent(p) : undefined;
}

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/**
 * What the service's role may do in the current database; run by the owner (or a superuser) in a
 * transaction after every migration, so a new table is covered from its first release. Every table: SELECT,
 * INSERT, UPDATE, DELETE — except UPDATE and DELETE on the tables whose triggers call
 * refuse_history_change(), found through the triggers themselves, so an append-only table needs no entry here;
 * and INSERT too on the tables guarded by guard_history_period() (src/db/history.ts), which only triggers write.
 * Identity columns need no sequence privilege. The migrations journal is readable, so that the service
 * can see at start that no migration is pending without needing the right to apply one.
 */
export async function grantServicePrivileges(tx: postgres.TransactionSql, role: string): Promise<void> {
  // Instances starting together would otherwise update the same catalog rows at once ("tuple concurrently updated").
  await tx`select pg_advisory_xact_lock(hashtext('transfer-registry grants'))`;
  const history = await tx<{ name: string }[]>`
    select distinct c.relname as name from pg_trigger t
    join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and t.tgfoid = to_regproc('public.refuse_history_change')`;
  await tx`grant usage on schema public to ${tx(role)}`;
  await tx`revoke all on all tables in schema public from ${tx(role)}`;
  await tx`revoke all on all sequences in schema public from ${tx(role)}`;
  await tx`grant select, insert, update, delete on all tables in schema public to ${tx(role)}`;
  // Makes the coming months' partitions (SECURITY DEFINER, revoked from PUBLIC; src/db/partitions.ts).
  if (
    (await tx`select to_regprocedure('public.registry_ensure_partitions(timestamptz, integer)') is not null as e`)[0]?.e
  )
    await tx`grant execute on function registry_ensure_partitions(timestamptz, integer) to ${tx(role)}`;
  for (const { name } of history) await tx`revoke update, delete on ${tx(name)} from ${tx(role)}`;
  // What the registry held (src/db/history.ts) is written by the database's own triggers, never by the service.
  const versions = await tx<{ name: string }[]>`
    select distinct c.relname as name from pg_trigger t
    join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and t.tgfoid = to_regproc('public.guard_history_period')`;
  for (const { name } of versions) await tx`revoke insert on ${tx(name)} from ${tx(role)}`;
  const [journal] = await tx<
    { exists: boolean }[]
  >`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`;
  if (journal!.exists) {
    await tx`grant usage on schema drizzle to ${tx(role)}`;
    await tx`grant select on drizzle.__drizzle_migrations to ${tx(role)}`;
  }
}

async function ensureLoginRole(tx: postgres.TransactionSql, name: string, password: string | undefined) {
  const [existing] = await tx<{ rolsuper: boolean }[]>`select rolsuper from pg_roles where rolname = ${name}`;
  if (existing?.rolsuper) throw new Error(`Role ${name} is a superuser; name a role of its own for the registry`);
  const verb = existing ? 'alter' : 'create';
  // GRANT and CREATE ROLE take no parameters: format() quotes the name and the password.
  const { text } = onlyRow(
    await tx<{ text: string }[]>`select format(
    ${`${verb} role %I login nosuperuser nocreatedb nocreaterole noreplication nobypassrls${password === undefined ? '' : ' password %L'}`},
    ${name}::text, ${password ?? null}::text) as text`,
  );
  await tx.unsafe(text);
}

/**
 * `npm run db:roles`: as a superuser (`adminUrl`), creates or corrects the owner role named in `ownerUrl` and
 * the service's role named in `serviceUrl` (login, no superuser or other attributes; each with the password
 * in its URL, if any), creates the database they name if missing, makes the owner own it and everything in
 * it that another role owns (a database migrated before as a superuser), and grants the service's role its
 * privileges on what exists already. Safe to repeat; several runs at once wait for each other.
 */
export async function setUpDatabaseRoles(
  adminUrl: string,
  ownerUrl: string,
  serviceUrl: string,
): Promise<{ database: string; owner: string; service: string }> {
  const owner = roleOf(ownerUrl);
  const service = roleOf(serviceUrl);
  const database = databaseOf(serviceUrl);
  if (!owner || !service || owner === service)
    throw new Error('MIGRATION_DATABASE_URL and DATABASE_URL must name two different roles');
  if (databaseOf(ownerUrl) !== database)
    throw new Error('MIGRATION_DATABASE_URL and DATABASE_URL must name the same database');
  const options = { max: 1, onnotice: () => {} };
  const admin = postgres(adminUrl, options);
  try {
    await admin.begin(async (tx) => {
      // Roles belong to the whole server: parallel runs (test files) take turns.
      await tx`select pg_advisory_xact_lock(hashtext('transfer-registry roles'))`;
      const { me } = onlyRow(await tx<{ me: string }[]>`select current_user as me`);
      if (me === owner || me === service)
        throw new Error(`The administrator role ${me} cannot be the owner or the service's role`);
      await ensureLoginRole(tx, owner, passwordOf(ownerUrl));
      await ensureLoginRole(tx, service, passwordOf(serviceUrl));
    });
    const [found] = await admin<{ n: number }[]>`select 1 as n from pg_database where datname = ${database}`;
    if (!found) await admin`create database ${admin(database)} owner ${admin(owner)}`;
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${encodeURIComponent(database)}`;
  const db = postgres(url.toString(), options);
  try {
    await db.begin(async (tx) => {
      await tx`alter database ${tx(database)} owner to ${tx(owner)}`;
      await tx`grant connect on database ${tx(database)} to ${tx(service)}`;
      // Before PostgreSQL 15 every role could create tables in schema public.
      await tx`revoke create on schema public from public`;
      await tx`grant usage, create on schema public to ${tx(owner)}`;
      // Objects created before by another role (say, migrations applied as a superuser) pass to the owner.
      const others = await tx<{ kind: string; name: string }[]>`
        select 'table' as kind, format('%I.%I', schemaname, tablename) as name from pg_tables
          where schemaname in ('public', 'drizzle') and tableowner <> ${owner}
        union all select 'type', format('%I.%I', n.nspname, t.typname) from pg_type t join pg_namespace n on n.oid = t.typnamespace
          where n.nspname = 'public' and t.typtype in ('e', 'd') and pg_get_userbyid(t.typowner) <> ${owner}
        union all select 'function', p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and pg_get_userbyid(p.proowner) <> ${owner}
        union all select 'schema', 'drizzle' from pg_namespace where nspname = 'drizzle' and pg_get_userbyid(nspowner) <> ${owner}`;
      // A table's indexes and identity or serial sequences follow it.
      const { to } = onlyRow(await tx<{ to: string }[]>`select quote_ident(${owner}) as to`);
      for (const o of others) await tx.unsafe(`alter ${o.kind} ${o.name} owner to ${to}`);
      await grantServicePrivileges(tx, service);
    });
  } finally {
    await db.end();
  }
  return { database, owner, service };
}
