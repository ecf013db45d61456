CREATE TABLE "purpose_categories" (
	"purpose" "purpose",
	"category_key" text,
	CONSTRAINT "purpose_categories_pkey" PRIMARY KEY("purpose","category_key")
);
--> statement-breakpoint
ALTER TABLE "purposes" ADD COLUMN "category_limit_reason" text;--> statement-breakpoint
ALTER TABLE "purpose_categories" ADD CONSTRAINT "purpose_categories_purpose_purposes_key_fkey" FOREIGN KEY ("purpose") REFERENCES "purposes"("key");--> statement-breakpoint
ALTER TABLE "purpose_categories" ADD CONSTRAINT "purpose_categories_category_key_data_categories_key_fkey" FOREIGN KEY ("category_key") REFERENCES "data_categories"("key");--> statement-breakpoint
-- Policy data: purpose limitation, from the uses the published privacy policy states. A purpose may use the
-- categories listed for it (a group covers its children, never a RESTRICTED one); a grant outside them is refused
-- with the purpose's reason. Contact details serve every purpose that deals with the customer as a person;
-- traffic statistics never do.
UPDATE purposes SET category_limit_reason = CASE key
  WHEN 'ORDER_FULFILMENT' THEN 'an order uses the information needed to complete the transaction, such as name, address and credit card number, and what was ordered'
  WHEN 'TECHNICAL_SUPPORT' THEN 'technical support uses the registration/licence number, the computer hardware and software, the nature of the problem and the contact details the request comes with'
  WHEN 'PRODUCT_DISTRIBUTION' THEN 'distributing products uses who the customer is, where to deliver and what was purchased or registered'
  WHEN 'ALERTS_AND_NEWSLETTERS' THEN 'alerts and newsletters use the contact details and the subscription preference, which the customer can opt out of'
  WHEN 'SPECIAL_OFFERS' THEN 'special offers use the contact details and marketing data: surveys, contests and interests'
  WHEN 'PRODUCT_IMPROVEMENT' THEN 'product improvement uses feedback, survey answers and support data'
  WHEN 'PERSONALISATION' THEN 'personalisation uses who the customer is and the browsing preferences, cookies and interests that tailor the site'
  WHEN 'TRAFFIC_STATISTICS' THEN 'traffic statistics use only domain names, IP addresses, browser types and visits, and are never correlated with any personal information'
  WHEN 'LEGAL_OBLIGATION' THEN 'a disclosure legally required by government agencies or law enforcement bodies may concern any data held'
END;
--> statement-breakpoint
INSERT INTO purpose_categories (purpose, category_key) VALUES
  ('ORDER_FULFILMENT', 'contact'),
  ('ORDER_FULFILMENT', 'financial'),
  ('ORDER_FULFILMENT', 'financial.payment_card'),
  ('ORDER_FULFILMENT', 'commerce'),
  ('TECHNICAL_SUPPORT', 'contact'),
  ('TECHNICAL_SUPPORT', 'commerce.licence_number'),
  ('TECHNICAL_SUPPORT', 'device'),
  ('TECHNICAL_SUPPORT', 'support'),
  ('PRODUCT_DISTRIBUTION', 'contact'),
  ('PRODUCT_DISTRIBUTION', 'commerce'),
  ('ALERTS_AND_NEWSLETTERS', 'contact'),
  ('ALERTS_AND_NEWSLETTERS', 'marketing.newsletter_preference'),
  ('SPECIAL_OFFERS', 'contact'),
  ('SPECIAL_OFFERS', 'marketing'),
  ('PRODUCT_IMPROVEMENT', 'contact'),
  ('PRODUCT_IMPROVEMENT', 'marketing.survey_response'),
  ('PRODUCT_IMPROVEMENT', 'device'),
  ('PRODUCT_IMPROVEMENT', 'support'),
  ('PERSONALISATION', 'contact'),
  ('PERSONALISATION', 'usage.browsing_preferences'),
  ('PERSONALISATION', 'usage.cookie_id'),
  ('PERSONALISATION', 'usage.visit_history'),
  ('PERSONALISATION', 'marketing.inferred_interests'),
  ('TRAFFIC_STATISTICS', 'usage.domain_name'),
  ('TRAFFIC_STATISTICS', 'usage.ip_address'),
  ('TRAFFIC_STATISTICS', 'usage.browser_type'),
  ('TRAFFIC_STATISTICS', 'usage.visit_history'),
  ('LEGAL_OBLIGATION', 'contact'),
  ('LEGAL_OBLIGATION', 'financial'),
  ('LEGAL_OBLIGATION', 'financial.payment_card'),
  ('LEGAL_OBLIGATION', 'device'),
  ('LEGAL_OBLIGATION', 'support'),
  ('LEGAL_OBLIGATION', 'usage'),
  ('LEGAL_OBLIGATION', 'marketing'),
  ('LEGAL_OBLIGATION', 'commerce'),
  ('LEGAL_OBLIGATION', 'community');
