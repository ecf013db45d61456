import { BREAK, GraphQLError, Kind, print, visit, type ASTNode, type DocumentNode, type ValueNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { builder } from './builder.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME_FORM = 'an ISO 8601 date-time such as 2026-01-31T12:00:00Z';
const DATE_FORM = 'a calendar date YYYY-MM-DD';

/**
 * A literal in the document that is no value of its scalar. Thrown as a plain Error: graphql-js then reports it with
 * the value's node (a GraphQLError it would pass on as is, node-less), from which `scalarFieldNames` names the field.
 */
class ScalarLiteralError extends Error {}

/** A value in variables that is no value of its scalar: graphql-js names the variable and the path inside it. */
function invalidValue(message: string): never {
  throw new GraphQLError(message, { extensions: { code: 'VALIDATION_FAILED' } });
}

const show = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v) : String(v);

/** Why `v` is no DateTime, or the instant it names (also for the CSV exports' query parameters). */
export function dateTime(v: unknown): Date | string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v)) return `must be ${DATE_TIME_FORM}, not ${show(v)}`;
  const d = new Date(v);
  // Date would read 2026-02-30 as 2 March: the calendar date must be one as written.
  const day = v.slice(0, 10);
  return Number.isNaN(d.getTime()) || date(day) !== day ? `${show(v)} is no valid instant (${DATE_TIME_FORM})` : d;
}

/** Why `v` is no Date, or the date itself. */
function date(v: unknown): string {
  if (typeof v !== 'string' || !ISO_DATE.test(v)) return `must be ${DATE_FORM}, not ${show(v)}`;
  const d = new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v)
    return `${show(v)} is no calendar date (YYYY-MM-DD)`;
  return v;
}

/** A literal's string, or the refusal of a literal that is no string at all (`effectiveFrom: 2026`). */
function literal(ast: ValueNode, form: string): string {
  if (ast.kind !== Kind.STRING) throw new ScalarLiteralError(`must be ${form} in quotes, not ${print(ast)}`);
  return ast.value;
}

builder.scalarType('DateTime', {
  description: 'An instant in UTC, as an ISO 8601 string (e.g. 2026-01-31T12:00:00Z).',
  serialize: (v) => (v instanceof Date ? v : new Date(v as string)).toISOString(),
  parseValue: (v) => {
    const d = dateTime(v);
    return d instanceof Date ? d : invalidValue(d);
  },
  parseLiteral: (ast) => {
    const d = dateTime(literal(ast, DATE_TIME_FORM));
    if (d instanceof Date) return d;
    throw new ScalarLiteralError(d);
  },
});

builder.scalarType('Date', {
  description: 'A calendar date, YYYY-MM-DD.',
  serialize: (v) => String(v).slice(0, 10),
  parseValue: (v) => {
    const d = date(v);
    return d === v ? d : invalidValue(d);
  },
  parseLiteral: (ast) => {
    const v = literal(ast, DATE_FORM);
    const d = date(v);
    if (d === v) return d;
    throw new ScalarLiteralError(d);
  },
});

builder.scalarType('JSON', {
  description: 'A JSON value (audit before/after snapshots).',
  serialize: (v) => v,
  parseValue: (v) => v,
});

/** Where `target` sits among the document's argument and default values: `input.effectiveFrom`, `from`, `$since`. */
function fieldPath(document: DocumentNode, target: ASTNode): string | undefined {
  let found: string | undefined;
  const search = (v: ValueNode | undefined, path: string): boolean => {
    if (!v) return false;
    if (v === target) {
      found = path;
      return true;
    }
    if (v.kind === Kind.OBJECT) return v.fields.some((f) => search(f.value, `${path}.${f.name.value}`));
    if (v.kind === Kind.LIST) return v.values.some((x, i) => search(x, `${path}.${i}`));
    return false;
  };
  visit(document, {
    Argument: (node) => (search(node.value, node.name.value) ? BREAK : undefined),
    VariableDefinition: (node) => (search(node.defaultValue, `$${node.variable.name.value}`) ? BREAK : undefined),
  });
  return found;
}

/**
 * graphql-js reports a bad Date or DateTime literal as `Expected value of type "Date!", found "2026-13-01"; …`, with
 * no word of the field it was given for. This names it, like every other refused input: VALIDATION_FAILED,
 * `Invalid input: input.effectiveFrom: …`, the path also in `extensions.field`.
 */
export const scalarFieldNames: Plugin = {
  onValidate({ params }) {
    return ({ result, setResult }) => {
      if (!result.some((e) => e.originalError instanceof ScalarLiteralError)) return;
      setResult(
        result.map((e) => {
          if (!(e.originalError instanceof ScalarLiteralError)) return e;
          const field = e.nodes?.[0] && fieldPath(params.documentAST, e.nodes[0]);
          return new GraphQLError(`Invalid input: ${field ?? 'value'}: ${e.originalError.message}`, {
            nodes: e.nodes,
            extensions: { code: 'VALIDATION_FAILED', ...(field ? { field } : {}) },
          });
        }),
      );
    };
  },
};
