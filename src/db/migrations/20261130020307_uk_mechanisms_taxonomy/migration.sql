ALTER TYPE "mechanism" ADD VALUE 'IDTA' BEFORE 'EXPLICIT_CONSENT';--> statement-breakpoint
ALTER TYPE "mechanism" ADD VALUE 'UK_ADDENDUM' BEFORE 'EXPLICIT_CONSENT';--> statement-breakpoint
ALTER TABLE "grants" DROP CONSTRAINT "grants_scc_module", ADD CONSTRAINT "grants_scc_module" CHECK (("mechanism"::text in ('SCC', 'UK_ADDENDUM')) = ("scc_module" is not null) and ("scc_module" is null or "scc_module" between 1 and 4));--> statement-breakpoint
ALTER TABLE "transfers" DROP CONSTRAINT "transfers_scc_module", ADD CONSTRAINT "transfers_scc_module" CHECK (("mechanism"::text in ('SCC', 'UK_ADDENDUM')) = ("scc_module" is not null));--> statement-breakpoint
-- Reference data: the data the published privacy policy names that the seed taxonomy lacked. Their uses are
-- purposes already seeded: browsing preferences → PERSONALISATION, visit history → TRAFFIC_STATISTICS,
-- inferred interests → SPECIAL_OFFERS.
INSERT INTO data_categories (key, parent_key, name, description, sensitivity) VALUES
  ('community', NULL, 'Community contributions', 'Information the customer submits in a news discussion or forum, which the policy says is public information.', 'PUBLIC');
--> statement-breakpoint
INSERT INTO data_categories (key, parent_key, name, description, sensitivity) VALUES
  ('contact.correspondence', 'contact', 'Correspondence', 'Messages the customer sends when corresponding with us, which the policy lists among the occasions personal information is requested.', 'PERSONAL'),
  ('usage.browsing_preferences', 'usage', 'Browsing preferences', 'The browsing preferences the policy says cookies let the website tailor the information it presents to.', 'PERSONAL'),
  ('usage.visit_history', 'usage', 'Visit history', 'The visits to the website the policy says cookies may track.', 'PERSONAL'),
  ('community.forum_post', 'community', 'Forum post', 'A post submitted in a news discussion or forum: public information by the policy''s own words, not treated as confidential and open to collection by others.', 'PUBLIC'),
  ('marketing.inferred_interests', 'marketing', 'Inferred interests', 'Interests inferred about the customer to provide the special offers the policy says may be of interest.', 'PERSONAL');
