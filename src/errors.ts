// Expected failures. Resolvers throw these; the GraphQL layer turns each into a typed error in the
// mutation's result union (or, for reads, a GraphQLError carrying the same code). Anything else is masked.
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'CONFLICT',
  'POLICY_VIOLATION',
  'INVALID_STATE',
  'FORBIDDEN',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export abstract class DomainError extends Error {
  abstract readonly code: ErrorCode;
}

/** The expected failure behind `e`, also when GraphQL wrapped it (as `originalError`, maybe more than once). */
export function domainErrorOf(e: unknown): DomainError | undefined {
  for (let x = e, hops = 0; x != null && hops < 5; x = (x as { originalError?: unknown }).originalError, hops++) {
    if (x instanceof DomainError) return x;
  }
  return undefined;
}

export interface FieldIssue {
  field: string;
  message: string;
}

export class ValidationError extends DomainError {
  readonly code = 'VALIDATION_FAILED' as const;
  constructor(readonly issues: FieldIssue[]) {
    super(`Invalid input: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  }
  static field(field: string, message: string) {
    return new ValidationError([{ field, message }]);
  }
}

export class NotFoundError extends DomainError {
  readonly code = 'NOT_FOUND' as const;
  constructor(
    readonly entity: string,
    readonly id: string,
  ) {
    super(`${entity} ${id} not found`);
  }
}

export class ConflictError extends DomainError {
  readonly code = 'CONFLICT' as const;
  constructor(
    message: string,
    readonly currentVersion?: number,
  ) {
    super(message);
  }
}

export class PolicyViolationError extends DomainError {
  readonly code = 'POLICY_VIOLATION' as const;
  constructor(
    readonly exporterCountry: string,
    readonly importerCountry: string,
    readonly reason: string,
  ) {
    super(`Transfer ${exporterCountry} → ${importerCountry} refused: ${reason}`);
  }
}

export class InvalidStateError extends DomainError {
  readonly code = 'INVALID_STATE' as const;
  constructor(
    message: string,
    readonly currentState: string,
  ) {
    super(message);
  }
}

export class ForbiddenError extends DomainError {
  readonly code = 'FORBIDDEN' as const;
  constructor(
    message = 'Not allowed for this token',
    readonly reason = 'insufficient_scope',
  ) {
    super(message);
  }
}
