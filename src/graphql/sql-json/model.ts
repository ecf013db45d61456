// What the SQL planner knows of the GraphQL types it answers: each type's table, which of its fields are which
// columns, its relations, and the values the domain computes in SQL. A field the drizzle plugin exposes as a column
// (`t.exposeString('name')`, …) is read from the schema itself (`columnOf`); every other field is listed here by
// hand, each the same value its resolver gives. A field named nowhere is unknown, and a request asking for it is
// answered by normal execution.
import { getColumns, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { GraphQLField } from 'graphql';
import { relations } from '../../db/relations.js';
import { contractors, dataCategories, grants, offices, processingLocations, transfers } from '../../db/tables.js';
import { contractorFilters } from '../../registry/contractors.js';
import { grantStatusAtSql, type GrantColumns } from '../../registry/grant-status.js';
import { originCountrySql, TRANSFER_ORDER } from '../../registry/transfers.js';
import { CONTRACTORS_ORDER, PROCESSING_LOCATIONS_ORDER } from '../contractors.js';
import { CONTRACTOR_GRANTS_ORDER, GRANT_CATEGORIES_ORDER } from '../grants.js';
import { transferWhere } from '../transfers.js';

export type Order = Readonly<Record<string, 'asc' | 'desc'>>;
type RelationName = string;

export interface ObjectModel {
  table: PgTable;
  /** The table's key in src/db/relations.ts, whose relations give the join conditions. */
  relations: keyof typeof relations;
  /** `id` is the Relay global ID `base64(Type:value)` of this column (`drizzleNode`'s `id.column`). */
  globalId?: PgColumn;
  /** Fields whose resolver returns the stored column as it is (enum arrays). */
  columns?: Record<string, PgColumn>;
  /** Fields the domain computes: its SQL form, over this level's table (an alias of `table`), at the request's now. */
  computed?: Record<string, (table: PgTable, at: Date) => SQL>;
  /** Relation fields: a list, one object, or a Relay connection (ordered by the key: keyset cursors). */
  lists?: Record<string, { relation: RelationName; order: Order }>;
  one?: Record<string, { relation: RelationName }>;
  connections?: Record<string, { relation: RelationName; order: Order }>;
}

export const OBJECTS: Record<string, ObjectModel> = {
  Contractor: {
    table: contractors,
    relations: 'contractors',
    globalId: contractors.id,
    columns: { services: contractors.services, certifications: contractors.certifications },
    lists: { processingLocations: { relation: 'processingLocations', order: PROCESSING_LOCATIONS_ORDER } },
    connections: { grants: { relation: 'grants', order: CONTRACTOR_GRANTS_ORDER } },
  },
  ProcessingLocation: {
    table: processingLocations,
    relations: 'processingLocations',
    columns: { operations: processingLocations.operations },
  },
  Grant: {
    table: grants,
    relations: 'grants',
    globalId: grants.id,
    computed: { status: (g, at) => grantStatusAtSql(at, g as unknown as GrantColumns) },
    one: { office: { relation: 'office' } },
    lists: { categories: { relation: 'categories', order: GRANT_CATEGORIES_ORDER } },
  },
  Office: { table: offices, relations: 'offices', globalId: offices.id },
  Transfer: {
    table: transfers,
    relations: 'transfers',
    globalId: transfers.id,
    computed: { originCountry: (t) => originCountrySql(t as typeof transfers) },
    one: {
      exporterOffice: { relation: 'exporterOffice' },
      exporterContractor: { relation: 'exporterContractor' },
      importerContractor: { relation: 'importerContractor' },
      importerOffice: { relation: 'importerOffice' },
      grant: { relation: 'grant' },
    },
  },
  DataCategory: { table: dataCategories, relations: 'dataCategories', globalId: dataCategories.key },
};

/** Root list fields: their type, order, the arguments planned beside first/after, and the domain's `where`. */
export interface RootModel {
  type: string;
  order: Order;
  filterArgs: readonly string[];
  where(args: Record<string, unknown>): object;
  /**
   * A history read newest month first (`readNewestFirst`): its timestamp column, and the range arguments
   * (`from`, `to`) that bound the month it starts in.
   */
  newestFirst?: PgColumn;
}

export const ROOTS: Record<string, RootModel> = {
  contractors: {
    type: 'Contractor',
    order: CONTRACTORS_ORDER,
    filterArgs: ['name', 'country', 'status', 'service'],
    where: (args) => contractorFilters(args),
  },
  transfers: {
    type: 'Transfer',
    order: TRANSFER_ORDER,
    filterArgs: [
      'from',
      'to',
      'contractorId',
      'importerCountry',
      'category',
      'purpose',
      'kind',
      'mechanism',
      'crossBorderOnly',
      'thirdCountryOnly',
    ],
    where: (args) => transferWhere(args),
    newestFirst: transfers.occurredAt,
  },
};

/** The column a field exposes as it is stored (the drizzle plugin's `expose`), or undefined. */
export function columnOf(model: ObjectModel, field: GraphQLField<unknown, unknown>): PgColumn | undefined {
  const ext = field.extensions as { pothosExposedField?: string; pothosDrizzleVariant?: unknown } | undefined;
  if (!ext?.pothosExposedField || !ext.pothosDrizzleVariant) return undefined;
  return (getColumns(model.table) as Record<string, PgColumn | undefined>)[ext.pothosExposedField];
}
