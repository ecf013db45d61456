CREATE TABLE "derogation_limits" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "derogation_limits_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"derogation" "mechanism",
	"exporter_country" char(2),
	"importer_country" char(2),
	"max_transfers" integer NOT NULL,
	"max_records" integer NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "derogation_limits_route" UNIQUE NULLS NOT DISTINCT("derogation","exporter_country","importer_country"),
	CONSTRAINT "derogation_limits_bounds" CHECK ("max_transfers" >= 0 and "max_records" >= 0)
);
--> statement-breakpoint
CREATE TABLE "disclosure_versions" (
	"version" integer PRIMARY KEY,
	"effective_on" date NOT NULL,
	"statements" jsonb NOT NULL,
	"markdown" text NOT NULL,
	"published_by" text NOT NULL,
	"published_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "parent_grant_id" integer;--> statement-breakpoint
ALTER TABLE "transfers" ADD COLUMN "origin_country" char(2);--> statement-breakpoint
ALTER TABLE "grants_history" ADD COLUMN "parent_grant_id" integer;--> statement-breakpoint
CREATE INDEX "grants_parent_idx" ON "grants" ("parent_grant_id") WHERE "parent_grant_id" is not null;--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_parent_grant_id_grants_id_fkey" FOREIGN KEY ("parent_grant_id") REFERENCES "grants"("id");--> statement-breakpoint
-- Policy data: how occasional an Art. 49 derogation must stay (EDPB Guidelines 2/2018: "occasional" and "not
-- repetitive"), per route and derogation over a rolling 12 months. By default at most 4 transfers and 10,000
-- records; compelling legitimate interests (Art. 49(1), second subparagraph) must also concern "only a limited
-- number of data subjects": one transfer of at most 100 records. Staff change them with setDerogationLimit.
INSERT INTO derogation_limits (derogation, exporter_country, importer_country, max_transfers, max_records, updated_by) VALUES
  (NULL, NULL, NULL, 4, 10000, 'seed'),
  ('COMPELLING_LEGITIMATE_INTERESTS', NULL, NULL, 1, 100, 'seed');
--> statement-breakpoint
-- A published version of the disclosure is what it was: append-only, like the transfer history.
CREATE TRIGGER disclosure_versions_append_only BEFORE UPDATE OR DELETE ON disclosure_versions FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
--> statement-breakpoint
CREATE TRIGGER disclosure_versions_no_truncate BEFORE TRUNCATE ON disclosure_versions FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
