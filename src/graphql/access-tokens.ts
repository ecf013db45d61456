// Contractor access tokens: issued by compliance staff within the contractor's active grants, listed,
// revoked; and the rotation of the service's signing key.
import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { CONTRACTOR_SCOPES, issueContractorToken } from '../auth/tokens.js';
import { writeWithAudit } from '../audit/write.js';
import { PURPOSES } from '../db/enums.js';
import { accessTokens, grantCategories, grants } from '../db/tables.js';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { covers } from '../registry/categories.js';
import { builder } from './builder.js';
import { assertMayHoldTokens, lockContractor } from '../registry/contractor-status.js';
import { knownCategories } from '../registry/categories.js';
import { grantInEffect } from '../registry/grants.js';
import { rotateSigningKey } from '../registry/signing-keys.js';
import { revokeTokens } from '../registry/access-tokens.js';
import { write } from '../registry/tx.js';
import { PurposeEnum } from './grants.js';
import { categoryKey, decodeId, parseInput, text } from './input.js';

export const TokenScopeEnum = builder.enumType('TokenScope', {
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
    status: t.field({ type: TokenStatusEnum, resolve: (a) => (a.revokedAt ? 'REVOKED' : a.expiresAt <= new Date() ? 'EXPIRED' : 'ACTIVE') }),
    signingKeyId: t.exposeString('kid', { description: 'kid of the key that signed it.' }),
  }),
});

builder.queryFields((t) => ({
  accessTokens: t.drizzleConnection({
    type: 'accessTokens',
    authScopes: { staff: true },
    args: {
      contractorId: t.arg.id({ required: false }),
      activeOnly: t.arg.boolean({ required: false, description: 'Only tokens neither revoked nor expired.' }),
    },
    resolve: (query, _root, args, ctx) => ctx.db.query.accessTokens.findMany(query({
      where: {
        ...(args.contractorId ? { contractorId: decodeId('Contractor', String(args.contractorId), 'contractorId') } : {}),
        ...(args.activeOnly ? { revokedAt: { isNull: true }, expiresAt: { gt: new Date() } } : {}),
      },
      orderBy: { id: 'desc' },
    })),
  }, { name: 'AccessTokenConnection' }, { name: 'AccessTokenEdge' }),
}));

const IssueAccessTokenInput = builder.inputType('IssueAccessTokenInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    scopes: t.field({ type: [TokenScopeEnum], required: true }),
    categories: t.stringList({ required: true, description: 'A subset of what the contractor\'s active grants cover for these purposes.' }),
    purposes: t.field({ type: [PurposeEnum], required: true }),
    lifetimeSeconds: t.int({ required: true, description: 'At most the configured maximum (24 hours by default).' }),
  }),
});

type Issued = { token: string; expiresAt: Date; accessToken: typeof accessTokens.$inferSelect };
const IssueAccessTokenPayload = builder.objectRef<Issued>('IssueAccessTokenPayload').implement({
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

const RotateSigningKeyPayload = builder.objectRef<{ kid: string; publishedKids: string[]; removedKids: string[] }>('RotateSigningKeyPayload').implement({
  fields: (t) => ({
    kid: t.exposeString('kid', { description: 'The new signing key; new tokens use it at once.' }),
    publishedKids: t.exposeStringList('publishedKids', { description: 'Keys in /.well-known/jwks.json after the rotation.' }),
    removedKids: t.exposeStringList('removedKids', { description: 'Retired keys removed because no live token carries them.' }),
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
    resolve: (_root, { input }, ctx) => {
      const max = ctx.config.contractorTokenMaxTtlSeconds;
      const data = parseInput(z.object({
        contractorId: z.string(),
        scopes: z.array(z.enum(CONTRACTOR_SCOPES)).min(1, 'at least one scope'),
        categories: z.array(categoryKey).min(1, 'at least one category').max(50),
        purposes: z.array(z.enum(PURPOSES)).min(1, 'at least one purpose'),
        lifetimeSeconds: z.number().int().min(60, 'at least 60 seconds').max(max, `at most ${max} seconds (CONTRACTOR_TOKEN_MAX_TTL_SECONDS)`),
      }), input);
      const contractorId = decodeId('Contractor', data.contractorId, 'input.contractorId');
      const categories = [...new Set(data.categories)].sort();
      const purposes = [...new Set(data.purposes)].sort();
      const scopes = [...new Set(data.scopes)].sort();
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        assertMayHoldTokens(await lockContractor(tx, contractorId));
        const active = await tx.select({ purpose: grants.purpose, key: grantCategories.categoryKey })
          .from(grants).innerJoin(grantCategories, eq(grantCategories.grantId, grants.id))
          .where(and(eq(grants.contractorId, contractorId), grantInEffect(ctx.clock.now())));
        const issues = purposes.flatMap((p, i) => (active.some((g) => g.purpose === p) ? [] : [{ field: `input.purposes.${i}`, message: `no active grant for purpose ${p}` }]));
        const granted = new Set(active.filter((g) => purposes.includes(g.purpose)).map((g) => g.key));
        const known = await knownCategories(tx, data.categories, 'input.categories', issues);
        data.categories.forEach((key, i) => {
          if (known.has(key) && ![...granted].some((g) => covers(g, key, known.get(key)!.sensitivity === 'RESTRICTED'))) issues.push({ field: `input.categories.${i}`, message: `${key} is not covered by an active grant for ${purposes.join(', ')}` });
        });
        if (issues.length) throw new ValidationError(issues);
        const signed = await issueContractorToken(ctx.keys, ctx.tokenSettings, { contractorId, scopes, categories, purposes, ttlSeconds: data.lifetimeSeconds });
        const [row] = await tx.insert(accessTokens).values({
          jti: signed.jti, kid: signed.kid, contractorId, scopes, categories, purposes, issuedBy: ctx.principal.subject, expiresAt: signed.expiresAt,
        }).returning();
        return { result: { token: signed.token, expiresAt: signed.expiresAt, accessToken: row! }, audit: { action: 'issueAccessToken', entityType: 'AccessToken', entityId: row!.id, after: row } };
      });
    },
  }),
  revokeAccessToken: t.field({
    type: AccessToken,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'accessToken' } },
    args: { input: t.arg({ type: RevokeAccessTokenInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const { id: globalId, reason } = parseInput(z.object({ id: z.string(), reason: text(1000) }), input);
      const id = decodeId('AccessToken', globalId, 'input.id');
      return write(ctx, ctx.principal, async (w) => {
        const [before] = await w.tx.select().from(accessTokens).where(eq(accessTokens.id, id)).for('update');
        if (!before) throw new NotFoundError('AccessToken', globalId);
        if (before.revokedAt) throw new InvalidStateError('The token is already revoked', 'REVOKED');
        if (before.expiresAt <= new Date()) throw new InvalidStateError('The token has expired', 'EXPIRED');
        await revokeTokens(w, eq(accessTokens.id, id), reason);
        const [after] = await w.tx.select().from(accessTokens).where(eq(accessTokens.id, id));
        return { result: after!, audit: { action: 'revokeAccessToken', entityType: 'AccessToken', entityId: id, before, after } };
      });
    },
  }),
  rotateSigningKey: t.field({
    type: RotateSigningKeyPayload,
    authScopes: { compliance: true },
    errors: { directResult: true },
    args: { input: t.arg({ type: RotateSigningKeyInput, required: true }) },
    resolve: (_root, { input }, ctx) => rotateSigningKey(ctx, ctx.principal, input),
  }),
}));
