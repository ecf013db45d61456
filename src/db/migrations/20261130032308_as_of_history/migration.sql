CREATE TABLE "contractors_history" (
	"version_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "contractors_history_version_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" integer NOT NULL,
	"legal_name" text NOT NULL,
	"country" char(2) NOT NULL,
	"services" "service"[] NOT NULL,
	"role" "contractor_role" NOT NULL,
	"parent_contractor_id" integer,
	"status" "contractor_status" NOT NULL,
	"status_reason" text,
	"status_changed_at" timestamp with time zone,
	"contact_name" text,
	"contact_email" text,
	"contract_reference" text,
	"dpa_signed_on" date,
	"certifications" "certification"[] NOT NULL,
	"version" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"held_from" timestamp with time zone NOT NULL,
	"held_until" timestamp with time zone,
	CONSTRAINT "contractors_history_period" CHECK ("held_until" is null or "held_until" >= "held_from")
);
--> statement-breakpoint
CREATE TABLE "grants_history" (
	"version_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "grants_history_version_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" integer NOT NULL,
	"contractor_id" integer NOT NULL,
	"office_id" integer NOT NULL,
	"purpose" "purpose" NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_until" timestamp with time zone,
	"mechanism" "mechanism" NOT NULL,
	"scc_module" smallint,
	"tia_reference" text,
	"tia_date" date,
	"cross_border" boolean NOT NULL,
	"policy_explanation" text NOT NULL,
	"status" "grant_status" NOT NULL,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	"suspended_by_policy_from" timestamp with time zone,
	"policy_suspension_reason" text,
	"suspended_by_change_id" integer,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"held_from" timestamp with time zone NOT NULL,
	"held_until" timestamp with time zone,
	CONSTRAINT "grants_history_period" CHECK ("held_until" is null or "held_until" >= "held_from")
);
--> statement-breakpoint
CREATE TABLE "obligations_history" (
	"version_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "obligations_history_version_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" integer NOT NULL,
	"contractor_id" integer NOT NULL,
	"kind" "obligation_kind" NOT NULL,
	"text" text NOT NULL,
	"source_document" text NOT NULL,
	"clause" text,
	"breach_notification_hours" integer,
	"effective_from" date NOT NULL,
	"expires_on" date,
	"review_due_on" date,
	"acknowledged_by" text,
	"acknowledged_at" timestamp with time zone,
	"created_at" timestamp with time zone NOT NULL,
	"held_from" timestamp with time zone NOT NULL,
	"held_until" timestamp with time zone,
	CONSTRAINT "obligations_history_period" CHECK ("held_until" is null or "held_until" >= "held_from")
);
--> statement-breakpoint
CREATE TABLE "offices_history" (
	"version_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "offices_history_version_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" integer NOT NULL,
	"name" text NOT NULL,
	"legal_entity" text NOT NULL,
	"country" char(2) NOT NULL,
	"city" text NOT NULL,
	"is_headquarters" boolean NOT NULL,
	"version" integer NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	"held_from" timestamp with time zone NOT NULL,
	"held_until" timestamp with time zone,
	CONSTRAINT "offices_history_period" CHECK ("held_until" is null or "held_until" >= "held_from")
);
--> statement-breakpoint
CREATE TABLE "processing_locations_history" (
	"version_id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "processing_locations_history_version_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"id" integer NOT NULL,
	"contractor_id" integer NOT NULL,
	"country" char(2) NOT NULL,
	"operations" "operation"[] NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"held_from" timestamp with time zone NOT NULL,
	"held_until" timestamp with time zone,
	CONSTRAINT "processing_locations_history_period" CHECK ("held_until" is null or "held_until" >= "held_from")
);
--> statement-breakpoint
CREATE INDEX "contractors_history_id_idx" ON "contractors_history" ("id","held_from");--> statement-breakpoint
CREATE INDEX "contractors_history_parent_idx" ON "contractors_history" ("parent_contractor_id","held_from");--> statement-breakpoint
CREATE INDEX "grants_history_id_idx" ON "grants_history" ("id","held_from");--> statement-breakpoint
CREATE INDEX "grants_history_contractor_idx" ON "grants_history" ("contractor_id","id","held_from");--> statement-breakpoint
CREATE INDEX "grants_history_office_idx" ON "grants_history" ("office_id","held_from");--> statement-breakpoint
CREATE INDEX "obligations_history_id_idx" ON "obligations_history" ("id","held_from");--> statement-breakpoint
CREATE INDEX "obligations_history_contractor_idx" ON "obligations_history" ("contractor_id","id","held_from");--> statement-breakpoint
CREATE INDEX "offices_history_id_idx" ON "offices_history" ("id","held_from");--> statement-breakpoint
CREATE INDEX "processing_locations_history_contractor_idx" ON "processing_locations_history" ("contractor_id","held_from");--> statement-breakpoint
-- What the registry held at any instant (src/db/history.ts). The database writes the history itself, in the
-- transaction of every change: record_history() closes the version a change replaces and adds the new one, at the
-- change's instant — `registry.now`, which write() sets from the app's clock; the transaction's start where a change
-- comes from elsewhere (a migration, an operator's SQL). SECURITY DEFINER: it runs as the owner, so the service's role
-- needs, and has, no right to write a history table (src/db/roles.ts). The column list is read from the live table:
-- a column added there and not to its history table fails every write until it is.
CREATE FUNCTION record_history() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  history text := quote_ident(TG_TABLE_NAME || '_history');
  at timestamptz := coalesce(nullif(current_setting('registry.now', true), '')::timestamptz, now());
  since timestamptz;
  cols text;
BEGIN
  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN
    RETURN NULL;
  END IF;
  IF TG_OP <> 'INSERT' THEN
    EXECUTE format('UPDATE %s SET held_until = greatest($1, held_from) WHERE id = $2 AND held_until IS NULL RETURNING held_from', history)
      INTO since USING at, OLD.id;
    -- A clock behind the version's start (another instance's) never makes a period run backwards.
    at := greatest(at, since);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute WHERE attrelid = TG_RELID AND attnum > 0 AND NOT attisdropped;
    EXECUTE format('INSERT INTO %s (%s, held_from) SELECT %s, $2 FROM (SELECT ($1).*) AS r', history, cols, cols)
      USING NEW, at;
  END IF;
  RETURN NULL;
END;
$$;
--> statement-breakpoint
-- Nobody rewrites history, the owner included: a version's values never change, its period is closed once (by
-- record_history()), no version is deleted.
CREATE FUNCTION guard_history_period() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.held_until IS NULL AND NEW.held_until IS NOT NULL
     AND to_jsonb(NEW) - 'held_until' = to_jsonb(OLD) - 'held_until' THEN
    RETURN NEW;
  END IF;
  RAISE EXCEPTION '% keeps what the registry held: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
-- Per entity: the rows that exist now, held since their creation (a revoked grant: ACTIVE from its creation until its
-- revocation, the one change a row records of its past); then the guard, TRUNCATE refused (refuse_history_change(),
-- from the seed migration: src/db/roles.ts finds the append-only tables through it), and the trigger.
DO $$
DECLARE
  live text;
  cols text;
BEGIN
  FOREACH live IN ARRAY ARRAY['offices', 'contractors', 'processing_locations', 'grants', 'obligations'] LOOP
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
      FROM pg_attribute WHERE attrelid = live::regclass AND attnum > 0 AND NOT attisdropped;
    IF live = 'grants' THEN
      EXECUTE format('INSERT INTO grants_history (%s, held_from, held_until) SELECT %s, created_at, greatest(revoked_at, created_at) FROM grants WHERE status = ''REVOKED'' AND revoked_at IS NOT NULL', cols, cols);
      UPDATE grants_history SET status = 'ACTIVE', revoked_at = NULL, revocation_reason = NULL;
      EXECUTE format('INSERT INTO grants_history (%s, held_from) SELECT %s, CASE WHEN status = ''REVOKED'' AND revoked_at IS NOT NULL THEN greatest(revoked_at, created_at) ELSE created_at END FROM grants', cols, cols);
    ELSE
      EXECUTE format('INSERT INTO %I (%s, held_from) SELECT %s, created_at FROM %I', live || '_history', cols, cols, live);
    END IF;
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION guard_history_period()', live || '_history_guard', live || '_history');
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change()', live || '_history_no_truncate', live || '_history');
    EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION record_history()', live || '_record_history', live);
  END LOOP;
END;
$$;
