CREATE TYPE "authority_type" AS ENUM('LAW_ENFORCEMENT', 'GOVERNMENT_AGENCY', 'COURT', 'REGULATOR', 'OTHER');--> statement-breakpoint
CREATE TYPE "disclosure_status" AS ENUM('RECEIVED', 'UNDER_REVIEW', 'DISCLOSED', 'PARTIALLY_DISCLOSED', 'REJECTED', 'WITHDRAWN');--> statement-breakpoint
CREATE TYPE "importer_kind" AS ENUM('CONTRACTOR', 'OFFICE', 'AUTHORITY');--> statement-breakpoint
CREATE TYPE "legal_instrument" AS ENUM('SUBPOENA', 'COURT_ORDER', 'WARRANT', 'MLAT_REQUEST', 'EMERGENCY_REQUEST', 'OTHER');--> statement-breakpoint
CREATE TYPE "transfer_kind" AS ENUM('CONTRACTOR_SHARE', 'INTRA_GROUP', 'ONWARD_TRANSFER', 'CONTRACTOR_ACCESS', 'LEGAL_DISCLOSURE');--> statement-breakpoint
CREATE TABLE "disclosure_requests" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "disclosure_requests_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"office_id" integer NOT NULL,
	"authority_name" text NOT NULL,
	"authority_type" "authority_type" NOT NULL,
	"authority_country" char(2) NOT NULL,
	"instrument" "legal_instrument" NOT NULL,
	"reference" text NOT NULL,
	"received_at" timestamp(3) with time zone NOT NULL,
	"due_at" timestamp(3) with time zone NOT NULL,
	"requested_categories" text[] NOT NULL,
	"subjects_requested" integer NOT NULL,
	"status" "disclosure_status" DEFAULT 'RECEIVED'::"disclosure_status" NOT NULL,
	"foreign_authority" boolean NOT NULL,
	"foreign_authority_reason" text,
	"legal_basis" text,
	"disclosed_categories" text[],
	"subjects_disclosed" integer,
	"rationale" text,
	"gag_until" date,
	"exporter_notified" boolean DEFAULT false NOT NULL,
	"subjects_notified" boolean DEFAULT false NOT NULL,
	"challenged" boolean DEFAULT false NOT NULL,
	"decided_by" text,
	"decided_at" timestamp(3) with time zone,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "disclosure_requests_due_order" CHECK ("due_at" >= "received_at"),
	CONSTRAINT "disclosure_requests_subjects" CHECK ("subjects_requested" >= 0 and ("subjects_disclosed" is null or "subjects_disclosed" >= 0))
);
--> statement-breakpoint
CREATE TABLE "transfers" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "transfers_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
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
	CONSTRAINT "transfers_record_count" CHECK ("record_count" >= 0),
	CONSTRAINT "transfers_categories_nonempty" CHECK (cardinality("categories") > 0),
	CONSTRAINT "transfers_importer" CHECK (("importer_kind" = 'CONTRACTOR') = ("importer_contractor_id" is not null)
    and ("importer_kind" = 'OFFICE') = ("importer_office_id" is not null)
    and ("importer_kind" = 'AUTHORITY') = ("importer_authority" is not null)),
	CONSTRAINT "transfers_scc_module" CHECK (("mechanism" = 'SCC') = ("scc_module" is not null))
);
--> statement-breakpoint
CREATE INDEX "disclosure_requests_received_idx" ON "disclosure_requests" ("received_at","id");--> statement-breakpoint
CREATE INDEX "disclosure_requests_status_idx" ON "disclosure_requests" ("status","id");--> statement-breakpoint
CREATE INDEX "disclosure_requests_open_due_idx" ON "disclosure_requests" ("due_at","id") WHERE "status" in ('RECEIVED', 'UNDER_REVIEW');--> statement-breakpoint
CREATE INDEX "disclosure_requests_foreign_idx" ON "disclosure_requests" ("id") WHERE "foreign_authority";--> statement-breakpoint
CREATE INDEX "disclosure_requests_office_idx" ON "disclosure_requests" ("office_id");--> statement-breakpoint
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
ALTER TABLE "disclosure_requests" ADD CONSTRAINT "disclosure_requests_office_id_offices_id_fkey" FOREIGN KEY ("office_id") REFERENCES "offices"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_exporter_office_id_offices_id_fkey" FOREIGN KEY ("exporter_office_id") REFERENCES "offices"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_exporter_contractor_id_contractors_id_fkey" FOREIGN KEY ("exporter_contractor_id") REFERENCES "contractors"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_importer_contractor_id_contractors_id_fkey" FOREIGN KEY ("importer_contractor_id") REFERENCES "contractors"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_importer_office_id_offices_id_fkey" FOREIGN KEY ("importer_office_id") REFERENCES "offices"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_grant_id_grants_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "grants"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_disclosure_request_id_disclosure_requests_id_fkey" FOREIGN KEY ("disclosure_request_id") REFERENCES "disclosure_requests"("id");--> statement-breakpoint
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_access_token_id_access_tokens_id_fkey" FOREIGN KEY ("access_token_id") REFERENCES "access_tokens"("id");--> statement-breakpoint
-- The transfer history is append-only whoever asks, like the audit log (refuse_history_change is from the seed migration).
CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
--> statement-breakpoint
CREATE TRIGGER transfers_no_truncate BEFORE TRUNCATE ON transfers FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
