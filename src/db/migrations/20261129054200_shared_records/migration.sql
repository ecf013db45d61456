CREATE TABLE "shared_records" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "shared_records_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"office_id" integer NOT NULL,
	"subject_ref" text NOT NULL,
	"values" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "subject_opt_outs" (
	"subject_ref" text,
	"purpose" "purpose",
	"recorded_by" text NOT NULL,
	"recorded_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subject_opt_outs_pkey" PRIMARY KEY("subject_ref","purpose")
);
--> statement-breakpoint
CREATE UNIQUE INDEX "shared_records_office_subject" ON "shared_records" ("office_id","subject_ref");--> statement-breakpoint
CREATE INDEX "shared_records_office_page_idx" ON "shared_records" ("office_id","id");--> statement-breakpoint
CREATE INDEX "shared_records_subject_idx" ON "shared_records" ("subject_ref");--> statement-breakpoint
ALTER TABLE "shared_records" ADD CONSTRAINT "shared_records_office_id_offices_id_fkey" FOREIGN KEY ("office_id") REFERENCES "offices"("id");