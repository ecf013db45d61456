// The SchemaBuilder and its plugins. It defines no types: each domain module in this folder does.
import SchemaBuilder from '@pothos/core';
import DrizzlePlugin from '@pothos/plugin-drizzle';
import ErrorsPlugin from '@pothos/plugin-errors';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin, { AuthScopeFailureType, type AuthFailure } from '@pothos/plugin-scope-auth';
import { getTableConfig } from 'drizzle-orm/pg-core';
import { GraphQLError, type GraphQLResolveInfo } from 'graphql';
import { OWN_READ_SCOPES, type Principal } from '../auth/principal.js';
import { relations } from '../db/relations.js';
import {
  ConflictError,
  ForbiddenError,
  InvalidStateError,
  NotFoundError,
  PolicyViolationError,
  ValidationError,
} from '../errors.js';
import type { RegistryDeps } from '../registry/tx.js';
import './plain-columns.js';
import './sync-ids.js';
import './as-of.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../registry/paging.js';

/** Per request: who asks, and what the domain functions run on (so a resolver passes `ctx` to them as is). */
export interface Context extends RegistryDeps {
  principal: Principal;
}

export interface AuthScopes {
  /** Any staff token (COMPLIANCE or AUDITOR): may read the registry. */
  staff: boolean;
  /** COMPLIANCE: may change the registry. */
  compliance: boolean;
  auditor: boolean;
  contractor: boolean;
  /** The token carries this OAuth scope (e.g. registry:read), or one of these scopes. */
  scope: string | readonly string[];
}

/** What each auth scope asks of a token, in the words of a FORBIDDEN message. */
const SCOPE_NEEDS: Record<Exclude<keyof AuthScopes, 'scope'>, string> = {
  staff: 'a staff token (role COMPLIANCE or AUDITOR)',
  compliance: 'role COMPLIANCE',
  auditor: 'role AUDITOR',
  contractor: 'a contractor token',
};

/** What a failed field check needed ("role COMPLIANCE", "scope registry:read or records:read"), when it can be said. */
function needsOf(failure: AuthFailure): string | undefined {
  switch (failure.kind) {
    case AuthScopeFailureType.AuthScope:
      return failure.scope === 'scope'
        ? `scope ${[failure.parameter as string | readonly string[]].flat().join(' or ')}`
        : SCOPE_NEEDS[failure.scope as keyof typeof SCOPE_NEEDS];
    case AuthScopeFailureType.AnyAuthScopes:
    case AuthScopeFailureType.AllAuthScopes: {
      const parts = failure.failures.map(needsOf);
      if (!parts.length || parts.some((p) => !p)) return undefined;
      return parts.join(failure.kind === AuthScopeFailureType.AnyAuthScopes ? ' or ' : ' and ');
    }
    default:
      return undefined;
  }
}

/**
 * What a contractor token may read of the objects it reaches. A type's check looks at the object itself (whose
 * contractor it belongs to), so its refusal says this, the same whatever object it was: the message must not tell a
 * foreign ID from a missing one.
 */
const OWN_ENTRIES =
  `a contractor token reads only its own contractor's record and grants (scope ${OWN_READ_SCOPES.registry.join(' or ')}), ` +
  `obligations (scope ${OWN_READ_SCOPES.obligations.join(' or ')}) and access history (scope ${OWN_READ_SCOPES.accessHistory.join(' or ')})`;

/** FORBIDDEN: what the field needs (`needs`), or, for an object the token may not read, whose objects it may. */
const forbidden = (info: GraphQLResolveInfo, needs?: string) =>
  new GraphQLError(
    `Not allowed: ${info.parentType.name}.${info.fieldName}${needs ? ` needs ${needs}` : `: ${OWN_ENTRIES}`}`,
    {
      extensions: { code: 'FORBIDDEN', reason: 'insufficient_scope' },
    },
  );

/** Pothos' message for a failed type check (`authScopes` on an object type), as opposed to a field's. */
const TYPE_CHECK_FAILED = /^Not authorized to read fields for /;

/**
 * Runs a node(s) lookup. The drizzle plugin's loader rejects an ID without a row with a plain error; that
 * becomes `forStaff()` for staff, and for a contractor token `forContractor()`: what an ID of another
 * contractor's gets, so existence cannot be probed.
 */
async function withMissingIds<T>(
  lookup: () => Promise<T> | T,
  principal: Principal,
  forStaff: () => T,
  forContractor: () => T,
): Promise<T> {
  try {
    return await lookup();
  } catch (e) {
    if (!(e instanceof Error && /^Model \w+\(.*\) not found$/.test(e.message))) throw e;
    return principal.kind === 'contractor' ? forContractor() : forStaff();
  }
}

export const builder = new SchemaBuilder<{
  Context: Context;
  AuthScopes: AuthScopes;
  DrizzleRelations: typeof relations;
  DefaultFieldNullability: false;
  Scalars: {
    DateTime: { Input: Date; Output: Date | string };
    Date: { Input: string; Output: string };
    JSON: { Input: unknown; Output: unknown };
  };
}>({
  // Field configs pass through the plugins last to first: plainColumns sees what drizzle made of a field.
  // Resolvers are wrapped first to last: asOf, innermost, records a root field's instant after the auth checks
  // and right before the drizzle plugin plans the field.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, RelayPlugin, 'plainColumns', DrizzlePlugin, 'asOf'],
  defaultFieldNullability: false,
  scopeAuth: {
    // A type's authScopes run once per object (through isTypeOf), not once per field of it.
    runScopesOnType: true,
    authScopes: ({ principal }) => ({
      staff: principal.kind === 'staff',
      compliance: principal.kind === 'staff' && principal.role === 'COMPLIANCE',
      auditor: principal.kind === 'staff' && principal.role === 'AUDITOR',
      contractor: principal.kind === 'contractor',
      scope: (scope: string | readonly string[]) =>
        (typeof scope === 'string' ? [scope] : scope).some((s) => principal.scopes.includes(s)),
    }),
    unauthorizedError: (_parent, _ctx, info, result) =>
      forbidden(
        info,
        TYPE_CHECK_FAILED.test(result.message) ? undefined : (needsOf(result.failure) ?? 'another role or scope'),
      ),
  },
  relay: {
    clientMutationId: 'omit',
    cursorType: 'String',
    nodesOnConnection: true,
    // An ID that names no row: node is null for staff (as Relay expects), nodes NOT_FOUND (the loader fails the
    // whole list); for a contractor token every entry is refused, as a foreign one is.
    nodeQueryOptions: {
      resolve: (_root, args, ctx, info, resolveNode) =>
        withMissingIds(
          () => resolveNode(args.id),
          ctx.principal,
          () => null,
          () => {
            throw forbidden(info);
          },
        ),
    },
    nodesQueryOptions: {
      resolve: (_root, args, ctx, info, resolveNodes) =>
        withMissingIds(
          () => resolveNodes(args.ids),
          ctx.principal,
          () => {
            throw new GraphQLError('An ID in ids names no object', { extensions: { code: 'NOT_FOUND' } });
          },
          () => args.ids.map(() => forbidden(info)),
        ),
    },
  },
  errors: {
    // Every field that declares `errors` returns these as typed members of its result union.
    defaultTypes: [
      ValidationError,
      NotFoundError,
      ConflictError,
      PolicyViolationError,
      InvalidStateError,
      ForbiddenError,
    ],
    defaultUnionOptions: { name: ({ fieldName }) => `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Result` },
    defaultResultOptions: { name: ({ fieldName }) => `${fieldName[0]!.toUpperCase()}${fieldName.slice(1)}Payload` },
  },
  drizzle: {
    client: (ctx) => ctx.db,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    maxConnectionSize: MAX_PAGE_SIZE,
    getTableConfig,
    relations,
  },
});

builder.queryType({});
builder.mutationType({});
