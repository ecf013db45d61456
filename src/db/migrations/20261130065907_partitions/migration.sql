CREATE TABLE "audit_archives" (
	"month" text PRIMARY KEY,
	"events" bigint NOT NULL,
	"transfers" bigint NOT NULL,
	"event_seqs" int8multirange NOT NULL,
	"transfer_ids" int8multirange NOT NULL,
	"row_hashes" jsonb NOT NULL,
	"files" jsonb NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "audit_seals" DROP CONSTRAINT "audit_seals_event_seq_audit_events_seq_fkey";--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_pkey";--> statement-breakpoint
ALTER TABLE "audit_events" ADD PRIMARY KEY ("seq","occurred_at");--> statement-breakpoint
ALTER TABLE "transfers" DROP CONSTRAINT "transfers_pkey";--> statement-breakpoint
ALTER TABLE "transfers" ADD PRIMARY KEY ("id","occurred_at");--> statement-breakpoint
-- Hand-written (drizzle cannot express partitioning): transfers and audit_events become tables partitioned by
-- month on occurred_at (UTC months), each with a default partition for rows no month covers; existing rows are
-- carried over. src/db/partitions.ts calls registry_ensure_partitions at start and on a timer.
--
-- registry_month_partition(parent, month): creates <parent>_YYYY_MM for the month if it is missing and the month
-- was not archived, moving in any rows of the month that waited in the default partition meanwhile (a write
-- never waits for a partition: the default takes it). Runs as the owner (SECURITY DEFINER); only the owner may
-- call it (the service's role calls registry_ensure_partitions), and only for the two partitioned tables.
-- One caller at a time (advisory lock), then both tables locked ACCESS EXCLUSIVE in the writers' order
-- (transfers, then audit_events): CREATE … PARTITION OF needs that lock anyway, and taking it first means no
-- write commits while rows are moved (none is lost between reading and deleting) and no lock is taken in an
-- order a writer could deadlock with.
CREATE FUNCTION registry_month_partition(parent regclass, month date) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  first date := date_trunc('month', month)::date;
  lo timestamptz := date_trunc('month', month)::timestamp AT TIME ZONE 'UTC';
  hi timestamptz := (date_trunc('month', month) + interval '1 month')::timestamp AT TIME ZONE 'UTC';
  base text := (SELECT relname FROM pg_class WHERE oid = parent);
  part text := base || '_' || to_char(first, 'YYYY_MM');
  dflt text := base || '_default';
  moved bigint;
BEGIN
  IF parent IS NULL OR parent NOT IN ('public.transfers'::regclass, 'public.audit_events'::regclass) THEN
    RAISE EXCEPTION 'registry_month_partition: % is not a partitioned history table', parent
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF to_regclass(format('public.%I', part)) IS NOT NULL THEN RETURN; END IF;
  PERFORM pg_advisory_xact_lock(hashtext('registry month partitions'));
  IF to_regclass(format('public.%I', part)) IS NOT NULL
    OR EXISTS (SELECT 1 FROM audit_archives WHERE audit_archives.month = to_char(first, 'YYYY-MM')) THEN
    RETURN;
  END IF;
  LOCK TABLE transfers, audit_events IN ACCESS EXCLUSIVE MODE;
  -- Moved, not changed: the append-only guard is lifted for this one statement of the owner's. One statement
  -- deletes and keeps what it deleted: nothing is deleted that is not kept.
  EXECUTE format('ALTER TABLE %I DISABLE TRIGGER %I', dflt, base || '_append_only');
  EXECUTE format('CREATE TEMP TABLE registry_moving ON COMMIT DROP AS SELECT * FROM %I WITH NO DATA', dflt);
  EXECUTE format('WITH m AS (DELETE FROM %I WHERE occurred_at >= %L AND occurred_at < %L RETURNING *) INSERT INTO registry_moving SELECT * FROM m', dflt, lo, hi);
  GET DIAGNOSTICS moved = ROW_COUNT;
  EXECUTE format('ALTER TABLE %I ENABLE TRIGGER %I', dflt, base || '_append_only');
  EXECUTE format('CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)', part, parent, lo, hi);
  -- Row triggers are cloned to every partition; TRUNCATE of a partition needs its own guard.
  EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change()', part || '_no_truncate', part);
  IF moved > 0 THEN
    EXECUTE format('INSERT INTO %s OVERRIDING SYSTEM VALUE SELECT * FROM registry_moving', parent);
  END IF;
  DROP TABLE registry_moving;
END;
$$;
--> statement-breakpoint
REVOKE EXECUTE ON FUNCTION registry_month_partition(regclass, date) FROM PUBLIC;
--> statement-breakpoint
-- The month of `around` and the `ahead` months after it, for both tables.
CREATE FUNCTION registry_ensure_partitions(around timestamptz, ahead integer) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  m date;
BEGIN
  FOR i IN 0..ahead LOOP
    m := (date_trunc('month', around AT TIME ZONE 'UTC') + make_interval(months => i))::date;
    PERFORM registry_month_partition('transfers'::regclass, m);
    PERFORM registry_month_partition('audit_events'::regclass, m);
  END LOOP;
END;
$$;
--> statement-breakpoint
-- Executed by the owner and by the service's role only (granted in src/db/roles.ts).
REVOKE EXECUTE ON FUNCTION registry_ensure_partitions(timestamptz, integer) FROM PUBLIC;
--> statement-breakpoint
-- transfers: the old table is renamed and stripped of its indexes, key and identity (their names pass to the new
-- table), its rows copied into the partitioned one, then dropped. Nothing references transfers by foreign key.
-- audit_events the same way. audit_seals no longer references it (dropped above): a seal outlives its archived event.
ALTER TABLE transfers RENAME TO transfers_unpartitioned;
--> statement-breakpoint
ALTER TABLE audit_events RENAME TO audit_events_unpartitioned;
--> statement-breakpoint
DO $$
DECLARE
  r record;
BEGIN
  FOR r IN SELECT indexrelid::regclass::text AS name FROM pg_index
    WHERE indrelid IN ('transfers_unpartitioned'::regclass, 'audit_events_unpartitioned'::regclass) AND NOT indisprimary LOOP
    EXECUTE 'DROP INDEX ' || r.name;
  END LOOP;
END;
$$;
--> statement-breakpoint
ALTER TABLE transfers_unpartitioned DROP CONSTRAINT transfers_pkey;
--> statement-breakpoint
ALTER TABLE transfers_unpartitioned ALTER COLUMN id DROP IDENTITY;
--> statement-breakpoint
ALTER TABLE audit_events_unpartitioned DROP CONSTRAINT audit_events_pkey;
--> statement-breakpoint
ALTER TABLE audit_events_unpartitioned ALTER COLUMN seq DROP IDENTITY;
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "transfers_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"occurred_at" timestamp(3) with time zone NOT NULL,
	"kind" "transfer_kind" NOT NULL,
	"exporter_office_id" integer NOT NULL,
	"exporter_contractor_id" integer,
	"exporter_country" char(2) NOT NULL,
	"importer_kind" "importer_kind" NOT NULL,
	"importer_contractor_id" integer,
	"importer_office_id" integer,
	"importer_authority" text,
	"importer_country" char(2) NOT NULL,
	"categories" text[] NOT NULL,
	"purpose" "purpose" NOT NULL,
	"mechanism" "mechanism" NOT NULL,
	"scc_module" smallint,
	"derogation_justification" text,
	"policy_explanation" text NOT NULL,
	"record_count" integer NOT NULL,
	"cross_border" boolean NOT NULL,
	"third_country" boolean NOT NULL,
	"grant_id" integer,
	"disclosure_request_id" integer,
	"access_token_id" integer,
	"recorded_by" text NOT NULL,
	"origin_country" char(2),
	CONSTRAINT "transfers_pkey" PRIMARY KEY("id","occurred_at"),
	CONSTRAINT "transfers_record_count" CHECK ("record_count" >= 0),
	CONSTRAINT "transfers_categories_nonempty" CHECK (cardinality("categories") > 0),
	CONSTRAINT "transfers_importer" CHECK (("importer_kind" = 'CONTRACTOR') = ("importer_contractor_id" is not null)
    and ("importer_kind" = 'OFFICE') = ("importer_office_id" is not null)
    and ("importer_kind" = 'AUTHORITY') = ("importer_authority" is not null)),
	CONSTRAINT "transfers_scc_module" CHECK (("mechanism"::text in ('SCC', 'UK_ADDENDUM')) = ("scc_module" is not null))
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE INDEX "transfers_time_idx" ON "transfers" ("occurred_at","id");--> statement-breakpoint
CREATE INDEX "transfers_contractor_idx" ON "transfers" ("importer_contractor_id","occurred_at","id");--> statement-breakpoint
CREATE INDEX "transfers_importer_country_idx" ON "transfers" ("importer_country","occurred_at","id");--> statement-breakpoint
CREATE INDEX "transfers_purpose_idx" ON "transfers" ("purpose","occurred_at","id");--> statement-breakpoint
CREATE INDEX "transfers_kind_idx" ON "transfers" ("kind","occurred_at","id");--> statement-breakpoint
CREATE INDEX "transfers_mechanism_idx" ON "transfers" ("mechanism","occurred_at","id");--> statement-breakpoint
CREATE INDEX "transfers_categories_idx" ON "transfers" USING gin ("categories");--> statement-breakpoint
CREATE INDEX "transfers_cross_border_idx" ON "transfers" ("occurred_at","id") WHERE "cross_border";--> statement-breakpoint
CREATE INDEX "transfers_third_country_idx" ON "transfers" ("occurred_at","id") WHERE "third_country";--> statement-breakpoint
CREATE INDEX "transfers_exporter_office_idx" ON "transfers" ("exporter_office_id");--> statement-breakpoint
CREATE INDEX "transfers_exporter_contractor_idx" ON "transfers" ("exporter_contractor_id") WHERE "exporter_contractor_id" is not null;--> statement-breakpoint
CREATE INDEX "transfers_importer_office_idx" ON "transfers" ("importer_office_id") WHERE "importer_office_id" is not null;--> statement-breakpoint
CREATE INDEX "transfers_grant_idx" ON "transfers" ("grant_id") WHERE "grant_id" is not null;--> statement-breakpoint
CREATE INDEX "transfers_disclosure_idx" ON "transfers" ("disclosure_request_id") WHERE "disclosure_request_id" is not null;--> statement-breakpoint
CREATE INDEX "transfers_access_token_idx" ON "transfers" ("access_token_id") WHERE "access_token_id" is not null;--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_exporter_office_id_offices_id_fkey" FOREIGN KEY ("exporter_office_id") REFERENCES "offices"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_exporter_contractor_id_contractors_id_fkey" FOREIGN KEY ("exporter_contractor_id") REFERENCES "contractors"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_importer_contractor_id_contractors_id_fkey" FOREIGN KEY ("importer_contractor_id") REFERENCES "contractors"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_importer_office_id_offices_id_fkey" FOREIGN KEY ("importer_office_id") REFERENCES "offices"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_grant_id_grants_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "grants"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_disclosure_request_id_disclosure_requests_id_fkey" FOREIGN KEY ("disclosure_request_id") REFERENCES "disclosure_requests"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_access_token_id_access_tokens_id_fkey" FOREIGN KEY ("access_token_id") REFERENCES "access_tokens"("id");--> statement-breakpoint
CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers FOR EACH ROW EXECUTE FUNCTION refuse_history_change();--> statement-breakpoint
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();--> statement-breakpoint
CREATE TABLE transfers_default PARTITION OF transfers DEFAULT;--> statement-breakpoint
CREATE TRIGGER transfers_default_no_truncate BEFORE TRUNCATE ON transfers_default FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigint GENERATED BY DEFAULT AS IDENTITY (sequence name "audit_events_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"occurred_at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"actor_role" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"xid" xid8 DEFAULT pg_current_xact_id() NOT NULL,
	"row_hashes" jsonb DEFAULT '[]'::jsonb NOT NULL,
	CONSTRAINT "audit_events_pkey" PRIMARY KEY("seq","occurred_at")
) PARTITION BY RANGE ("occurred_at");
--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" ("actor","seq");--> statement-breakpoint
CREATE INDEX "audit_events_entity_idx" ON "audit_events" ("entity_type","entity_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_time_idx" ON "audit_events" ("occurred_at");--> statement-breakpoint
CREATE INDEX "audit_events_xid_idx" ON "audit_events" ("xid","seq");--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_history_change();--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();--> statement-breakpoint
CREATE TABLE audit_events_default PARTITION OF audit_events DEFAULT;--> statement-breakpoint
CREATE TRIGGER audit_events_default_no_truncate BEFORE TRUNCATE ON audit_events_default FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();--> statement-breakpoint
-- A partition per month that holds rows, then the rows; the month of the migration and the next three too.
DO $$
DECLARE
  m date;
BEGIN
  FOR m IN SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date FROM transfers_unpartitioned LOOP
    PERFORM registry_month_partition('transfers'::regclass, m);
  END LOOP;
  FOR m IN SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC')::date FROM audit_events_unpartitioned LOOP
    PERFORM registry_month_partition('audit_events'::regclass, m);
  END LOOP;
  PERFORM registry_ensure_partitions(now(), 3);
END;
$$;
--> statement-breakpoint
INSERT INTO transfers (id, occurred_at, kind, exporter_office_id, exporter_contractor_id, exporter_country, importer_kind, importer_contractor_id, importer_office_id, importer_authority, importer_country, categories, purpose, mechanism, scc_module, derogation_justification, policy_explanation, record_count, cross_border, third_country, grant_id, disclosure_request_id, access_token_id, recorded_by, origin_country)
  OVERRIDING SYSTEM VALUE
  SELECT id, occurred_at, kind, exporter_office_id, exporter_contractor_id, exporter_country, importer_kind, importer_contractor_id, importer_office_id, importer_authority, importer_country, categories, purpose, mechanism, scc_module, derogation_justification, policy_explanation, record_count, cross_border, third_country, grant_id, disclosure_request_id, access_token_id, recorded_by, origin_country
  FROM transfers_unpartitioned;
--> statement-breakpoint
INSERT INTO audit_events (seq, occurred_at, actor, actor_role, action, entity_type, entity_id, before, after, xid, row_hashes)
  OVERRIDING SYSTEM VALUE
  SELECT seq, occurred_at, actor, actor_role, action, entity_type, entity_id, before, after, xid, row_hashes FROM audit_events_unpartitioned;
--> statement-breakpoint
DROP TABLE transfers_unpartitioned;
--> statement-breakpoint
-- The monthly volume's statistics (migration …_contractor_name_month_stats) went with the old table.
CREATE STATISTICS "transfers_month_stats" ON (date_trunc('month', "occurred_at" at time zone 'UTC')) FROM "transfers";
--> statement-breakpoint
DROP TABLE audit_events_unpartitioned;
--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('transfers', 'id'), coalesce(max(id), 0) + 1, false) FROM transfers;
--> statement-breakpoint
SELECT setval(pg_get_serial_sequence('audit_events', 'seq'), coalesce(max(seq), 0) + 1, false) FROM audit_events;
--> statement-breakpoint
CREATE TRIGGER audit_archives_append_only BEFORE UPDATE OR DELETE ON audit_archives FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
--> statement-breakpoint
CREATE TRIGGER audit_archives_no_truncate BEFORE TRUNCATE ON audit_archives FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
