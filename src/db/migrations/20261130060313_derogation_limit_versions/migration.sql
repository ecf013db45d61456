ALTER TABLE "derogation_limits" DROP CONSTRAINT "derogation_limits_route";--> statement-breakpoint
ALTER TABLE "derogation_limits" ADD COLUMN "valid_from" timestamp with time zone DEFAULT '1970-01-01T00:00:00Z' NOT NULL;--> statement-breakpoint
ALTER TABLE "derogation_limits" ADD COLUMN "valid_until" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "derogation_limits" ADD COLUMN "change_id" integer;--> statement-breakpoint
-- Derogation limits become versions: a row set by staff is in force from when it was set; a seeded row from the
-- registry's epoch (the column default). Where staff had replaced a seeded row, the seeded value was in force
-- before: it comes back as the version that ends then.
UPDATE derogation_limits SET valid_from = updated_at WHERE updated_by <> 'seed';--> statement-breakpoint
INSERT INTO derogation_limits (derogation, exporter_country, importer_country, max_transfers, max_records, updated_by, valid_until)
SELECT l.derogation, NULL, NULL, s.t, s.r, 'seed', l.valid_from
FROM (VALUES (NULL::mechanism, 4, 10000), ('COMPELLING_LEGITIMATE_INTERESTS'::mechanism, 1, 100)) AS s(d, t, r)
JOIN derogation_limits l ON l.derogation IS NOT DISTINCT FROM s.d AND l.exporter_country IS NULL
  AND l.importer_country IS NULL AND l.updated_by <> 'seed';--> statement-breakpoint
ALTER TABLE "derogation_limits" DROP COLUMN "updated_by";--> statement-breakpoint
ALTER TABLE "derogation_limits" DROP COLUMN "updated_at";--> statement-breakpoint
ALTER TABLE "derogation_limits" ADD CONSTRAINT "derogation_limits_version" UNIQUE NULLS NOT DISTINCT("derogation","exporter_country","importer_country","valid_from");--> statement-breakpoint
ALTER TABLE "derogation_limits" ADD CONSTRAINT "derogation_limits_change_id_policy_changes_id_fkey" FOREIGN KEY ("change_id") REFERENCES "policy_changes"("id");--> statement-breakpoint
ALTER TABLE "derogation_limits" ADD CONSTRAINT "derogation_limits_period" CHECK ("valid_until" is null or "valid_until" > "valid_from");
--> statement-breakpoint
COMMENT ON TABLE derogation_limits IS 'Art. 49 derogation limits per route: versions with a valid-time period, written by policy changes.';
