CREATE TYPE "certification" AS ENUM('EU_US_DPF', 'UK_US_DATA_BRIDGE', 'SWISS_US_DPF');--> statement-breakpoint
CREATE TYPE "contractor_role" AS ENUM('PROCESSOR', 'SUBPROCESSOR', 'INDEPENDENT_CONTROLLER');--> statement-breakpoint
CREATE TYPE "contractor_status" AS ENUM('ONBOARDING', 'ACTIVE', 'SUSPENDED', 'TERMINATED');--> statement-breakpoint
CREATE TYPE "grant_status" AS ENUM('ACTIVE', 'REVOKED', 'EXPIRED');--> statement-breakpoint
CREATE TYPE "mechanism" AS ENUM('NOT_REQUIRED', 'ADEQUACY', 'SCC', 'BCR', 'INTRA_GROUP_AGREEMENT', 'EXPLICIT_CONSENT', 'CONTRACT_WITH_SUBJECT', 'CONTRACT_IN_SUBJECT_INTEREST', 'PUBLIC_INTEREST', 'LEGAL_CLAIMS', 'VITAL_INTERESTS', 'PUBLIC_REGISTER', 'COMPELLING_LEGITIMATE_INTERESTS');--> statement-breakpoint
CREATE TYPE "obligation_kind" AS ENUM('DOCUMENTED_INSTRUCTIONS', 'CONFIDENTIALITY', 'SECURITY_MEASURES', 'SUBPROCESSOR_APPROVAL', 'SUBJECT_RIGHTS_ASSISTANCE', 'BREACH_NOTIFICATION', 'RETURN_OR_DELETION', 'AUDIT_COOPERATION');--> statement-breakpoint
CREATE TYPE "operation" AS ENUM('COLLECTION', 'TRANSFER', 'STORAGE', 'PROCESSING');--> statement-breakpoint
CREATE TYPE "purpose" AS ENUM('ORDER_FULFILMENT', 'TECHNICAL_SUPPORT', 'PRODUCT_DISTRIBUTION', 'ALERTS_AND_NEWSLETTERS', 'SPECIAL_OFFERS', 'PRODUCT_IMPROVEMENT', 'PERSONALISATION', 'TRAFFIC_STATISTICS', 'LEGAL_OBLIGATION');--> statement-breakpoint
CREATE TYPE "sensitivity" AS ENUM('PUBLIC', 'INTERNAL', 'PERSONAL', 'RESTRICTED');--> statement-breakpoint
CREATE TYPE "service" AS ENUM('DISTRIBUTION', 'TECHNICAL_SUPPORT', 'ORDER_PROCESSING', 'PAYMENT_PROCESSING', 'MARKETING_EMAIL', 'HOSTING', 'OTHER');--> statement-breakpoint
CREATE TABLE "adequacy_decisions" (
	"jurisdiction" text,
	"country" char(2),
	"instrument" text NOT NULL,
	"adopted_on" date NOT NULL,
	"scope_condition" text,
	"requires_certification" "certification",
	CONSTRAINT "adequacy_decisions_pkey" PRIMARY KEY("jurisdiction","country")
);
--> statement-breakpoint
CREATE TABLE "audit_events" (
	"seq" bigint PRIMARY KEY,
	"occurred_at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"actor_role" text NOT NULL,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" text NOT NULL,
	"before" jsonb,
	"after" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "contractors" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "contractors_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"legal_name" text NOT NULL,
	"country" char(2) NOT NULL,
	"services" "service"[] NOT NULL,
	"role" "contractor_role" NOT NULL,
	"parent_contractor_id" integer,
	"status" "contractor_status" DEFAULT 'ONBOARDING'::"contractor_status" NOT NULL,
	"status_reason" text,
	"status_changed_at" timestamp with time zone,
	"contact_name" text,
	"contact_email" text,
	"contract_reference" text,
	"dpa_signed_on" date,
	"certifications" "certification"[] DEFAULT '{}'::"certification"[] NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "data_categories" (
	"key" text PRIMARY KEY,
	"parent_key" text,
	"name" text NOT NULL,
	"description" text NOT NULL,
	"sensitivity" "sensitivity" NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "grant_categories" (
	"grant_id" integer,
	"category_key" text,
	CONSTRAINT "grant_categories_pkey" PRIMARY KEY("grant_id","category_key")
);
--> statement-breakpoint
CREATE TABLE "grants" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "grants_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
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
	"status" "grant_status" DEFAULT 'ACTIVE'::"grant_status" NOT NULL,
	"revoked_at" timestamp with time zone,
	"revocation_reason" text,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "grants_validity_order" CHECK ("valid_until" is null or "valid_until" > "valid_from"),
	CONSTRAINT "grants_scc_module" CHECK (("mechanism" = 'SCC') = ("scc_module" is not null) and ("scc_module" is null or "scc_module" between 1 and 4))
);
--> statement-breakpoint
CREATE TABLE "jurisdiction_members" (
	"jurisdiction" text,
	"country" char(2),
	CONSTRAINT "jurisdiction_members_pkey" PRIMARY KEY("jurisdiction","country")
);
--> statement-breakpoint
CREATE TABLE "jurisdictions" (
	"code" text PRIMARY KEY,
	"name" text NOT NULL,
	"law" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "obligations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "obligations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
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
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "obligations_date_order" CHECK ("expires_on" is null or "expires_on" > "effective_from"),
	CONSTRAINT "obligations_breach_hours" CHECK (("kind" = 'BREACH_NOTIFICATION') = ("breach_notification_hours" is not null))
);
--> statement-breakpoint
CREATE TABLE "offices" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "offices_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"name" text NOT NULL,
	"legal_entity" text NOT NULL,
	"country" char(2) NOT NULL,
	"city" text NOT NULL,
	"is_headquarters" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "processing_locations" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "processing_locations_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"contractor_id" integer NOT NULL,
	"country" char(2) NOT NULL,
	"operations" "operation"[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "purposes" (
	"key" "purpose" PRIMARY KEY,
	"name" text NOT NULL,
	"description" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "route_restrictions" (
	"id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "route_restrictions_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"exporter_country" char(2) NOT NULL,
	"importer_country" char(2),
	"legal_basis" text NOT NULL,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "signing_keys" (
	"kid" text PRIMARY KEY,
	"public_jwk" jsonb NOT NULL,
	"encrypted_private_jwk" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"retired_at" timestamp with time zone
);
--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" ("actor","seq");--> statement-breakpoint
CREATE INDEX "audit_events_entity_idx" ON "audit_events" ("entity_type","entity_id","seq");--> statement-breakpoint
CREATE INDEX "audit_events_time_idx" ON "audit_events" ("occurred_at");--> statement-breakpoint
CREATE INDEX "contractors_country_idx" ON "contractors" ("country","id");--> statement-breakpoint
CREATE INDEX "contractors_status_idx" ON "contractors" ("status","id");--> statement-breakpoint
CREATE INDEX "contractors_services_idx" ON "contractors" USING gin ("services");--> statement-breakpoint
CREATE INDEX "contractors_parent_idx" ON "contractors" ("parent_contractor_id");--> statement-breakpoint
CREATE INDEX "data_categories_parent_idx" ON "data_categories" ("parent_key");--> statement-breakpoint
CREATE INDEX "grant_categories_category_idx" ON "grant_categories" ("category_key");--> statement-breakpoint
CREATE INDEX "grants_contractor_idx" ON "grants" ("contractor_id","id");--> statement-breakpoint
CREATE INDEX "grants_office_idx" ON "grants" ("office_id");--> statement-breakpoint
CREATE INDEX "grants_status_idx" ON "grants" ("status","id");--> statement-breakpoint
CREATE INDEX "jurisdiction_members_country_idx" ON "jurisdiction_members" ("country");--> statement-breakpoint
CREATE INDEX "obligations_contractor_idx" ON "obligations" ("contractor_id","id");--> statement-breakpoint
CREATE INDEX "obligations_expires_idx" ON "obligations" ("expires_on");--> statement-breakpoint
CREATE INDEX "obligations_review_idx" ON "obligations" ("review_due_on");--> statement-breakpoint
CREATE INDEX "offices_country_idx" ON "offices" ("country","id");--> statement-breakpoint
CREATE UNIQUE INDEX "offices_one_headquarters" ON "offices" ("is_headquarters") WHERE "is_headquarters";--> statement-breakpoint
CREATE UNIQUE INDEX "processing_locations_contractor_country" ON "processing_locations" ("contractor_id","country");--> statement-breakpoint
ALTER TABLE "adequacy_decisions" ADD CONSTRAINT "adequacy_decisions_jurisdiction_jurisdictions_code_fkey" FOREIGN KEY ("jurisdiction") REFERENCES "jurisdictions"("code");--> statement-breakpoint
ALTER TABLE "contractors" ADD CONSTRAINT "contractors_parent_contractor_id_contractors_id_fkey" FOREIGN KEY ("parent_contractor_id") REFERENCES "contractors"("id");--> statement-breakpoint
ALTER TABLE "data_categories" ADD CONSTRAINT "data_categories_parent_key_data_categories_key_fkey" FOREIGN KEY ("parent_key") REFERENCES "data_categories"("key");--> statement-breakpoint
ALTER TABLE "grant_categories" ADD CONSTRAINT "grant_categories_grant_id_grants_id_fkey" FOREIGN KEY ("grant_id") REFERENCES "grants"("id");--> statement-breakpoint
ALTER TABLE "grant_categories" ADD CONSTRAINT "grant_categories_category_key_data_categories_key_fkey" FOREIGN KEY ("category_key") REFERENCES "data_categories"("key");--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_contractor_id_contractors_id_fkey" FOREIGN KEY ("contractor_id") REFERENCES "contractors"("id");--> statement-breakpoint
ALTER TABLE "grants" ADD CONSTRAINT "grants_office_id_offices_id_fkey" FOREIGN KEY ("office_id") REFERENCES "offices"("id");--> statement-breakpoint
ALTER TABLE "jurisdiction_members" ADD CONSTRAINT "jurisdiction_members_jurisdiction_jurisdictions_code_fkey" FOREIGN KEY ("jurisdiction") REFERENCES "jurisdictions"("code");--> statement-breakpoint
ALTER TABLE "obligations" ADD CONSTRAINT "obligations_contractor_id_contractors_id_fkey" FOREIGN KEY ("contractor_id") REFERENCES "contractors"("id");--> statement-breakpoint
ALTER TABLE "processing_locations" ADD CONSTRAINT "processing_locations_contractor_id_contractors_id_fkey" FOREIGN KEY ("contractor_id") REFERENCES "contractors"("id");