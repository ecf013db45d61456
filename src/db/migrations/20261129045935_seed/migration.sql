-- Reference data: data-category taxonomy, purposes, jurisdictions and adequacy decisions.
INSERT INTO data_categories (key, parent_key, name, description, sensitivity) VALUES
  ('contact', NULL, 'Contact details', 'Information the policy lists for reaching the customer, such as name, postal address and e-mail.', 'PERSONAL'),
  ('financial', NULL, 'Financial data', 'Payment information the policy says is collected when ordering, such as a credit card number.', 'RESTRICTED'),
  ('device', NULL, 'Device details', 'Computer hardware and software details the policy says may be collected.', 'PERSONAL'),
  ('support', NULL, 'Support data', 'Information the policy says is provided when requesting technical support.', 'PERSONAL'),
  ('usage', NULL, 'Usage data', 'Web-server log and cookie data the policy says is collected automatically on visits to the website.', 'PERSONAL'),
  ('marketing', NULL, 'Marketing data', 'Information from newsletter subscriptions, surveys and contests mentioned in the policy.', 'PERSONAL'),
  ('commerce', NULL, 'Commerce data', 'Information about purchases and product registrations described in the policy.', 'PERSONAL');
--> statement-breakpoint
INSERT INTO data_categories (key, parent_key, name, description, sensitivity) VALUES
  ('contact.name', 'contact', 'Name', 'The customer name the policy says is collected when ordering or registering a product.', 'PERSONAL'),
  ('contact.postal_address', 'contact', 'Postal address', 'The postal address the policy says is collected when ordering or registering a product.', 'PERSONAL'),
  ('contact.email', 'contact', 'E-mail address', 'The e-mail address the policy says is collected when ordering, registering or subscribing.', 'PERSONAL'),
  ('contact.phone', 'contact', 'Phone number', 'A telephone number supplied by the customer for orders or support.', 'PERSONAL'),
  ('financial.payment_card', 'financial', 'Payment card number', 'The credit card number the policy says is collected to process an order.', 'RESTRICTED'),
  ('commerce.order_history', 'commerce', 'Order history', 'Records of the products a customer has ordered.', 'PERSONAL'),
  ('commerce.licence_number', 'commerce', 'Registration/licence number', 'The product registration or licence number the policy says is collected on registration.', 'PERSONAL'),
  ('device.hardware', 'device', 'Computer hardware details', 'The computer hardware details the policy says may be collected with a registration or support request.', 'PERSONAL'),
  ('device.software', 'device', 'Computer software details', 'The computer software details the policy says may be collected with a registration or support request.', 'PERSONAL'),
  ('support.problem_description', 'support', 'Support problem description', 'The description of a support problem the policy says the customer provides when asking for help.', 'PERSONAL'),
  ('usage.ip_address', 'usage', 'IP address', 'Visitor IP addresses the policy says are recorded in web-server logs.', 'PERSONAL'),
  ('usage.domain_name', 'usage', 'Domain name', 'Visitor domain names the policy says are recorded in web-server logs.', 'PERSONAL'),
  ('usage.browser_type', 'usage', 'Browser type', 'Visitor browser types the policy says are recorded in web-server logs.', 'INTERNAL'),
  ('usage.cookie_id', 'usage', 'Cookie identifier', 'Identifiers stored in the cookies the policy says the website sets.', 'PERSONAL'),
  ('marketing.newsletter_preference', 'marketing', 'Newsletter subscription preference', 'Whether the customer has opted in to or out of alerts and newsletters.', 'PERSONAL'),
  ('marketing.survey_response', 'marketing', 'Survey response', 'Answers the customer gives to optional surveys.', 'PERSONAL'),
  ('marketing.contest_entry', 'marketing', 'Contest entry', 'Information the customer submits when entering a contest or promotion.', 'PERSONAL');
--> statement-breakpoint
INSERT INTO purposes (key, name, description) VALUES
  ('ORDER_FULFILMENT', 'Order fulfilment', 'Processing, billing and delivering orders placed by the customer.'),
  ('TECHNICAL_SUPPORT', 'Technical support', 'Diagnosing and resolving support problems reported by the customer.'),
  ('PRODUCT_DISTRIBUTION', 'Product distribution', 'Distributing purchased products, licences and updates to registered customers.'),
  ('ALERTS_AND_NEWSLETTERS', 'Alerts and newsletters', 'Sending product alerts and newsletters the customer has subscribed to.'),
  ('SPECIAL_OFFERS', 'Special offers', 'Informing the customer about special offers and promotions, including contests and surveys.'),
  ('PRODUCT_IMPROVEMENT', 'Product improvement', 'Using feedback, survey answers and support data to improve products and services.'),
  ('PERSONALISATION', 'Personalisation', 'Tailoring website content and the customer experience to the individual visitor.'),
  ('TRAFFIC_STATISTICS', 'Traffic statistics', 'Compiling aggregate statistics about website traffic and usage from server logs and cookies.'),
  ('LEGAL_OBLIGATION', 'Legal obligation', 'Processing required to comply with applicable law, regulation or a lawful request from an authority.');
--> statement-breakpoint
INSERT INTO jurisdictions (code, name, law) VALUES
  ('EU_EEA', 'European Union / European Economic Area', 'GDPR (Regulation (EU) 2016/679)'),
  ('UK', 'United Kingdom', 'UK GDPR and Data Protection Act 2018');
--> statement-breakpoint
INSERT INTO jurisdiction_members (jurisdiction, country) VALUES
  ('EU_EEA', 'AT'),
  ('EU_EEA', 'BE'),
  ('EU_EEA', 'BG'),
  ('EU_EEA', 'CY'),
  ('EU_EEA', 'CZ'),
  ('EU_EEA', 'DE'),
  ('EU_EEA', 'DK'),
  ('EU_EEA', 'EE'),
  ('EU_EEA', 'ES'),
  ('EU_EEA', 'FI'),
  ('EU_EEA', 'FR'),
  ('EU_EEA', 'GR'),
  ('EU_EEA', 'HR'),
  ('EU_EEA', 'HU'),
  ('EU_EEA', 'IE'),
  ('EU_EEA', 'IS'),
  ('EU_EEA', 'IT'),
  ('EU_EEA', 'LI'),
  ('EU_EEA', 'LT'),
  ('EU_EEA', 'LU'),
  ('EU_EEA', 'LV'),
  ('EU_EEA', 'MT'),
  ('EU_EEA', 'NL'),
  ('EU_EEA', 'NO'),
  ('EU_EEA', 'PL'),
  ('EU_EEA', 'PT'),
  ('EU_EEA', 'RO'),
  ('EU_EEA', 'SE'),
  ('EU_EEA', 'SI'),
  ('EU_EEA', 'SK'),
  ('UK', 'GB');
--> statement-breakpoint
INSERT INTO adequacy_decisions (jurisdiction, country, instrument, adopted_on, scope_condition, requires_certification) VALUES
  ('EU_EEA', 'AD', 'Commission Decision 2010/625/EU', '2010-10-19', NULL, NULL),
  ('EU_EEA', 'AR', 'Commission Decision 2003/490/EC', '2003-06-30', NULL, NULL),
  ('EU_EEA', 'CA', 'Commission Decision 2002/2/EC', '2001-12-20', 'Only commercial organisations subject to PIPEDA', NULL),
  ('EU_EEA', 'CH', 'Commission Decision 2000/518/EC', '2000-07-26', NULL, NULL),
  ('EU_EEA', 'FO', 'Commission Decision 2010/146/EU', '2010-03-05', NULL, NULL),
  ('EU_EEA', 'GB', 'Commission Implementing Decision (EU) 2021/1772 (GDPR)', '2021-06-28', NULL, NULL),
  ('EU_EEA', 'GG', 'Commission Decision 2003/821/EC', '2003-11-21', NULL, NULL),
  ('EU_EEA', 'IL', 'Commission Decision 2011/61/EU', '2011-01-31', NULL, NULL),
  ('EU_EEA', 'IM', 'Commission Decision 2004/411/EC', '2004-04-28', NULL, NULL),
  ('EU_EEA', 'JE', 'Commission Decision 2008/393/EC', '2008-05-08', NULL, NULL),
  ('EU_EEA', 'JP', 'Commission Implementing Decision (EU) 2019/419', '2019-01-23', 'Only private-sector organisations (business operators) subject to the APPI and the Supplementary Rules', NULL),
  ('EU_EEA', 'KR', 'Commission Implementing Decision (EU) 2022/254', '2021-12-17', 'Organisations subject to PIPA, excluding processing of personal credit information by organisations supervised by the Financial Services Commission', NULL),
  ('EU_EEA', 'NZ', 'Commission Implementing Decision 2013/65/EU', '2012-12-19', NULL, NULL),
  ('EU_EEA', 'US', 'Commission Implementing Decision (EU) 2023/1795', '2023-07-10', 'Only organisations certified under the EU-U.S. Data Privacy Framework', 'EU_US_DPF'),
  ('EU_EEA', 'UY', 'Commission Implementing Decision 2012/484/EU', '2012-08-21', NULL, NULL);
--> statement-breakpoint
INSERT INTO adequacy_decisions (jurisdiction, country, instrument, adopted_on, scope_condition, requires_certification) VALUES
  ('UK', 'AT', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'BE', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'BG', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'CY', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'CZ', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'DE', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'DK', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'EE', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'ES', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'FI', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'FR', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'GI', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'GR', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'HR', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'HU', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'IE', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'IS', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'IT', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'LI', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'LT', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'LU', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'LV', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'MT', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'NL', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'NO', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'PL', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'PT', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'RO', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'SE', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'SI', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'SK', 'Data Protection Act 2018, Schedule 21 para 5 (transitional adequacy regulations)', '2021-01-01', NULL, NULL),
  ('UK', 'AD', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'AR', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'CA', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', 'Only commercial organisations subject to PIPEDA', NULL),
  ('UK', 'CH', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'FO', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'GG', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'IL', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'IM', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'JE', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'JP', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', 'Only private-sector organisations (business operators) subject to the APPI and the Supplementary Rules', NULL),
  ('UK', 'NZ', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'UY', 'Data Protection Act 2018, Schedule 21 para 4', '2021-01-01', NULL, NULL),
  ('UK', 'KR', 'The Data Protection (Adequacy) (Republic of Korea) Regulations 2022', '2022-12-19', NULL, NULL),
  ('UK', 'US', 'The Data Protection (Adequacy) (United States of America) Regulations 2023', '2023-10-12', 'Only organisations certified under the UK Extension to the EU-U.S. Data Privacy Framework', 'UK_US_DATA_BRIDGE');
--> statement-breakpoint
-- The audit log is append-only whoever asks: the database itself refuses UPDATE, DELETE and TRUNCATE.
CREATE FUNCTION refuse_history_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events FOR EACH ROW EXECUTE FUNCTION refuse_history_change();
--> statement-breakpoint
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_change();
