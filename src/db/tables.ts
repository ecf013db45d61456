// The registry's tables. Column names are explicit snake_case; every filter the API offers has an index here.
import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  char,
  check,
  customType,
  date,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  unique,
  uniqueIndex,
} from 'drizzle-orm/pg-core';
import {
  certificationEnum,
  contractorRoleEnum,
  contractorStatusEnum,
  grantStatusEnum,
  mechanismEnum,
  obligationKindEnum,
  operationEnum,
  purposeEnum,
  sensitivityEnum,
  serviceEnum,
  authorityTypeEnum,
  disclosureStatusEnum,
  importerKindEnum,
  legalInstrumentEnum,
  transferKindEnum,
} from './enums.js';

/** When seeded policy rows came into force as far as the registry knows: before any change it records. */
const POLICY_EPOCH = sql`'1970-01-01T00:00:00Z'`;
/** A policy row's valid-time period [valid_from, valid_until): the row is the policy in force within it. */
const validFrom = () => timestamp('valid_from', { withTimezone: true }).notNull().default(POLICY_EPOCH);
const validUntil = () => timestamp('valid_until', { withTimezone: true });

const createdAt = () => timestamp('created_at', { withTimezone: true }).notNull().defaultNow();
const updatedAt = () => timestamp('updated_at', { withTimezone: true }).notNull().defaultNow();

export const offices = pgTable(
  'offices',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull(),
    legalEntity: text('legal_entity').notNull(),
    country: char('country', { length: 2 }).notNull(),
    city: text('city').notNull(),
    isHeadquarters: boolean('is_headquarters').notNull().default(false),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('offices_country_idx').on(t.country, t.id),
    // One headquarters for the group.
    uniqueIndex('offices_one_headquarters')
      .on(t.isHeadquarters)
      .where(sql`${t.isHeadquarters}`),
  ],
);

export const contractors = pgTable(
  'contractors',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    legalName: text('legal_name').notNull(),
    country: char('country', { length: 2 }).notNull(),
    services: serviceEnum('services').array().notNull(),
    role: contractorRoleEnum('role').notNull(),
    /** For a SUBPROCESSOR: the contractor that engaged it. */
    parentContractorId: integer('parent_contractor_id').references((): any => contractors.id),
    status: contractorStatusEnum('status').notNull().default('ONBOARDING'),
    statusReason: text('status_reason'),
    statusChangedAt: timestamp('status_changed_at', { withTimezone: true }),
    contactName: text('contact_name'),
    contactEmail: text('contact_email'),
    contractReference: text('contract_reference'),
    dpaSignedOn: date('dpa_signed_on', { mode: 'string' }),
    certifications: certificationEnum('certifications')
      .array()
      .notNull()
      .default(sql`'{}'`),
    version: integer('version').notNull().default(1),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('contractors_country_idx').on(t.country, t.id),
    index('contractors_status_idx').on(t.status, t.id),
    index('contractors_services_idx').using('gin', t.services),
    // The list's name filter: words of the legal name, matched by prefix (src/registry/contractors.ts).
    index('contractors_name_idx').using('gin', sql`to_tsvector('simple', translate(${t.legalName}, './@:', '    '))`),
    index('contractors_parent_idx').on(t.parentContractorId),
  ],
);

export const processingLocations = pgTable(
  'processing_locations',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    contractorId: integer('contractor_id')
      .notNull()
      .references(() => contractors.id),
    country: char('country', { length: 2 }).notNull(),
    operations: operationEnum('operations').array().notNull(),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex('processing_locations_contractor_country').on(t.contractorId, t.country)],
);

export const dataCategories = pgTable(
  'data_categories',
  {
    key: text('key').primaryKey(),
    parentKey: text('parent_key').references((): any => dataCategories.key),
    name: text('name').notNull(),
    description: text('description').notNull(),
    sensitivity: sensitivityEnum('sensitivity').notNull(),
    createdAt: createdAt(),
  },
  (t) => [index('data_categories_parent_idx').on(t.parentKey)],
);

export const purposes = pgTable('purposes', {
  key: purposeEnum('key').primaryKey(),
  name: text('name').notNull(),
  description: text('description').notNull(),
  /** Why the purpose may use only the categories of purpose_categories: the refusal names it. */
  categoryLimitReason: text('category_limit_reason'),
});

/** Purpose limitation: the data categories each purpose may use (a group key covers its children, as a grant does). */
export const purposeCategories = pgTable(
  'purpose_categories',
  {
    purpose: purposeEnum('purpose')
      .notNull()
      .references(() => purposes.key),
    categoryKey: text('category_key')
      .notNull()
      .references(() => dataCategories.key),
    validFrom: validFrom(),
    validUntil: validUntil(),
  },
  (t) => [primaryKey({ columns: [t.purpose, t.categoryKey, t.validFrom] })],
);

export const grants = pgTable(
  'grants',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    contractorId: integer('contractor_id')
      .notNull()
      .references(() => contractors.id),
    officeId: integer('office_id')
      .notNull()
      .references(() => offices.id),
    purpose: purposeEnum('purpose').notNull(),
    validFrom: timestamp('valid_from', { withTimezone: true }).notNull(),
    validUntil: timestamp('valid_until', { withTimezone: true }),
    mechanism: mechanismEnum('mechanism').notNull(),
    sccModule: smallint('scc_module'),
    tiaReference: text('tia_reference'),
    tiaDate: date('tia_date', { mode: 'string' }),
    crossBorder: boolean('cross_border').notNull(),
    /** The transfer policy's explanation of why this route is allowed, kept as decided. */
    policyExplanation: text('policy_explanation').notNull(),
    status: grantStatusEnum('status').notNull().default('ACTIVE'),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revocationReason: text('revocation_reason'),
    /** From this instant a policy change no longer allows the grant's route: it reads SUSPENDED_BY_POLICY. */
    suspendedByPolicyFrom: timestamp('suspended_by_policy_from', { withTimezone: true }),
    policySuspensionReason: text('policy_suspension_reason'),
    suspendedByChangeId: integer('suspended_by_change_id').references(() => policyChanges.id),
    /**
     * An onward grant: the grant of the processor that engaged this sub-processor. Same office, purpose within
     * it, categories within its; it ends when that grant is revoked.
     */
    parentGrantId: integer('parent_grant_id').references((): any => grants.id),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    index('grants_contractor_idx').on(t.contractorId, t.id),
    // policyFindings: the grants a policy change suspended, the work queue of what to re-paper.
    index('grants_policy_findings_idx')
      .on(t.id)
      .where(sql`${t.suspendedByPolicyFrom} is not null`),
    index('grants_suspended_by_change_idx')
      .on(t.suspendedByChangeId)
      .where(sql`${t.suspendedByChangeId} is not null`),
    index('grants_parent_idx')
      .on(t.parentGrantId)
      .where(sql`${t.parentGrantId} is not null`),
    index('grants_office_idx').on(t.officeId),
    index('grants_status_idx').on(t.status, t.id),
    index('grants_purpose_idx').on(t.purpose, t.id),
    check('grants_validity_order', sql`${t.validUntil} is null or ${t.validUntil} > ${t.validFrom}`),
    check(
      'grants_scc_module',
      // Compared as text: a new enum value cannot be used as a literal in the migration that adds it.
      sql`(${t.mechanism}::text in ('SCC', 'UK_ADDENDUM')) = (${t.sccModule} is not null) and (${t.sccModule} is null or ${t.sccModule} between 1 and 4)`,
    ),
  ],
);

export const grantCategories = pgTable(
  'grant_categories',
  {
    grantId: integer('grant_id')
      .notNull()
      .references(() => grants.id),
    categoryKey: text('category_key')
      .notNull()
      .references(() => dataCategories.key),
  },
  (t) => [
    primaryKey({ columns: [t.grantId, t.categoryKey] }),
    index('grant_categories_category_idx').on(t.categoryKey),
  ],
);

export const obligations = pgTable(
  'obligations',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    contractorId: integer('contractor_id')
      .notNull()
      .references(() => contractors.id),
    kind: obligationKindEnum('kind').notNull(),
    text: text('text').notNull(),
    sourceDocument: text('source_document').notNull(),
    clause: text('clause'),
    breachNotificationHours: integer('breach_notification_hours'),
    effectiveFrom: date('effective_from', { mode: 'string' }).notNull(),
    expiresOn: date('expires_on', { mode: 'string' }),
    reviewDueOn: date('review_due_on', { mode: 'string' }),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: timestamp('acknowledged_at', { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    index('obligations_contractor_idx').on(t.contractorId, t.id),
    index('obligations_expires_idx').on(t.expiresOn),
    index('obligations_review_idx').on(t.reviewDueOn),
    index('obligations_unacknowledged_idx')
      .on(t.id)
      .where(sql`${t.acknowledgedAt} is null`),
    check('obligations_date_order', sql`${t.expiresOn} is null or ${t.expiresOn} > ${t.effectiveFrom}`),
    check(
      'obligations_breach_hours',
      sql`(${t.kind} = 'BREACH_NOTIFICATION') = (${t.breachNotificationHours} is not null)`,
    ),
  ],
);

// Transfer policy: data, seeded by migration, changed through the API (src/registry/policy-changes.ts) and read by
// the pure functions in src/policy. Rows are versions with a valid-time period: a change closes the version in
// force at its effective instant and inserts the next, so the policy in force at any instant can be read back.
export const jurisdictions = pgTable('jurisdictions', {
  code: text('code').primaryKey(),
  name: text('name').notNull(),
  law: text('law').notNull(),
  validFrom: validFrom(),
});

export const jurisdictionMembers = pgTable(
  'jurisdiction_members',
  {
    jurisdiction: text('jurisdiction')
      .notNull()
      .references(() => jurisdictions.code),
    country: char('country', { length: 2 }).notNull(),
    validFrom: validFrom(),
    validUntil: validUntil(),
  },
  (t) => [
    primaryKey({ columns: [t.jurisdiction, t.country, t.validFrom] }),
    index('jurisdiction_members_country_idx').on(t.country),
  ],
);

export const adequacyDecisions = pgTable(
  'adequacy_decisions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    jurisdiction: text('jurisdiction')
      .notNull()
      .references(() => jurisdictions.code),
    country: char('country', { length: 2 }).notNull(),
    instrument: text('instrument').notNull(),
    adoptedOn: date('adopted_on', { mode: 'string' }).notNull(),
    scopeCondition: text('scope_condition'),
    requiresCertification: certificationEnum('requires_certification'),
    /** This version records the decision as suspended: it gives no adequacy while in force. */
    suspended: boolean('suspended').notNull().default(false),
    validFrom: validFrom(),
    validUntil: validUntil(),
    /** The policy change that wrote this version; null for the seeded first version. */
    changeId: integer('change_id').references(() => policyChanges.id),
  },
  (t) => [
    index('adequacy_decisions_route_idx').on(t.jurisdiction, t.country, t.validFrom),
    index('adequacy_decisions_country_idx').on(t.country),
    check('adequacy_decisions_period', sql`${t.validUntil} is null or ${t.validUntil} > ${t.validFrom}`),
  ],
);

/** Routes a law forbids outright (data localisation): exporter country → importer country, or any importer when null. */
export const routeRestrictions = pgTable(
  'route_restrictions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    exporterCountry: char('exporter_country', { length: 2 }).notNull(),
    importerCountry: char('importer_country', { length: 2 }),
    legalBasis: text('legal_basis').notNull(),
    reason: text('reason').notNull(),
    validFrom: validFrom(),
    validUntil: validUntil(),
    changeId: integer('change_id').references(() => policyChanges.id),
  },
  (t) => [
    index('route_restrictions_exporter_idx').on(t.exporterCountry),
    check('route_restrictions_period', sql`${t.validUntil} is null or ${t.validUntil} > ${t.validFrom}`),
  ],
);

/**
 * Every change to the policy, as recorded: what (kind and its input), why, from when. A change effective later is
 * applied (its grants' tokens revoked) at that instant by whichever instance claims it first: `applied_at` is set
 * once, by `update … where applied_at is null`.
 */
export const policyChanges = pgTable(
  'policy_changes',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    kind: text('kind').notNull(),
    details: jsonb('details').notNull(),
    reason: text('reason').notNull(),
    effectiveAt: timestamp('effective_at', { withTimezone: true }).notNull(),
    recordedBy: text('recorded_by').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull(),
    appliedAt: timestamp('applied_at', { withTimezone: true }),
    /** The grants it suspended, when recorded. */
    suspendedGrants: integer('suspended_grants').notNull().default(0),
  },
  (t) => [
    index('policy_changes_due_idx')
      .on(t.effectiveAt)
      .where(sql`${t.appliedAt} is null`),
  ],
);

/**
 * Art. 49 derogations are for occasional transfers: at most `maxTransfers` transfers and `maxRecords` records per
 * rolling 12 months on one route (exporter country → importer country) under one derogation. The most specific
 * row in force applies: a null derogation or country matches any. Policy data like the tables above: versions with
 * a valid-time period, written by policy changes (`setDerogationLimit`); seeded with a default row that matches
 * everything.
 */
export const derogationLimits = pgTable(
  'derogation_limits',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    derogation: mechanismEnum('derogation'),
    exporterCountry: char('exporter_country', { length: 2 }),
    importerCountry: char('importer_country', { length: 2 }),
    maxTransfers: integer('max_transfers').notNull(),
    maxRecords: integer('max_records').notNull(),
    validFrom: validFrom(),
    validUntil: validUntil(),
    /** The policy change that wrote this version; null for a seeded one. */
    changeId: integer('change_id').references(() => policyChanges.id),
  },
  (t) => [
    unique('derogation_limits_version')
      .on(t.derogation, t.exporterCountry, t.importerCountry, t.validFrom)
      .nullsNotDistinct(),
    check('derogation_limits_bounds', sql`${t.maxTransfers} >= 0 and ${t.maxRecords} >= 0`),
    check('derogation_limits_period', sql`${t.validUntil} is null or ${t.validUntil} > ${t.validFrom}`),
  ],
);

/**
 * The privacy policy's sharing section as published: each version frozen with the statements it makes (the
 * drift report compares the registry with them) and its Markdown. Append-only.
 */
export const disclosureVersions = pgTable('disclosure_versions', {
  version: integer('version').primaryKey(),
  effectiveOn: date('effective_on', { mode: 'string' }).notNull(),
  statements: jsonb('statements').notNull(),
  markdown: text('markdown').notNull(),
  publishedBy: text('published_by').notNull(),
  publishedAt: timestamp('published_at', { withTimezone: true }).notNull(),
});

/** Signing keys of the service when it runs on PostgreSQL; the private JWK is encrypted (AES-256-GCM). */
export const signingKeys = pgTable('signing_keys', {
  kid: text('kid').primaryKey(),
  publicJwk: jsonb('public_jwk').notNull(),
  encryptedPrivateJwk: text('encrypted_private_jwk').notNull(),
  createdAt: createdAt(),
  retiredAt: timestamp('retired_at', { withTimezone: true }),
});

/** PostgreSQL's 64-bit transaction id: which transaction wrote an audit event (src/audit/seal.ts orders by it). */
const xid8 = customType<{ data: string; driverData: string }>({ dataType: () => 'xid8' });

/**
 * What happened, written in the transaction of the change. `seq` numbers events in the order they were written
 * (gaps allowed: a rolled-back transaction uses numbers too); their place in the log is given later by the
 * sealer (`audit_seals`), so no writing transaction waits for another to extend the log.
 *
 * Partitioned by month on `occurred_at` (src/db/partitions.ts; drizzle cannot say so: the partitioning is in the
 * migration's hand-written SQL), so the primary key holds the partition key; `seq` alone stays unique, being
 * taken from one identity.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigint('seq', { mode: 'number' }).generatedByDefaultAsIdentity(),
    xid: xid8('xid')
      .notNull()
      .default(sql`pg_current_xact_id()`),
    occurredAt: timestamp('occurred_at', { withTimezone: true, mode: 'string' }).notNull(),
    actor: text('actor').notNull(),
    actorRole: text('actor_role').notNull(),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    /** The content hash of every evidence row the change wrote, [{table, key, hash}] (src/audit/rows.ts); in the event's log entry when non-empty. */
    rowHashes: jsonb('row_hashes')
      .$type<{ table: string; key: string; hash: string | null }[]>()
      .notNull()
      .default(sql`'[]'::jsonb`),
  },
  (t) => [
    primaryKey({ columns: [t.seq, t.occurredAt] }),
    index('audit_events_actor_idx').on(t.actor, t.seq),
    index('audit_events_entity_idx').on(t.entityType, t.entityId, t.seq),
    index('audit_events_time_idx').on(t.occurredAt),
    // The sealer's next batch: events after the last sealed (xid, seq).
    index('audit_events_xid_idx').on(t.xid, t.seq),
  ],
);

/**
 * The log: each event's place (`position`, gapless from 1, never changed), its Merkle leaf hash and the hash
 * chain over the entries. Written only by the sealer; append-only.
 */
export const auditSeals = pgTable('audit_seals', {
  position: bigint('position', { mode: 'number' }).primaryKey(),
  // No foreign key: an event's row may be archived with its month (src/audit/archive.ts) while its seal stays.
  eventSeq: bigint('event_seq', { mode: 'number' }).notNull().unique(),
  eventXid: xid8('event_xid').notNull(),
  leafHash: text('leaf_hash').notNull(),
  prevHash: text('prev_hash').notNull(),
  hash: text('hash').notNull(),
});

/**
 * The Merkle tree's complete subtrees (RFC 9162 hashing): the node at `level` and `index` covers leaves
 * [index·2^level, (index+1)·2^level). A root or a proof reads O(log n) of them, never the events. Append-only.
 */
export const auditMerkleNodes = pgTable(
  'audit_merkle_nodes',
  {
    level: smallint('level').notNull(),
    index: bigint('index', { mode: 'number' }).notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [primaryKey({ columns: [t.level, t.index] })],
);

/** Signed tree heads: the log's size and root at a moment, signed with the checkpoint key. Append-only. */
export const auditCheckpoints = pgTable('audit_checkpoints', {
  treeSize: bigint('tree_size', { mode: 'number' }).primaryKey(),
  origin: text('origin').notNull(),
  rootHash: text('root_hash').notNull(),
  issuedAt: text('issued_at').notNull(),
  keyId: text('key_id').notNull(),
  signature: text('signature').notNull(),
});

/** A set of bigint ranges (PostgreSQL's int8multirange), as its text form, e.g. `{[1,5),[9,12)}`. */
const int8multirange = customType<{ data: string; driverData: string }>({ dataType: () => 'int8multirange' });

/**
 * Months of history archived (src/audit/archive.ts): their partitions of `transfers` and `audit_events` were
 * exported to files and detached. The events' seals and the Merkle subtrees stay, so their leaves remain in the
 * tree and provable; verification counts a sealed event whose row is gone as archived only if its `seq` is in
 * an archive's `event_seqs`. `row_hashes` carries forward the evidence-row hashes the archived events vouched
 * for that are still in force (rows not archived with them). Append-only.
 */
export const auditArchives = pgTable('audit_archives', {
  /** The month, `YYYY-MM`. */
  month: text('month').primaryKey(),
  events: bigint('events', { mode: 'number' }).notNull(),
  transfers: bigint('transfers', { mode: 'number' }).notNull(),
  eventSeqs: int8multirange('event_seqs').notNull(),
  transferIds: int8multirange('transfer_ids').notNull(),
  rowHashes: jsonb('row_hashes').$type<{ table: string; key: string; hash: string | null }[]>().notNull(),
  /** The exported files: [{name, rows, sha256}]. */
  files: jsonb('files').$type<{ name: string; rows: number; sha256: string }[]>().notNull(),
  archivedAt: timestamp('archived_at', { withTimezone: true, mode: 'string' }).notNull().defaultNow(),
});

/**
 * Tokens issued to contractors. The token itself is never stored: only its jti and metadata, so it can be
 * listed and revoked. `kid` says which signing key signed it (a retired key stays published while it has live tokens).
 */
export const accessTokens = pgTable(
  'access_tokens',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    jti: text('jti').notNull().unique(),
    kid: text('kid').notNull(),
    contractorId: integer('contractor_id')
      .notNull()
      .references(() => contractors.id),
    scopes: text('scopes').array().notNull(),
    categories: text('categories').array().notNull(),
    purposes: purposeEnum('purposes').array().notNull(),
    issuedBy: text('issued_by').notNull(),
    issuedAt: timestamp('issued_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    revokedBy: text('revoked_by'),
    revocationReason: text('revocation_reason'),
  },
  (t) => [
    index('access_tokens_contractor_idx').on(t.contractorId, t.id),
    index('access_tokens_kid_idx').on(t.kid, t.expiresAt),
    index('access_tokens_revoked_idx')
      .on(t.expiresAt)
      .where(sql`${t.revokedAt} is not null`),
    index('access_tokens_active_idx')
      .on(t.expiresAt)
      .where(sql`${t.revokedAt} is null`),
  ],
);

/** Records of data subjects held by the company: values keyed by data-category key, per exporting office. */
export const sharedRecords = pgTable(
  'shared_records',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    officeId: integer('office_id')
      .notNull()
      .references(() => offices.id),
    /** Pseudonymous: never a name or e-mail. */
    subjectRef: text('subject_ref').notNull(),
    values: jsonb('values').$type<Record<string, string>>().notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex('shared_records_office_subject').on(t.officeId, t.subjectRef),
    index('shared_records_office_page_idx').on(t.officeId, t.id),
    index('shared_records_subject_idx').on(t.subjectRef),
  ],
);

/** A subject's objection to a purpose (the policy's newsletter opt-out is the first case); holds for records imported later too. */
export const subjectOptOuts = pgTable(
  'subject_opt_outs',
  {
    subjectRef: text('subject_ref').notNull(),
    purpose: purposeEnum('purpose').notNull(),
    recordedBy: text('recorded_by').notNull(),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.subjectRef, t.purpose] })],
);

/** A request from an authority for data (GDPR Art. 48; SCC clause 15). Status moves only RECEIVED → UNDER_REVIEW → a decision, or WITHDRAWN. */
export const disclosureRequests = pgTable(
  'disclosure_requests',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    officeId: integer('office_id')
      .notNull()
      .references(() => offices.id),
    authorityName: text('authority_name').notNull(),
    authorityType: authorityTypeEnum('authority_type').notNull(),
    authorityCountry: char('authority_country', { length: 2 }).notNull(),
    instrument: legalInstrumentEnum('instrument').notNull(),
    reference: text('reference').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true, precision: 3 }).notNull(),
    dueAt: timestamp('due_at', { withTimezone: true, precision: 3 }).notNull(),
    requestedCategories: text('requested_categories').array().notNull(),
    subjectsRequested: integer('subjects_requested').notNull(),
    status: disclosureStatusEnum('status').notNull().default('RECEIVED'),
    /** Art. 48: the authority is outside the exporting office's jurisdiction. */
    foreignAuthority: boolean('foreign_authority').notNull(),
    foreignAuthorityReason: text('foreign_authority_reason'),
    /** The international agreement (e.g. an MLAT reference) a flagged request is disclosed under. */
    legalBasis: text('legal_basis'),
    disclosedCategories: text('disclosed_categories').array(),
    subjectsDisclosed: integer('subjects_disclosed'),
    rationale: text('rationale'),
    gagUntil: date('gag_until', { mode: 'string' }),
    exporterNotified: boolean('exporter_notified').notNull().default(false),
    subjectsNotified: boolean('subjects_notified').notNull().default(false),
    challenged: boolean('challenged').notNull().default(false),
    decidedBy: text('decided_by'),
    decidedAt: timestamp('decided_at', { withTimezone: true, precision: 3 }),
    createdBy: text('created_by').notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index('disclosure_requests_received_idx').on(t.receivedAt, t.id),
    index('disclosure_requests_status_idx').on(t.status, t.id),
    index('disclosure_requests_open_due_idx')
      .on(t.dueAt, t.id)
      .where(sql`${t.status} in ('RECEIVED', 'UNDER_REVIEW')`),
    index('disclosure_requests_foreign_idx')
      .on(t.id)
      .where(sql`${t.foreignAuthority}`),
    index('disclosure_requests_office_idx').on(t.officeId),
    check('disclosure_requests_due_order', sql`${t.dueAt} >= ${t.receivedAt}`),
    check(
      'disclosure_requests_subjects',
      sql`${t.subjectsRequested} >= 0 and (${t.subjectsDisclosed} is null or ${t.subjectsDisclosed} >= 0)`,
    ),
  ],
);

/**
 * The transfer history: one append-only row per event (the database refuses UPDATE, DELETE and TRUNCATE).
 * Times have millisecond precision so that keyset cursors (JS Dates) compare exactly.
 *
 * Partitioned by month on `occurred_at` (src/db/partitions.ts; the partitioning is in the migration's
 * hand-written SQL), so the primary key holds the partition key; `id` alone stays unique, being taken from one
 * identity. No table references a transfer by foreign key.
 */
export const transfers = pgTable(
  'transfers',
  {
    id: bigint('id', { mode: 'number' }).generatedAlwaysAsIdentity(),
    occurredAt: timestamp('occurred_at', { withTimezone: true, precision: 3 }).notNull(),
    kind: transferKindEnum('kind').notNull(),
    exporterOfficeId: integer('exporter_office_id')
      .notNull()
      .references(() => offices.id),
    /** ONWARD_TRANSFER: the processor passing the data on. */
    exporterContractorId: integer('exporter_contractor_id').references(() => contractors.id),
    exporterCountry: char('exporter_country', { length: 2 }).notNull(),
    /** ONWARD_TRANSFER: the exporting office's country, whose regime the route was judged under (the original exporter). */
    originCountry: char('origin_country', { length: 2 }),
    importerKind: importerKindEnum('importer_kind').notNull(),
    importerContractorId: integer('importer_contractor_id').references(() => contractors.id),
    importerOfficeId: integer('importer_office_id').references(() => offices.id),
    importerAuthority: text('importer_authority'),
    importerCountry: char('importer_country', { length: 2 }).notNull(),
    categories: text('categories').array().notNull(),
    purpose: purposeEnum('purpose').notNull(),
    mechanism: mechanismEnum('mechanism').notNull(),
    sccModule: smallint('scc_module'),
    derogationJustification: text('derogation_justification'),
    policyExplanation: text('policy_explanation').notNull(),
    recordCount: integer('record_count').notNull(),
    crossBorder: boolean('cross_border').notNull(),
    /** The data left the exporter's jurisdiction (e.g. the EEA), not just its country. */
    thirdCountry: boolean('third_country').notNull(),
    grantId: integer('grant_id').references(() => grants.id),
    disclosureRequestId: integer('disclosure_request_id').references(() => disclosureRequests.id),
    accessTokenId: integer('access_token_id').references(() => accessTokens.id),
    recordedBy: text('recorded_by').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.occurredAt] }),
    // Every filter of `transfers` pairs with the page order (occurred_at desc, id desc).
    index('transfers_time_idx').on(t.occurredAt, t.id),
    index('transfers_contractor_idx').on(t.importerContractorId, t.occurredAt, t.id),
    index('transfers_importer_country_idx').on(t.importerCountry, t.occurredAt, t.id),
    index('transfers_purpose_idx').on(t.purpose, t.occurredAt, t.id),
    index('transfers_kind_idx').on(t.kind, t.occurredAt, t.id),
    index('transfers_mechanism_idx').on(t.mechanism, t.occurredAt, t.id),
    index('transfers_categories_idx').using('gin', t.categories),
    index('transfers_cross_border_idx')
      .on(t.occurredAt, t.id)
      .where(sql`${t.crossBorder}`),
    index('transfers_third_country_idx')
      .on(t.occurredAt, t.id)
      .where(sql`${t.thirdCountry}`),
    index('transfers_exporter_office_idx').on(t.exporterOfficeId),
    index('transfers_exporter_contractor_idx')
      .on(t.exporterContractorId)
      .where(sql`${t.exporterContractorId} is not null`),
    index('transfers_importer_office_idx')
      .on(t.importerOfficeId)
      .where(sql`${t.importerOfficeId} is not null`),
    index('transfers_grant_idx')
      .on(t.grantId)
      .where(sql`${t.grantId} is not null`),
    index('transfers_disclosure_idx')
      .on(t.disclosureRequestId)
      .where(sql`${t.disclosureRequestId} is not null`),
    index('transfers_access_token_idx')
      .on(t.accessTokenId)
      .where(sql`${t.accessTokenId} is not null`),
    check('transfers_record_count', sql`${t.recordCount} >= 0`),
    check('transfers_categories_nonempty', sql`cardinality(${t.categories}) > 0`),
    check(
      'transfers_importer',
      sql`(${t.importerKind} = 'CONTRACTOR') = (${t.importerContractorId} is not null)
    and (${t.importerKind} = 'OFFICE') = (${t.importerOfficeId} is not null)
    and (${t.importerKind} = 'AUTHORITY') = (${t.importerAuthority} is not null)`,
    ),
    check('transfers_scc_module', sql`(${t.mechanism}::text in ('SCC', 'UK_ADDENDUM')) = (${t.sccModule} is not null)`),
  ],
);

/**
 * Answers to mutations sent with an Idempotency-Key, per bearer token (`principal` holds `token:` and the
 * token's SHA-256), so a retry after a dropped connection gets the same answer instead of a second effect.
 * A row is claimed (no response yet) before the mutation runs, by one request (`owner`, a fresh ID per claim)
 * whose answer is due by its deadline (`answer_due_at`); an answer still missing after that never comes.
 * `response` is sealed (AES-256-GCM under KEY_ENCRYPTION_SECRET): an answer can carry a contractor token.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    principal: text('principal').notNull(),
    key: text('key').notNull(),
    requestHash: text('request_hash').notNull(),
    status: integer('status'),
    response: text('response'),
    owner: text('owner').notNull().default(''),
    answerDueAt: timestamp('answer_due_at', { withTimezone: true }).notNull().defaultNow(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.principal, t.key] }), index('idempotency_keys_created_idx').on(t.createdAt)],
);
