// Contractor access tokens: types, the list and the mutations. The rules (what a token may carry, when it is live,
// revocation on every instance) live in src/registry/access-tokens.ts; key rotation in src/registry/signing-keys.ts.
import {
  accessTokenFilters,
  issueAccessToken,
  revokeAccessToken,
  tokenStatusAt,
  tokenCoverage,
  tokenTime,
  type IssuedToken,
  type TokenCoverage as TokenCoverageRow,
} from '../registry/access-tokens.js';
import { rotateSigningKey, type Rotation } from '../registry/signing-keys.js';
import { batched } from './batch.js';
import { builder } from './builder.js';
import { PurposeEnum } from './grants.js';
import { decodeId } from './input.js';

const TokenScopeEnum = builder.enumType('TokenScope', {
  values: {
    REGISTRY_READ: { value: 'registry:read', description: 'Read its own contractor record, grants and obligations.' },
    OBLIGATIONS_ACKNOWLEDGE: { value: 'obligations:acknowledge', description: 'Acknowledge its obligations.' },
    RECORDS_READ: { value: 'records:read', description: 'Fetch the shared records its grants cover.' },
  } as const,
});
const TokenStatusEnum = builder.enumType('AccessTokenStatus', { values: ['ACTIVE', 'EXPIRED', 'REVOKED'] as const });

export const AccessToken = builder.drizzleNode('accessTokens', {
  name: 'AccessToken',
  description: 'A token issued to a contractor. The token itself is never stored; this is its record.',
  id: { column: (t) => t.id },
  authScopes: { staff: true },
  fields: (t) => ({
    jti: t.exposeString('jti'),
    contractor: t.relation('contractor'),
    scopes: t.field({ type: [TokenScopeEnum], resolve: (a) => a.scopes as never }),
    categories: t.exposeStringList('categories'),
    purposes: t.field({ type: [PurposeEnum], resolve: (a) => a.purposes }),
    issuedBy: t.exposeString('issuedBy'),
    issuedAt: t.expose('issuedAt', { type: 'DateTime' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    lastUsedAt: t.expose('lastUsedAt', { type: 'DateTime', nullable: true }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    revokedBy: t.exposeString('revokedBy', { nullable: true }),
    revocationReason: t.exposeString('revocationReason', { nullable: true }),
    status: t.field({ type: TokenStatusEnum, resolve: (a) => tokenStatusAt(a, tokenTime()) }),
    signingKeyId: t.exposeString('kid', { description: 'kid of the key that signed it.' }),
  }),
});

const CoveredPurpose = builder.objectRef<TokenCoverageRow['purposes'][number]>('TokenCoveragePurpose').implement({
  fields: (t) => ({
    purpose: t.field({ type: PurposeEnum, resolve: (p) => p.purpose }),
    categories: t.exposeStringList('categories', {
      description:
        'The category keys its grants in effect give; a token may carry these or their descendants (never a RESTRICTED one).',
    }),
  }),
});

const TokenCoverage = builder.objectRef<TokenCoverageRow>('TokenCoverage').implement({
  description: 'What issueAccessToken accepts for the contractor now, judged as it judges a token.',
  fields: (t) => ({
    refusal: t.exposeString('refusal', {
      nullable: true,
      description:
        'Why no token can be issued to it now (it is not ACTIVE, or a processor above it that is not ACTIVE holds back all its grants, naming that processor); null when one can.',
    }),
    purposes: t.field({
      type: [CoveredPurpose],
      description:
        'The purposes of its grants that give data now (in effect, not held back by a processor above them), with their categories (empty: no token can rest on anything).',
      resolve: (c) => c.purposes,
    }),
    scopes: t.field({ type: [TokenScopeEnum], resolve: (c) => [...c.scopes] as never }),
    maxLifetimeSeconds: t.exposeInt('maxLifetimeSeconds', {
      description: 'The longest lifetime a token may have (CONTRACTOR_TOKEN_MAX_TTL_SECONDS); the shortest is 60 s.',
    }),
  }),
});

builder.drizzleObjectField('contractors', 'tokenCoverage', (t) =>
  t.field({
    type: TokenCoverage,
    authScopes: { staff: true },
    nullable: true,
    description: 'What a token issued to it now may carry: purposes and categories, scopes, lifetime. Staff only.',
    resolve: (c, _args, ctx) =>
      batched(ctx, 'tokenCoverage', c.id, (ids) => tokenCoverage(ctx, ids, ctx.clock.now())).then((v) => v ?? null),
  }),
);

builder.queryFields((t) => ({
  accessTokens: t.drizzleConnection(
    {
      type: 'accessTokens',
      authScopes: { staff: true },
      args: {
        contractorId: t.arg.id({ required: false }),
        activeOnly: t.arg.boolean({ required: false, description: 'Only tokens neither revoked nor expired.' }),
      },
      resolve: (query, _root, args, ctx) =>
        ctx.db.query.accessTokens.findMany(
          query({
            where: accessTokenFilters(
              {
                contractorId: args.contractorId
                  ? decodeId('Contractor', String(args.contractorId), 'contractorId')
                  : undefined,
                activeOnly: args.activeOnly,
              },
              tokenTime(),
            ),
            orderBy: { id: 'desc' },
          }),
        ),
    },
    { name: 'AccessTokenConnection' },
    { name: 'AccessTokenEdge' },
  ),
}));

const IssueAccessTokenInput = builder.inputType('IssueAccessTokenInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    scopes: t.field({ type: [TokenScopeEnum], required: true }),
    categories: t.stringList({
      required: true,
      description: "A subset of what the contractor's active grants cover for these purposes.",
    }),
    purposes: t.field({ type: [PurposeEnum], required: true }),
    lifetimeSeconds: t.int({ required: true, description: 'At most the configured maximum (24 hours by default).' }),
  }),
});

const IssueAccessTokenPayload = builder.objectRef<IssuedToken>('IssueAccessTokenPayload').implement({
  fields: (t) => ({
    token: t.exposeString('token', { description: 'The bearer token. Shown once: it is not stored.' }),
    tokenType: t.string({ resolve: () => 'Bearer' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime' }),
    accessToken: t.field({ type: AccessToken, resolve: (i) => i.accessToken }),
  }),
});

const RevokeAccessTokenInput = builder.inputType('RevokeAccessTokenInput', {
  fields: (t) => ({ id: t.id({ required: true }), reason: t.string({ required: true }) }),
});

const RotateSigningKeyPayload = builder.objectRef<Rotation>('RotateSigningKeyPayload').implement({
  fields: (t) => ({
    kid: t.exposeString('kid', { description: 'The new signing key; new tokens use it at once.' }),
    publishedKids: t.exposeStringList('publishedKids', {
      description: 'Keys in /.well-known/jwks.json after the rotation.',
    }),
    removedKids: t.exposeStringList('removedKids', {
      description: 'Retired keys removed because no live token carries them.',
    }),
  }),
});

const RotateSigningKeyInput = builder.inputType('RotateSigningKeyInput', {
  fields: (t) => ({ reason: t.string({ required: true }) }),
});

builder.mutationFields((t) => ({
  issueAccessToken: t.field({
    type: IssueAccessTokenPayload,
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: IssueAccessTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      issueAccessToken(ctx, ctx.principal, {
        ...input,
        contractorId: decodeId('Contractor', input.contractorId, 'input.contractorId'),
      }),
  }),
  revokeAccessToken: t.field({
    type: AccessToken,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'accessToken' } },
    args: { input: t.arg({ type: RevokeAccessTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) =>
      revokeAccessToken(ctx, ctx.principal, {
        id: decodeId('AccessToken', input.id, 'input.id'),
        reason: input.reason,
      }),
  }),
  rotateSigningKey: t.field({
    type: RotateSigningKeyPayload,
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: RotateSigningKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => rotateSigningKey(ctx, ctx.principal, input),
  }),
}));
