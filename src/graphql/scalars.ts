import { GraphQLError, Kind } from 'graphql';
import { builder } from './builder.js';

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function invalid(message: string): never {
  throw new GraphQLError(message, { extensions: { code: 'VALIDATION_FAILED' } });
}

builder.scalarType('DateTime', {
  description: 'An instant in UTC, as an ISO 8601 string (e.g. 2026-01-31T12:00:00Z).',
  serialize: (v) => (v instanceof Date ? v : new Date(v as string)).toISOString(),
  parseValue: (v) => {
    if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v)) invalid('DateTime must be an ISO 8601 string');
    const d = new Date(v);
    if (Number.isNaN(d.getTime())) invalid(`Invalid DateTime: ${v}`);
    return d;
  },
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) invalid('DateTime must be a string');
    const d = new Date(ast.value);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(ast.value) || Number.isNaN(d.getTime())) invalid(`Invalid DateTime: ${ast.value}`);
    return d;
  },
});

function parseDate(v: unknown): string {
  if (typeof v !== 'string' || !ISO_DATE.test(v)) invalid('Date must be YYYY-MM-DD');
  const d = new Date(`${v}T00:00:00Z`);
  if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== v) invalid(`Invalid Date: ${v}`);
  return v;
}

builder.scalarType('Date', {
  description: 'A calendar date, YYYY-MM-DD.',
  serialize: (v) => String(v).slice(0, 10),
  parseValue: parseDate,
  parseLiteral: (ast) => parseDate(ast.kind === Kind.STRING ? ast.value : undefined),
});

builder.scalarType('JSON', {
  description: 'A JSON value (audit before/after snapshots).',
  serialize: (v) => v,
  parseValue: (v) => v,
});
