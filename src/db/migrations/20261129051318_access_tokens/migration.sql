CREATE TABLE "access_tokens" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "access_tokens_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"jti" text NOT NULL UNIQUE,
	"kid" text NOT NULL,
	"contractor_id" integer NOT NULL,
	"scopes" text[] NOT NULL,
	"categories" text[] NOT NULL,
	"purposes" "purpose"[] NOT NULL,
	"issued_by" text NOT NULL,
	"issued_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"revoked_at" timestamp with time zone,
	"revoked_by" text,
	"revocation_reason" text
);
--> statement-breakpoint
CREATE INDEX "access_tokens_contractor_idx" ON "access_tokens" ("contractor_id","id");--> statement-breakpoint
CREATE INDEX "access_tokens_kid_idx" ON "access_tokens" ("kid","expires_at");--> statement-breakpoint
CREATE INDEX "access_tokens_revoked_idx" ON "access_tokens" ("expires_at") WHERE "revoked_at" is not null;--> statement-breakpoint
ALTER TABLE "access_tokens" ADD CONSTRAINT "access_tokens_contractor_id_contractors_id_fkey" FOREIGN KEY ("contractor_id") REFERENCES "contractors"("id");