CREATE INDEX "contractors_name_idx" ON "contractors" USING gin (to_tsvector('simple', translate("legal_name", './@:', '    ')));--> statement-breakpoint
-- The monthly volume groups transfers by their month (src/registry/transfer-statistics.ts): without statistics on
-- that expression the planner guesses a group per row and sorts the whole period on disk instead of hashing a few
-- dozen months.
CREATE STATISTICS "transfers_month_stats" ON (date_trunc('month', "occurred_at" at time zone 'UTC')) FROM "transfers";
