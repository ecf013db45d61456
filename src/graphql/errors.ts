// The `Error` interface and one GraphQL type per expected failure of src/errors.ts.
import {
  ConflictError,
  DomainError,
  ERROR_CODES,
  ForbiddenError,
  InvalidStateError,
  NotFoundError,
  PolicyViolationError,
  ValidationError,
} from '../errors.js';
import { builder } from './builder.js';

const ErrorCodeEnum = builder.enumType('ErrorCode', { values: ERROR_CODES });

const ErrorInterface = builder.interfaceRef<DomainError>('Error').implement({
  description: 'An expected failure of a mutation. Nothing was changed.',
  fields: (t) => ({
    message: t.exposeString('message'),
    code: t.field({ type: ErrorCodeEnum, resolve: (e) => e.code }),
  }),
});

const FieldIssueRef = builder.objectRef<{ field: string; message: string }>('FieldIssue').implement({
  fields: (t) => ({
    field: t.exposeString('field', { description: 'Path of the offending input field, e.g. `input.country`.' }),
    message: t.exposeString('message'),
  }),
});

builder.objectType(ValidationError, {
  name: 'ValidationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ issues: t.field({ type: [FieldIssueRef], resolve: (e) => e.issues }) }),
});

builder.objectType(NotFoundError, {
  name: 'NotFoundError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ entity: t.exposeString('entity'), id: t.exposeString('id') }),
});

builder.objectType(ConflictError, {
  name: 'ConflictError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ currentVersion: t.exposeInt('currentVersion', { nullable: true }) }),
});

builder.objectType(PolicyViolationError, {
  name: 'PolicyViolationError',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    exporterCountry: t.exposeString('exporterCountry'),
    importerCountry: t.exposeString('importerCountry'),
    reason: t.exposeString('reason'),
  }),
});

builder.objectType(InvalidStateError, {
  name: 'InvalidStateError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ currentState: t.exposeString('currentState') }),
});

builder.objectType(ForbiddenError, {
  name: 'ForbiddenError',
  interfaces: [ErrorInterface],
  fields: (t) => ({ reason: t.exposeString('reason') }),
});
