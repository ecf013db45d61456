CREATE TABLE "policy_changes" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "policy_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"kind" text NOT NULL,
	"details" jsonb NOT NULL,
	"reason" text NOT NULL,
	"effective_at" timestamp with time zone NOT NULL,
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp with time zone NOT NULL,
	"applied_at" timestamp with time zone,
	"suspended_grants" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD COLUMN "id" integer GENERATED ALWAYS AS IDENTITY (sequence name "adequacy_decisions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1);--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD COLUMN "suspended" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD COLUMN "valid_from" timestamp with time zone DEFAULT '1970-01-01T00:00:00Z' NOT NULL;--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD COLUMN "valid_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD COLUMN "change_id" integer;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "suspended_by_policy_from" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "policy_suspension_reason" text;--> statement-breakpoint
ALTER TABLE "grants" ADD COLUMN "suspended_by_change_id" integer;--> statement-breakpoint
ALTER TABLE "jurisdiction_members" ADD COLUMN "valid_from" timestamp with time zone DEFAULT '1970-01-01T00:00:00Z';--> statement-breakpoint
ALTER TABLE "jurisdiction_members" ADD COLUMN "valid_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "jurisdictions" ADD COLUMN "valid_from" timestamp with time zone DEFAULT '1970-01-01T00:00:00Z' NOT NULL;--> statement-breakpoint
ALTER TABLE "purpose_categories" ADD COLUMN "valid_from" timestamp with time zone DEFAULT '1970-01-01T00:00:00Z';--> statement-breakpoint
ALTER TABLE "purpose_categories" ADD COLUMN "valid_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "route_restrictions" ADD COLUMN "valid_from" timestamp with time zone DEFAULT '1970-01-01T00:00:00Z' NOT NULL;--> statement-breakpoint
ALTER TABLE "route_restrictions" ADD COLUMN "valid_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "route_restrictions" ADD COLUMN "change_id" integer;--> statement-breakpoint
ALTER TABLE "adequacy_decisions" DROP CONSTRAINT "adequacy_decisions_pkey";--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD PRIMARY KEY ("id");--> statement-breakpoint
ALTER TABLE "jurisdiction_members" DROP CONSTRAINT "jurisdiction_members_pkey";--> statement-breakpoint
ALTER TABLE "jurisdiction_members" ADD PRIMARY KEY ("jurisdiction","country","valid_from");--> statement-breakpoint
ALTER TABLE "purpose_categories" DROP CONSTRAINT "purpose_categories_pkey";--> statement-breakpoint
ALTER TABLE "purpose_categories" ADD PRIMARY KEY ("purpose","category_key","valid_from");--> statement-breakpoint
CREATE INDEX "adequacy_decisions_route_idx" ON "adequacy_decisions" ("jurisdiction","country","valid_from");--> statement-breakpoint
CREATE INDEX "adequacy_decisions_country_idx" ON "adequacy_decisions" ("country");--> statement-breakpoint
CREATE INDEX "grants_policy_findings_idx" ON "grants" ("id") WHERE "suspended_by_policy_from" is not null;--> statement-breakpoint
CREATE INDEX "grants_suspended_by_change_idx" ON "grants" ("suspended_by_change_id") WHERE "suspended_by_change_id" is not null;--> statement-breakpoint
CREATE INDEX "policy_changes_due_idx" ON "policy_changes" ("effective_at") WHERE "applied_at" is null;--> statement-breakpoint
CREATE INDEX "route_restrictions_exporter_idx" ON "route_restrictions" ("exporter_country");--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD CONSTRAINT "adequacy_decisions_change_id_policy_changes_id_fkey" FOREIGN KEY ("change_id") REFERENCES "policy_changes"("id");--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_suspended_by_change_id_policy_changes_id_fkey" FOREIGN KEY ("suspended_by_change_id") REFERENCES "policy_changes"("id");--> statement-breakpoint
ALTER TABLE "route_restrictions" ADD CONSTRAINT "route_restrictions_change_id_policy_changes_id_fkey" FOREIGN KEY ("change_id") REFERENCES "policy_changes"("id");--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD CONSTRAINT "adequacy_decisions_period" CHECK ("valid_until" is null or "valid_until" > "valid_from");--> statement-breakpoint
ALTER TABLE "route_restrictions" ADD CONSTRAINT "route_restrictions_period" CHECK ("valid_until" is null or "valid_until" > "valid_from");--> statement-breakpoint
-- The seeded policy rows (jurisdictions, members, adequacy decisions, restrictions, purpose limits) stay as they
-- are and become the first version of each: in force from the registry's epoch (the column default above),
-- open-ended. Later versions are written by policy changes through the API, each closing the one before.
COMMENT ON TABLE policy_changes IS 'Every change to the transfer policy: kind, input, reason, effective instant; applied_at set once when it took effect.';
