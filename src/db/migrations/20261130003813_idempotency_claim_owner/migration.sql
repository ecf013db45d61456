ALTER TABLE "idempotency_keys" ADD COLUMN "owner" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ADD COLUMN "answer_due_at" timestamp with time zone DEFAULT now() NOT NULL;--> statement-breakpoint
-- Answers stored before this release are plain text (one may hold a contractor token): drop them. Each such
-- key now reads as claimed and overdue, so a retry is told IDEMPOTENCY_OUTCOME_UNKNOWN, never run twice.
UPDATE "idempotency_keys" SET "status" = NULL, "response" = NULL;
