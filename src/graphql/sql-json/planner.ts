// Turns a read operation into one SQL statement whose single value is the answer's `data`, as graphql-js would
// serialize it: json_build_object per object keyed by the response names (aliases, fragments and field merging as
// graphql-js collects them), json_agg per list, Relay connections with the drizzle plugin's keyset cursors and
// pageInfo, global IDs, DateTime and Date strings, enum names. A history list read newest month first
// (`readNewestFirst`) is bounded to that month, and the statement also says whether the month fell short of the page:
// then the plan is run once more over the whole range. A plan is made once per document and operation;
// per request only its values are bound (the arguments, the request's now). Whatever it does not know (a field
// outside src/graphql/sql-json/model.ts, a directive, `last`/`before`/`asOf`, a mutation) makes no plan, and
// anything a request brings that it cannot answer exactly as execution would (a variable that
// does not coerce, a cursor that is not one of its own, a filter the domain refuses) makes `prepare` say no: normal
// execution answers those, with its own errors.
import { decodeBase64, decodeCursorChunk } from '@pothos/core';
import { EmptyFilter, getTableName, relationsFilterToSQL, SQL, sql } from 'drizzle-orm';
import { alias, getTableConfig, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import {
  getArgumentValues,
  getNamedType,
  getNullableType,
  getVariableValues,
  isAbstractType,
  isEnumType,
  isListType,
  isNonNullType,
  isObjectType,
  GraphQLError,
  Kind,
  visit,
  BREAK,
  type DocumentNode,
  type ExecutionResult,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLObjectType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import { relations } from '../../db/relations.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../../registry/paging.js';
import { newestMonthToRead } from '../../registry/transfers.js';
import { operationOf } from '../operation.js';
import { columnOf, OBJECTS, ROOTS, type ObjectModel, type Order, type RootModel } from './model.js';

/** The plan cannot answer this document: normal execution does. */
class NotPlannable extends Error {}

/**
 * Plans are run for staff principals only, so a field may be planned when its own `authScopes` let every staff
 * role read it (none, or `{ staff: true }`). A field limited further (to one role, to a scope) is left to normal
 * execution, whose check then answers as it always does.
 */
function assertStaffMayRead(field: GraphQLField<unknown, unknown>): void {
  const scopes = (field.extensions?.pothosOptions as { authScopes?: unknown } | undefined)?.authScopes;
  if (scopes === undefined) return;
  const keys = typeof scopes === 'object' && scopes !== null ? Object.entries(scopes) : undefined;
  if (keys?.length === 1 && keys[0]![0] === 'staff' && keys[0]![1] === true) return;
  throw new NotPlannable(`${field.name}: authScopes`);
}

/** What one request binds: its now, and each connection's page (by the connection's index in the plan). */
interface Bound {
  at: Date;
  pages: Page[];
  /** Read newest-first lists over their whole range: their newest month fell short of the page. */
  whole: boolean;
}
interface Page {
  size: number;
  /** A cursor was given (pageInfo.hasPreviousPage). */
  after: boolean;
  /** The domain's filter and the keyset continuation, as the resolver's query has them. */
  where: SQL | undefined;
  /** A newest-first list: the first instant of the month it reads on its own first (`newestMonthToRead`). */
  month?: Date;
}

/** A request's statement; when its `short` column is true, `whole()` is the one to run instead. */
export interface Prepared {
  statement: SQL;
  whole(): SQL;
}
/** Static SQL text, or SQL made per request from what it binds. */
type Piece = string | ((b: Bound) => SQL);

/** One connection field of the plan: how a request's arguments become its page. */
interface ConnectionSpec {
  field: GraphQLField<unknown, unknown>;
  node: FieldNode;
  root?: RootModel;
  table: PgTable;
  order: KeyEntry[];
}

/** One column of a connection's order: its key in the table, the column, the direction. */
interface KeyEntry {
  key: string;
  column: PgColumn;
  direction: 'asc' | 'desc';
}

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;
/** base64 as Buffer writes it: PostgreSQL's breaks lines every 76 characters. */
const base64 = (expr: string) => `translate(encode(convert_to(${expr}, 'UTF8'), 'base64'), E'\\n', '')`;

type Fragments = ReadonlyMap<string, FragmentDefinitionNode>;

/** graphql-js's field collection (execution's order, merging and fragment rules) for a known object type. */
function collect(
  schema: GraphQLSchema,
  fragments: Fragments,
  type: GraphQLObjectType,
  nodes: readonly FieldNode[],
): Map<string, FieldNode[]> {
  const fields = new Map<string, FieldNode[]>();
  const visited = new Set<string>();
  const matches = (condition: string | undefined) => {
    if (!condition || condition === type.name) return true;
    const t = schema.getType(condition);
    return !!t && isAbstractType(t) && schema.isSubType(t, type);
  };
  const walk = (set: SelectionSetNode) => {
    for (const s of set.selections) {
      if (s.kind === Kind.FIELD) {
        const key = s.alias?.value ?? s.name.value;
        const list = fields.get(key);
        if (list) list.push(s);
        else fields.set(key, [s]);
      } else if (s.kind === Kind.INLINE_FRAGMENT) {
        if (matches(s.typeCondition?.name.value)) walk(s.selectionSet);
      } else {
        const name = s.name.value;
        if (visited.has(name)) continue;
        visited.add(name);
        const f = fragments.get(name);
        if (f && matches(f.typeCondition.name.value)) walk(f.selectionSet);
      }
    }
  };
  for (const n of nodes) if (n.selectionSet) walk(n.selectionSet);
  return fields;
}

/** The columns of a relation of src/db/relations.ts: `{ _: { column } }` builder columns. */
const columnsOf = (list: unknown): PgColumn[] => (list as { _: { column: PgColumn } }[]).map((c) => c._.column);

interface Relation {
  target: PgTable;
  source: PgColumn[];
  targetColumns: PgColumn[];
  through?: { table: PgTable; source: PgColumn[]; target: PgColumn[] };
}

function relationOf(model: ObjectModel, name: string): Relation {
  const rel = (relations[model.relations] as unknown as { relations: Record<string, Record<string, unknown>> })
    .relations[name];
  // A relation with a `where` of its own in src/db/relations.ts is not planned.
  if (!rel || (rel.where !== undefined && rel.where !== EmptyFilter)) throw new NotPlannable(`relation ${name}`);
  const through = rel.through as { source: unknown; target: unknown } | undefined;
  return {
    target: rel.targetTable as PgTable,
    source: columnsOf(rel.sourceColumns),
    targetColumns: columnsOf(rel.targetColumns),
    through: through && {
      table: rel.throughTable as PgTable,
      source: columnsOf(through.source),
      target: columnsOf(through.target),
    },
  };
}

/**
 * An order the drizzle plugin pages as it stands (it covers the table's primary key, so no tie-breaker is added) over
 * not-null integer and timestamptz columns, whose cursor chunks (`N:`, `D:`) SQL can write.
 */
function keysetOrder(table: PgTable, order: Order, name: string): KeyEntry[] {
  const columns = table as unknown as Record<string, PgColumn | undefined>;
  const entries = Object.entries(order).map(([key, direction]) => {
    const column = columns[key];
    if (!column || !keyKind(column) || !column.notNull) throw new NotPlannable(`order of ${name}`);
    return { key, column, direction };
  });
  const config = getTableConfig(table);
  const primary = [...config.columns.filter((c) => c.primary), ...config.primaryKeys.flatMap((k) => k.columns)];
  if (!primary.length || !primary.every((c) => entries.some((e) => e.column.name === c.name)))
    throw new NotPlannable(`order of ${name}`);
  return entries;
}

const TIMESTAMPTZ = /^timestamp( \(\d\))? with time zone$/;

/** How a key column's value reads in JavaScript, and so in a cursor: a number (`N:`) or a Date (`D:`). */
function keyKind(column: PgColumn): 'number' | 'date' | undefined {
  if (column.dataType === 'number int32' || column.dataType === 'number int53') return 'number';
  if (column.dataType === 'object date' && TIMESTAMPTZ.test(column.getSQLType())) return 'date';
  return undefined;
}

/** SQL: a row's cursor, `base64(DC:<chunk>)` or `base64(DC:T:["<chunk>",…])` as `@pothos/core` encodes it. */
function cursorSql(a: string, order: KeyEntry[]): string {
  const chunk = (e: KeyEntry) => {
    const ref = `${a}.${quote(e.column.name)}`;
    return keyKind(e.column) === 'number'
      ? `'N:' || ${ref}`
      : // Epoch milliseconds, as Number(Date) of the value read (microseconds cut off).
        `'D:' || floor(extract(epoch from ${ref}) * 1000)::bigint`;
  };
  if (order.length === 1) return base64(`'DC:' || ${chunk(order[0]!)}`);
  return base64(`'DC:T:[' || ${order.map((e) => `'"' || ${chunk(e)} || '"'`).join(` || ',' || `)} || ']'`);
}

const orderText = (a: string, order: Order, table: PgTable) =>
  Object.entries(order)
    .map(([key, dir]) => {
      const column = (table as unknown as Record<string, PgColumn | undefined>)[key];
      if (!column) throw new NotPlannable(`order ${key}`);
      return `${a}.${quote(column.name)} ${dir}`;
    })
    .join(', ');

export class Plan {
  private constructor(
    private readonly pieces: readonly Piece[],
    private readonly connections: readonly ConnectionSpec[],
    private readonly operation: OperationDefinitionNode,
    private readonly schema: GraphQLSchema,
  ) {}

  /**
   * The plan for an operation, or undefined when it asks for anything the planner does not know. The document has
   * passed validation: its fields exist, its arguments and fragments fit.
   */
  static make(schema: GraphQLSchema, document: DocumentNode, operationName?: string | null): Plan | undefined {
    const { operation, fragments } = operationOf(document, operationName);
    if (!operation || operation.operation !== 'query') return undefined;
    let directive = false;
    visit(document, {
      Directive() {
        directive = true;
        return BREAK;
      },
    });
    if (directive) return undefined;
    try {
      return new Planner(schema, fragments).plan(operation);
    } catch (e) {
      if (e instanceof NotPlannable) return undefined;
      throw e;
    }
  }

  /** @internal the planner's constructor */
  static of(pieces: Piece[], connections: ConnectionSpec[], operation: OperationDefinitionNode, schema: GraphQLSchema) {
    return new Plan(merge(pieces), connections, operation, schema);
  }

  /**
   * The answer to a statement that failed, placed where normal execution would place it: on the root field that
   * read, which is known only when the plan has one. Every root field planned is non-null (a root connection), so,
   * as there, the error nulls the whole `data`. With several root lists, which one's values failed is not known:
   * undefined, and normal execution answers (running its reads once more).
   */
  failure(error: unknown): ExecutionResult | undefined {
    const roots = this.connections.filter((c) => c.root);
    if (roots.length !== 1) return undefined;
    const node = roots[0]!.node;
    // Key order as graphql-js writes an error answer: errors, then data.
    return {
      errors: [
        new GraphQLError((error as Error)?.message ?? 'statement failed', {
          nodes: [node],
          path: [node.alias?.value ?? node.name.value],
          originalError: error instanceof Error ? error : undefined,
        }),
      ],
      data: null,
    };
  }

  /**
   * The statement for this request's variables at `at`, or undefined when normal execution must answer (a variable
   * that does not coerce, a page argument or cursor execution would refuse, a filter the domain refuses).
   */
  prepare(variables: Record<string, unknown> | undefined, at: Date): Prepared | undefined {
    const coerced = getVariableValues(this.schema, this.operation.variableDefinitions ?? [], variables ?? {});
    if (coerced.errors) return undefined;
    const pages: Page[] = [];
    for (const c of this.connections) {
      const page = pageOf(c, coerced.coerced, at);
      if (!page) return undefined;
      pages.push(page);
    }
    const statement = (bound: Bound) =>
      sql.join(this.pieces.map((p) => (typeof p === 'string' ? sql.raw(p) : p(bound))));
    return { statement: statement({ at, pages, whole: false }), whole: () => statement({ at, pages, whole: true }) };
  }
}

/** Adjacent static pieces as one. */
function merge(pieces: Piece[]): Piece[] {
  const out: Piece[] = [];
  for (const p of pieces) {
    const last = out[out.length - 1];
    if (typeof p === 'string' && typeof last === 'string') out[out.length - 1] = last + p;
    else out.push(p);
  }
  return out;
}

/**
 * The values a cursor of this connection's order holds, one per column (`N:` an integer key, `D:` an instant), or
 * undefined for anything else (a cursor of another form, or of a shorter order: normal execution reads those).
 */
function cursorValues(cursor: unknown, order: KeyEntry[]): unknown[] | undefined {
  if (typeof cursor !== 'string') return undefined;
  let decoded: unknown;
  try {
    const text = decodeBase64(cursor);
    if (!text.startsWith('DC:')) return undefined;
    decoded = decodeCursorChunk(text.slice(3));
  } catch {
    return undefined;
  }
  const values = order.length === 1 ? [decoded] : decoded;
  if (!Array.isArray(values) || values.length !== order.length) return undefined;
  const fits = values.every((v, i) => {
    const column = order[i]!.column;
    if (keyKind(column) === 'date') return v instanceof Date && !Number.isNaN(v.getTime());
    const max = column.dataType === 'number int32' ? 2_147_483_647 : Number.MAX_SAFE_INTEGER;
    return typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= max;
  });
  return fits ? values : undefined;
}

/**
 * The drizzle plugin's keyset continuation after `values` (the first column that differs, in the page's direction),
 * with the first column's bound also stated plainly, as `readNewestFirst` states it: the same rows, and an index
 * bound PostgreSQL can use (it cannot in the OR).
 */
function keysetAfter(order: KeyEntry[], values: unknown[]): object {
  const compare = (e: KeyEntry, i: number) => ({ [e.key]: { [e.direction === 'asc' ? 'gt' : 'lt']: values[i] } });
  const parts = order.map((e, i) =>
    i === 0
      ? compare(e, i)
      : { AND: [...order.slice(0, i).map((p, j) => ({ [p.key]: { eq: values[j] } })), compare(e, i)] },
  );
  if (parts.length === 1) return parts[0]!;
  const first = order[0]!;
  return { AND: [{ OR: parts }, { [first.key]: { [first.direction === 'asc' ? 'gte' : 'lte']: values[0] } }] };
}

function pageOf(c: ConnectionSpec, variables: Record<string, unknown>, at: Date): Page | undefined {
  let args: Record<string, unknown>;
  try {
    args = getArgumentValues(c.field, c.node, variables);
  } catch {
    return undefined;
  }
  const first = args.first as number | null | undefined;
  if (first != null && first < 0) return undefined;
  let keyset: object | undefined;
  let values: unknown[] | undefined;
  // As the drizzle plugin reads it: an empty `after` is no cursor.
  if (args.after) {
    values = cursorValues(args.after, c.order);
    if (!values) return undefined;
    keyset = keysetAfter(c.order, values);
  }
  let sqlWhere: SQL | undefined;
  try {
    // The resolver's query: the domain's filter and the plugin's keyset continuation.
    const filter = c.root?.where(args);
    const where = filter && keyset ? { AND: [filter, keyset] } : (filter ?? keyset);
    const chunks = where && relationsFilterToSQL(c.table as never, where as never).sql;
    sqlWhere = chunks && new SQL(chunks);
  } catch {
    return undefined;
  }
  const size = Math.min(first ?? DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE);
  const newest = c.root?.newestFirst;
  // The cursor's instant: the page holds rows at or before it (the order's first column is the list's time).
  const before = newest && values?.[0] instanceof Date ? values[0] : undefined;
  const month = newest ? newestMonthToRead(args, before, at) : undefined;
  return { size, after: keyset !== undefined, where: sqlWhere, month };
}

class Planner {
  private aliases = 0;
  private readonly connections: ConnectionSpec[] = [];
  constructor(
    private readonly schema: GraphQLSchema,
    private readonly fragments: Fragments,
  ) {}

  plan(operation: OperationDefinitionNode): Plan {
    const query = this.schema.getQueryType()!;
    const shortOf: Piece[][] = [];
    const fields = collect(this.schema, this.fragments, query, [{ selectionSet: operation.selectionSet } as FieldNode]);
    const entries: Piece[][] = [];
    for (const [key, nodes] of fields) {
      const name = nodes[0]!.name.value;
      if (name === '__typename') {
        entries.push([`${literal(key)}, ${literal(query.name)}`]);
        continue;
      }
      const root = ROOTS[name];
      const field = query.getFields()[name];
      if (!root || !field) throw new NotPlannable(name);
      // A failed statement nulls `data` (failure()), as normal execution does for a non-null root field.
      if (!isNonNullType(field.type)) throw new NotPlannable(`${name}: nullable`);
      assertStaffMayRead(field);
      const model = OBJECTS[root.type]!;
      const a = this.alias();
      const table = alias(model.table, a);
      const allowed = new Set(['first', 'after', ...root.filterArgs]);
      this.checkArguments(nodes, allowed);
      const order = keysetOrder(model.table, root.order, name);
      const index = this.connections.push({ field, node: nodes[0]!, root, table, order }) - 1;
      const month = root.newestFirst && this.newestFirst(root.newestFirst, order, name, a, index);
      entries.push([`${literal(key)}, `, ...this.connection(field, nodes, model, order, a, index, [], month)]);
      if (month) shortOf.push(this.short(model, a, index, month));
    }
    // Nothing to read (`{ __typename }`): graphql-js answers without the database.
    if (!this.connections.length) throw new NotPlannable('no list');
    const short: Piece[] = shortOf.length
      ? [', (', ...shortOf.flatMap((s, i) => (i ? [' or ', ...s] : s)), ') as "short"']
      : [];
    return Plan.of(
      ['select (', ...this.object(entries), ')::text as "data"', ...short],
      this.connections,
      operation,
      this.schema,
    );
  }

  /**
   * The bound of a newest-first list to the month it reads first (`and a.<time> >= month`), or nothing once the
   * whole range is read. Its order must start with that column, newest first, as `readNewestFirst` asks.
   */
  private newestFirst(column: PgColumn, order: KeyEntry[], name: string, a: string, index: number): (b: Bound) => SQL {
    if (order[0]!.column !== column || order[0]!.direction !== 'desc') throw new NotPlannable(`order of ${name}`);
    const ref = sql.raw(`${a}.${quote(column.name)}`);
    return (b) => {
      const month = b.pages[index]!.month;
      return month && !b.whole ? sql` and ${ref} >= ${month}` : sql.empty();
    };
  }

  /** SQL: the list's newest month holds fewer rows than its page asks (plus one): the whole range must be read. */
  private short(model: ObjectModel, a: string, index: number, month: (b: Bound) => SQL): Piece[] {
    return [
      (b) => {
        const page = b.pages[index]!;
        if (!page.month || b.whole) return sql.raw('false');
        const where = page.where ? sql`(${page.where})` : sql.raw('true');
        return sql`(select count(*) from (select 1 from ${sql.raw(`${quote(getTableName(model.table))} ${a}`)} where ${where}${month(b)} limit ${page.size + 1}::int) s) < ${page.size + 1}`;
      },
    ];
  }

  private alias() {
    return `t${this.aliases++}`;
  }

  /** Every node of the field passes only these arguments (merged fields pass the same ones: validation). */
  private checkArguments(nodes: readonly FieldNode[], allowed: Set<string>) {
    for (const n of nodes)
      for (const arg of n.arguments ?? []) if (!allowed.has(arg.name.value)) throw new NotPlannable(arg.name.value);
  }

  private object(entries: Piece[][]): Piece[] {
    // json_build_object takes at most 100 arguments.
    if (entries.length > 50) throw new NotPlannable('too many fields');
    const out: Piece[] = ['json_build_object('];
    entries.forEach((e, i) => out.push(...(i ? [', '] : []), ...e));
    out.push(')');
    return out;
  }

  /** An object of `type` (a row of its table, alias `a`): json_build_object of its selected fields. */
  private node(type: GraphQLObjectType, nodes: readonly FieldNode[], a: string, table: PgTable): Piece[] {
    const model = OBJECTS[type.name];
    if (!model) throw new NotPlannable(type.name);
    const entries: Piece[][] = [];
    for (const [key, fieldNodes] of collect(this.schema, this.fragments, type, nodes)) {
      const name = fieldNodes[0]!.name.value;
      const head = `${literal(key)}, `;
      if (name === '__typename') {
        entries.push([head + literal(type.name)]);
        continue;
      }
      const field = type.getFields()[name];
      if (!field) throw new NotPlannable(name);
      assertStaffMayRead(field);
      const connection = model.connections?.[name];
      if (connection) {
        this.checkArguments(fieldNodes, new Set(['first', 'after']));
        const rel = relationOf(model, connection.relation);
        const targetType = getNamedType(field.type) as GraphQLObjectType;
        const edgeNode = getNamedType(targetType.getFields().edges!.type) as GraphQLObjectType;
        const nodeType = getNamedType(edgeNode.getFields().node!.type) as GraphQLObjectType;
        const targetModel = OBJECTS[nodeType.name];
        if (!targetModel || targetModel.table !== rel.target || rel.through) throw new NotPlannable(name);
        const b = this.alias();
        const t = alias(targetModel.table, b);
        const order = keysetOrder(targetModel.table, connection.order, name);
        const index = this.connections.push({ field, node: fieldNodes[0]!, table: t, order }) - 1;
        entries.push([
          head,
          ...this.connection(field, fieldNodes, targetModel, order, b, index, [this.join(rel, a, b)]),
        ]);
        continue;
      }
      this.checkArguments(fieldNodes, new Set());
      const list = model.lists?.[name];
      const one = model.one?.[name];
      if (list || one) {
        const rel = relationOf(model, (list ?? one)!.relation);
        const targetType = getNamedType(field.type) as GraphQLObjectType;
        const targetModel = OBJECTS[targetType.name];
        if (!targetModel || targetModel.table !== rel.target) throw new NotPlannable(name);
        const b = this.alias();
        const from = this.from(rel, a, b);
        const value = this.node(targetType, fieldNodes, b, alias(targetModel.table, b));
        entries.push(
          list
            ? [
                head,
                '(select coalesce(json_agg(',
                ...value,
                ` order by ${orderText(b, list.order, targetModel.table)}), '[]'::json) ${from})`,
              ]
            : [head, '(select ', ...value, ` ${from})`],
        );
        continue;
      }
      entries.push([head, ...this.scalar(type.name, model, field, a, table)]);
    }
    return this.object(entries);
  }

  /** `from … where …` of a relation's rows (alias `b`) for the parent row `a`. */
  private from(rel: Relation, a: string, b: string): string {
    const target = `${quote(getTableName(rel.target))} ${b}`;
    if (!rel.through) return `from ${target} where ${this.join(rel, a, b)}`;
    const j = `${b}j`;
    const on = rel.through.target.map((c, i) => `${j}.${quote(c.name)} = ${b}.${quote(rel.targetColumns[i]!.name)}`);
    const where = rel.through.source.map((c, i) => `${j}.${quote(c.name)} = ${a}.${quote(rel.source[i]!.name)}`);
    return `from ${target} join ${quote(getTableName(rel.through.table))} ${j} on ${on.join(' and ')} where ${where.join(' and ')}`;
  }

  private join(rel: Relation, a: string, b: string): string {
    return rel.source.map((c, i) => `${b}.${quote(rel.targetColumns[i]!.name)} = ${a}.${quote(c.name)}`).join(' and ');
  }

  private scalar(
    typename: string,
    model: ObjectModel,
    field: GraphQLField<unknown, unknown>,
    a: string,
    table: PgTable,
  ): Piece[] {
    const type = getNamedType(field.type);
    if (field.name === 'id' && model.globalId) {
      if (type.name !== 'ID') throw new NotPlannable('id');
      return [base64(`${literal(`${typename}:`)} || ${a}.${quote(model.globalId.name)}`)];
    }
    const computed = model.computed?.[field.name];
    if (computed) return [(b) => computed(table, b.at)];
    const stored = model.columns?.[field.name];
    if (stored) {
      if (!isListType(getNullableType(field.type)) || !isEnumType(type)) throw new NotPlannable(field.name);
      return [`${a}.${quote(stored.name)}`];
    }
    const column = columnOf(model, field);
    if (!column || isObjectType(type)) throw new NotPlannable(field.name);
    const ref = `${a}.${quote(column.name)}`;
    if (isListType(getNullableType(field.type))) {
      // An exposed array column (`exposeStringList`): a JSON array of its strings.
      if (type.name !== 'String' && !isEnumType(type)) throw new NotPlannable(field.name);
      return [ref];
    }
    const sqlType = column.getSQLType();
    switch (type.name) {
      case 'String':
      case 'Int':
      case 'Boolean':
        return [ref];
      case 'ID':
        return [`${ref}::text`];
      case 'DateTime':
        if (!TIMESTAMPTZ.test(sqlType)) throw new NotPlannable(field.name);
        // Date.prototype.toISOString: milliseconds, UTC, Z.
        return [`to_char(${ref} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`];
      case 'Date':
        if (sqlType !== 'date') throw new NotPlannable(field.name);
        return [`to_char(${ref}, 'YYYY-MM-DD')`];
      default:
        if (isEnumType(type)) return [ref];
        throw new NotPlannable(field.name);
    }
  }

  /**
   * A Relay connection over `model`'s table (alias `a`), keyset-paged by its key: the page's rows plus one (to know
   * whether a next page exists), numbered, then edges, nodes and pageInfo from them — what the drizzle plugin's
   * connection answers for `first`/`after`.
   */
  private connection(
    field: GraphQLField<unknown, unknown>,
    nodes: readonly FieldNode[],
    model: ObjectModel,
    order: KeyEntry[],
    a: string,
    index: number,
    conditions: string[],
    month?: Piece,
  ): Piece[] {
    const connType = getNamedType(field.type) as GraphQLObjectType;
    const n = `${a}."__n"`;
    const size = (b: Bound) => sql`${b.pages[index]!.size}::int`;
    /** A JSON array of one value per row of the page (not the extra row), in key order. */
    const pageList = (value: Piece[]): Piece[] => [
      'coalesce(json_agg(',
      ...value,
      ` order by ${n}) filter (where ${n} <= `,
      size,
      `), '[]'::json)`,
    ];
    const cursor = cursorSql(a, order);
    const table = alias(model.table, a);
    const entries: Piece[][] = [];
    /** Edges, nodes or pageInfo asked: each aggregates the page's rows (one value however many rows). */
    let aggregated = false;
    for (const [k, fieldNodes] of collect(this.schema, this.fragments, connType, nodes)) {
      const name = fieldNodes[0]!.name.value;
      const head = `${literal(k)}, `;
      this.checkArguments(fieldNodes, new Set());
      if (name !== '__typename') aggregated = true;
      if (name === '__typename') {
        entries.push([head + literal(connType.name)]);
      } else if (name === 'edges') {
        const edgeType = getNamedType(connType.getFields().edges!.type) as GraphQLObjectType;
        const edge: Piece[][] = [];
        for (const [ek, edgeNodes] of collect(this.schema, this.fragments, edgeType, fieldNodes)) {
          const en = edgeNodes[0]!.name.value;
          this.checkArguments(edgeNodes, new Set());
          const eh = `${literal(ek)}, `;
          if (en === '__typename') edge.push([eh + literal(edgeType.name)]);
          else if (en === 'cursor') edge.push([eh + cursor]);
          else if (en === 'node')
            edge.push([
              eh,
              ...this.node(getNamedType(edgeType.getFields().node!.type) as GraphQLObjectType, edgeNodes, a, table),
            ]);
          else throw new NotPlannable(en);
        }
        entries.push([head, ...pageList(this.object(edge))]);
      } else if (name === 'nodes') {
        const nodeType = getNamedType(connType.getFields().nodes!.type) as GraphQLObjectType;
        entries.push([head, ...pageList(this.node(nodeType, fieldNodes, a, table))]);
      } else if (name === 'pageInfo') {
        const pageInfo = getNamedType(connType.getFields().pageInfo!.type) as GraphQLObjectType;
        const info: Piece[][] = [];
        for (const [pk, pageNodes] of collect(this.schema, this.fragments, pageInfo, fieldNodes)) {
          const pn = pageNodes[0]!.name.value;
          this.checkArguments(pageNodes, new Set());
          const ph = `${literal(pk)}, `;
          if (pn === '__typename') info.push([ph + literal(pageInfo.name)]);
          else if (pn === 'hasNextPage') info.push([ph, 'count(*) > ', size]);
          // As the drizzle plugin says it for a forward page: there is one before when a cursor was given.
          else if (pn === 'hasPreviousPage') info.push([ph, (b) => sql.raw(b.pages[index]!.after ? 'true' : 'false')]);
          else if (pn === 'startCursor')
            info.push([ph, `(array_agg(${cursor} order by ${n}) filter (where ${n} <= `, size, '))[1]']);
          else if (pn === 'endCursor')
            info.push([ph, `(array_agg(${cursor} order by ${n} desc) filter (where ${n} <= `, size, '))[1]']);
          else throw new NotPlannable(pn);
        }
        entries.push([head, ...this.object(info)]);
      } else {
        throw new NotPlannable(name);
      }
    }
    // Only `__typename`: nothing aggregates the page's rows into one value (normal execution answers it).
    if (!aggregated) throw new NotPlannable(`${field.name}: nothing read`);
    const keyOrder = order.map((e) => `${a}.${quote(e.column.name)} ${e.direction}`).join(', ');
    const where = (b: Bound) => {
      const w = b.pages[index]!.where;
      return w ? sql`(${w})` : sql.raw('true');
    };
    return [
      '(select ',
      ...this.object(entries),
      ` from (select ${a}.*, row_number() over (order by ${keyOrder}) as "__n" from (select ${a}.* from ${quote(getTableName(model.table))} ${a} where `,
      ...conditions.map((c) => `${c} and `),
      where,
      ...(month ? [month] : []),
      ` order by ${keyOrder} limit `,
      (b) => sql`${b.pages[index]!.size + 1}::int`,
      `) ${a}) ${a})`,
    ];
  }
}
