CREATE INDEX "access_tokens_active_idx" ON "access_tokens" ("expires_at") WHERE "revoked_at" is null;--> statement-breakpoint
CREATE INDEX "grants_purpose_idx" ON "grants" ("purpose","id");--> statement-breakpoint
CREATE INDEX "obligations_unacknowledged_idx" ON "obligations" ("id") WHERE "acknowledged_at" is null;