// Every closed vocabulary of the domain, once: the database enums and the GraphQL enums
// are both built from these lists, so the two can never disagree.
import { pgEnum } from 'drizzle-orm/pg-core';

export const SERVICES = [
  'DISTRIBUTION',
  'TECHNICAL_SUPPORT',
  'ORDER_PROCESSING',
  'PAYMENT_PROCESSING',
  'MARKETING_EMAIL',
  'HOSTING',
  'OTHER',
] as const;
export const CONTRACTOR_ROLES = ['PROCESSOR', 'SUBPROCESSOR', 'INDEPENDENT_CONTROLLER'] as const;
export const CONTRACTOR_STATUSES = ['ONBOARDING', 'ACTIVE', 'SUSPENDED', 'TERMINATED'] as const;
export const OPERATIONS = ['COLLECTION', 'TRANSFER', 'STORAGE', 'PROCESSING'] as const;
export const SENSITIVITIES = ['PUBLIC', 'INTERNAL', 'PERSONAL', 'RESTRICTED'] as const;
export const PURPOSES = [
  'ORDER_FULFILMENT',
  'TECHNICAL_SUPPORT',
  'PRODUCT_DISTRIBUTION',
  'ALERTS_AND_NEWSLETTERS',
  'SPECIAL_OFFERS',
  'PRODUCT_IMPROVEMENT',
  'PERSONALISATION',
  'TRAFFIC_STATISTICS',
  'LEGAL_OBLIGATION',
] as const;
/** Stored grant statuses. What a grant reads as at a moment adds SCHEDULED (see src/registry/grants.ts). */
export const GRANT_STATUSES = ['ACTIVE', 'REVOKED', 'EXPIRED'] as const;
/**
 * A grant's status at a moment: SCHEDULED before its validFrom, EXPIRED from its validUntil, SUSPENDED_BY_POLICY
 * from the effective instant of a policy change that no longer allows its route; never stored.
 */
export const GRANT_STATUSES_AT = ['SCHEDULED', ...GRANT_STATUSES, 'SUSPENDED_BY_POLICY'] as const;
export const DEROGATIONS = [
  'EXPLICIT_CONSENT',
  'CONTRACT_WITH_SUBJECT',
  'CONTRACT_IN_SUBJECT_INTEREST',
  'PUBLIC_INTEREST',
  'LEGAL_CLAIMS',
  'VITAL_INTERESTS',
  'PUBLIC_REGISTER',
  'COMPELLING_LEGITIMATE_INTERESTS',
] as const;
/**
 * IDTA and UK_ADDENDUM are the UK GDPR's own safeguards (the International Data Transfer Agreement, and the
 * Addendum amending the EU SCCs, which carries the SCC module it amends as `sccModule`).
 */
export const MECHANISMS = [
  'NOT_REQUIRED',
  'ADEQUACY',
  'SCC',
  'BCR',
  'INTRA_GROUP_AGREEMENT',
  'IDTA',
  'UK_ADDENDUM',
  ...DEROGATIONS,
] as const;
/** The mechanisms that carry an EU SCC module: the clauses themselves, and the UK Addendum that amends them. */
export const MECHANISMS_WITH_SCC_MODULE: readonly Mechanism[] = ['SCC', 'UK_ADDENDUM'];
export const OBLIGATION_KINDS = [
  'DOCUMENTED_INSTRUCTIONS',
  'CONFIDENTIALITY',
  'SECURITY_MEASURES',
  'SUBPROCESSOR_APPROVAL',
  'SUBJECT_RIGHTS_ASSISTANCE',
  'BREACH_NOTIFICATION',
  'RETURN_OR_DELETION',
  'AUDIT_COOPERATION',
] as const;
/** Certifications that adequacy decisions with a condition ask of the importer (e.g. the EU-U.S. DPF). */
export const CERTIFICATIONS = ['EU_US_DPF', 'UK_US_DATA_BRIDGE', 'SWISS_US_DPF'] as const;
export const STAFF_ROLES = ['COMPLIANCE', 'AUDITOR'] as const;
export const TRANSFER_KINDS = [
  'CONTRACTOR_SHARE',
  'INTRA_GROUP',
  'ONWARD_TRANSFER',
  'CONTRACTOR_ACCESS',
  'LEGAL_DISCLOSURE',
] as const;
export const IMPORTER_KINDS = ['CONTRACTOR', 'OFFICE', 'AUTHORITY'] as const;
export const AUTHORITY_TYPES = ['LAW_ENFORCEMENT', 'GOVERNMENT_AGENCY', 'COURT', 'REGULATOR', 'OTHER'] as const;
export const LEGAL_INSTRUMENTS = [
  'SUBPOENA',
  'COURT_ORDER',
  'WARRANT',
  'MLAT_REQUEST',
  'EMERGENCY_REQUEST',
  'OTHER',
] as const;
export const DISCLOSURE_STATUSES = [
  'RECEIVED',
  'UNDER_REVIEW',
  'DISCLOSED',
  'PARTIALLY_DISCLOSED',
  'REJECTED',
  'WITHDRAWN',
] as const;
/** The outcomes decideDisclosureRequest may set (WITHDRAWN has its own mutation). */
export const DISCLOSURE_DECISIONS = ['DISCLOSED', 'PARTIALLY_DISCLOSED', 'REJECTED'] as const;

export type Service = (typeof SERVICES)[number];
export type ContractorRole = (typeof CONTRACTOR_ROLES)[number];
export type ContractorStatus = (typeof CONTRACTOR_STATUSES)[number];
export type Operation = (typeof OPERATIONS)[number];
export type Sensitivity = (typeof SENSITIVITIES)[number];
export type Purpose = (typeof PURPOSES)[number];
export type GrantStatus = (typeof GRANT_STATUSES)[number];
export type GrantStatusAt = (typeof GRANT_STATUSES_AT)[number];
export type Mechanism = (typeof MECHANISMS)[number];
export type Derogation = (typeof DEROGATIONS)[number];
export type ObligationKind = (typeof OBLIGATION_KINDS)[number];
export type Certification = (typeof CERTIFICATIONS)[number];
export type StaffRole = (typeof STAFF_ROLES)[number];
export type TransferKind = (typeof TRANSFER_KINDS)[number];
export type ImporterKind = (typeof IMPORTER_KINDS)[number];
export type AuthorityType = (typeof AUTHORITY_TYPES)[number];
export type LegalInstrument = (typeof LEGAL_INSTRUMENTS)[number];
export type DisclosureStatus = (typeof DISCLOSURE_STATUSES)[number];

export const serviceEnum = pgEnum('service', SERVICES);
export const contractorRoleEnum = pgEnum('contractor_role', CONTRACTOR_ROLES);
export const contractorStatusEnum = pgEnum('contractor_status', CONTRACTOR_STATUSES);
export const operationEnum = pgEnum('operation', OPERATIONS);
export const sensitivityEnum = pgEnum('sensitivity', SENSITIVITIES);
export const purposeEnum = pgEnum('purpose', PURPOSES);
export const grantStatusEnum = pgEnum('grant_status', GRANT_STATUSES);
export const mechanismEnum = pgEnum('mechanism', MECHANISMS);
export const obligationKindEnum = pgEnum('obligation_kind', OBLIGATION_KINDS);
export const certificationEnum = pgEnum('certification', CERTIFICATIONS);
export const transferKindEnum = pgEnum('transfer_kind', TRANSFER_KINDS);
export const importerKindEnum = pgEnum('importer_kind', IMPORTER_KINDS);
export const authorityTypeEnum = pgEnum('authority_type', AUTHORITY_TYPES);
export const legalInstrumentEnum = pgEnum('legal_instrument', LEGAL_INSTRUMENTS);
export const disclosureStatusEnum = pgEnum('disclosure_status', DISCLOSURE_STATUSES);
