// What the registry held at any instant: one history table per entity that `asOf` reads, each row one version of
// a live row and the period the registry held it, [held_from, held_until) (held_until null: still held).
//
// Rows are written only by the database: triggers on the live tables (record_history(), in the migration) close
// the open version and add the new one in the same transaction as the change, at the change's own instant
// (`registry.now`, which write() sets from the app's clock), so no write path can forget them. The service's role
// may only read them (src/db/roles.ts), and the database lets nobody rewrite one: a version's values never
// change, its period is closed once, nothing is deleted (guard_history_period()).
//
// Each table repeats its live table's columns, with the same names, without keys, defaults or references: the
// relational queries and the GraphQL types read a version exactly as they read a live row. A column added to a
// live table must be added here too; the trigger fails every write to that table until it is.
// Grant categories and data categories are never changed once written, so a grant's categories need no history.
import { sql, type ColumnBuilderBase } from 'drizzle-orm';
import {
  bigint,
  boolean,
  char,
  date,
  index,
  integer,
  pgTable,
  smallint,
  text,
  timestamp,
  check,
  type AnyPgColumn,
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
  serviceEnum,
} from './enums.js';

const at = (name: string) => timestamp(name, { withTimezone: true });

/** The columns every history table adds to its live table's: its own key and the period it was held. */
function versioned<T extends Record<string, ColumnBuilderBase>>(columns: T) {
  return {
    versionId: bigint('version_id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    id: integer('id').notNull(),
    ...columns,
    heldFrom: at('held_from').notNull(),
    heldUntil: at('held_until'),
  };
}

/** A period never ends before it starts (a version replaced in the transaction that wrote it lasts no time). */
const period = (table: string, t: { heldFrom: AnyPgColumn; heldUntil: AnyPgColumn }) =>
  check(`${table}_period`, sql`${t.heldUntil} is null or ${t.heldUntil} >= ${t.heldFrom}`);

// Indexes fit for "the versions held at t": by id (keyset pages in id order, one version per id at t), and by the
// owning contractor or office (nested connections), each ending in the period's start.

export const officesHistory = pgTable(
  'offices_history',
  versioned({
    name: text('name').notNull(),
    legalEntity: text('legal_entity').notNull(),
    country: char('country', { length: 2 }).notNull(),
    city: text('city').notNull(),
    isHeadquarters: boolean('is_headquarters').notNull(),
    version: integer('version').notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  }),
  (t) => [period('offices_history', t), index('offices_history_id_idx').on(t.id, t.heldFrom)],
);

export const contractorsHistory = pgTable(
  'contractors_history',
  versioned({
    legalName: text('legal_name').notNull(),
    country: char('country', { length: 2 }).notNull(),
    services: serviceEnum('services').array().notNull(),
    role: contractorRoleEnum('role').notNull(),
    parentContractorId: integer('parent_contractor_id'),
    status: contractorStatusEnum('status').notNull(),
    statusReason: text('status_reason'),
    statusChangedAt: at('status_changed_at'),
    contactName: text('contact_name'),
    contactEmail: text('contact_email'),
    contractReference: text('contract_reference'),
    dpaSignedOn: date('dpa_signed_on', { mode: 'string' }),
    certifications: certificationEnum('certifications').array().notNull(),
    version: integer('version').notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  }),
  (t) => [
    period('contractors_history', t),
    index('contractors_history_id_idx').on(t.id, t.heldFrom),
    index('contractors_history_parent_idx').on(t.parentContractorId, t.heldFrom),
  ],
);

export const processingLocationsHistory = pgTable(
  'processing_locations_history',
  versioned({
    contractorId: integer('contractor_id').notNull(),
    country: char('country', { length: 2 }).notNull(),
    operations: operationEnum('operations').array().notNull(),
    createdAt: at('created_at').notNull(),
  }),
  (t) => [
    period('processing_locations_history', t),
    index('processing_locations_history_contractor_idx').on(t.contractorId, t.heldFrom),
  ],
);

export const grantsHistory = pgTable(
  'grants_history',
  versioned({
    contractorId: integer('contractor_id').notNull(),
    officeId: integer('office_id').notNull(),
    purpose: purposeEnum('purpose').notNull(),
    validFrom: at('valid_from').notNull(),
    validUntil: at('valid_until'),
    mechanism: mechanismEnum('mechanism').notNull(),
    sccModule: smallint('scc_module'),
    tiaReference: text('tia_reference'),
    tiaDate: date('tia_date', { mode: 'string' }),
    crossBorder: boolean('cross_border').notNull(),
    policyExplanation: text('policy_explanation').notNull(),
    status: grantStatusEnum('status').notNull(),
    revokedAt: at('revoked_at'),
    revocationReason: text('revocation_reason'),
    suspendedByPolicyFrom: at('suspended_by_policy_from'),
    policySuspensionReason: text('policy_suspension_reason'),
    suspendedByChangeId: integer('suspended_by_change_id'),
    parentGrantId: integer('parent_grant_id'),
    createdBy: text('created_by').notNull(),
    createdAt: at('created_at').notNull(),
  }),
  (t) => [
    period('grants_history', t),
    index('grants_history_id_idx').on(t.id, t.heldFrom),
    index('grants_history_contractor_idx').on(t.contractorId, t.id, t.heldFrom),
    index('grants_history_office_idx').on(t.officeId, t.heldFrom),
  ],
);

export const obligationsHistory = pgTable(
  'obligations_history',
  versioned({
    contractorId: integer('contractor_id').notNull(),
    kind: obligationKindEnum('kind').notNull(),
    text: text('text').notNull(),
    sourceDocument: text('source_document').notNull(),
    clause: text('clause'),
    breachNotificationHours: integer('breach_notification_hours'),
    effectiveFrom: date('effective_from', { mode: 'string' }).notNull(),
    expiresOn: date('expires_on', { mode: 'string' }),
    reviewDueOn: date('review_due_on', { mode: 'string' }),
    acknowledgedBy: text('acknowledged_by'),
    acknowledgedAt: at('acknowledged_at'),
    createdAt: at('created_at').notNull(),
  }),
  (t) => [
    period('obligations_history', t),
    index('obligations_history_id_idx').on(t.id, t.heldFrom),
    index('obligations_history_contractor_idx').on(t.contractorId, t.id, t.heldFrom),
  ],
);
