// Grants: the only thing that makes data reachable by a contractor. Each route is checked against the transfer policy.
import { encodeGlobalID } from '@pothos/plugin-relay';
import { and, eq, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { writeWithAudit } from '../audit/write.js';
import { readsOwn } from '../auth/principal.js';
import { loadPolicyTables } from '../db/policy-tables.js';
import type { Tx } from '../db/client.js';
import { GRANT_STATUSES, MECHANISMS, PURPOSES, type Certification, type ContractorRole } from '../db/enums.js';
import { revokeTokensWhere } from '../auth/revocation.js';
import { accessTokens, contractors, dataCategories, grantCategories, grants, offices } from '../db/tables.js';
import { InvalidStateError, NotFoundError, PolicyViolationError, ValidationError } from '../errors.js';
import { decideRoute } from '../policy/transfer-rules.js';
import { builder } from './builder.js';
import { categoryKey, decodeId, optionalText, parseInput, text } from './input.js';
import { lockContractor } from './contractors.js';

export const PurposeEnum = builder.enumType('Purpose', { values: PURPOSES });
export const MechanismEnum = builder.enumType('TransferMechanism', { values: MECHANISMS });
export const GrantStatusEnum = builder.enumType('GrantStatus', { values: GRANT_STATUSES });

/** A grant past its validity window reads as EXPIRED without anyone having to sweep it. */
export const effectiveGrantStatus = (g: { status: string; validUntil: Date | null }, now = new Date()) =>
  g.status === 'ACTIVE' && g.validUntil && g.validUntil <= now ? 'EXPIRED' : g.status;

export const Grant = builder.drizzleNode('grants', {
  name: 'Grant',
  id: { column: (g) => g.id },
  authScopes: (g, ctx) => readsOwn(ctx.principal, g.contractorId),
  // Always loaded: what the checks and `status` read, and what lists show; the long texts only when asked.
  select: { columns: { id: true, contractorId: true, officeId: true, purpose: true, mechanism: true, validFrom: true, validUntil: true, status: true } },
  fields: (t) => ({
    contractor: t.relation('contractor'),
    office: t.relation('office', { description: 'The exporting office.' }),
    categories: t.relation('categories', { query: { orderBy: { key: 'asc' } } }),
    purpose: t.expose('purpose', { type: PurposeEnum }),
    validFrom: t.expose('validFrom', { type: 'DateTime' }),
    validUntil: t.expose('validUntil', { type: 'DateTime', nullable: true }),
    mechanism: t.expose('mechanism', { type: MechanismEnum }),
    sccModule: t.exposeInt('sccModule', { nullable: true }),
    tiaReference: t.exposeString('tiaReference', { nullable: true }),
    tiaDate: t.expose('tiaDate', { type: 'Date', nullable: true }),
    crossBorder: t.exposeBoolean('crossBorder'),
    policyExplanation: t.exposeString('policyExplanation', { description: 'Why the transfer policy allowed this route.' }),
    status: t.field({ type: GrantStatusEnum, resolve: (g) => effectiveGrantStatus(g) as never }),
    revokedAt: t.expose('revokedAt', { type: 'DateTime', nullable: true }),
    revocationReason: t.exposeString('revocationReason', { nullable: true }),
    createdBy: t.exposeString('createdBy'),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.drizzleObjectField('contractors', 'grants', (t) =>
  t.relatedConnection('grants', { query: { orderBy: { id: 'asc' } } }, { name: 'ContractorGrantConnection' }, { name: 'ContractorGrantEdge' }),
);
builder.drizzleObjectField('offices', 'grants', (t) =>
  t.relatedConnection('grants', { authScopes: { staff: true }, query: { orderBy: { id: 'asc' } } }, { name: 'OfficeGrantConnection' }, { name: 'OfficeGrantEdge' }),
);

/** SQL for "effectively in this status" so EXPIRED can be filtered without a sweeper. */
const statusWhere = (status: string) => ({
  RAW: (g: typeof grants) => status === 'EXPIRED'
    ? sql`${g.status} = 'ACTIVE' and ${g.validUntil} <= now()`
    : status === 'ACTIVE'
      ? sql`${g.status} = 'ACTIVE' and (${g.validUntil} is null or ${g.validUntil} > now())`
      : sql`${g.status} = ${status}`,
});

/**
 * A change to a contractor (country, role, certifications) or to an office (country) moves the routes of its
 * live grants. Each is judged again, with the mechanism it records, as the registry will stand after the
 * change; the change is refused with POLICY_VIOLATION if one of them would no longer be allowed.
 */
export async function checkLiveGrants(
  tx: Tx,
  of: { contractorId: number } | { officeId: number },
  after: { contractor?: { country: string; role: ContractorRole; certifications: Certification[] }; officeCountry?: string },
): Promise<void> {
  const live = await tx.select({
    id: grants.id, purpose: grants.purpose, mechanism: grants.mechanism, sccModule: grants.sccModule, validFrom: grants.validFrom,
    officeCountry: offices.country, country: contractors.country, role: contractors.role, certifications: contractors.certifications,
  }).from(grants)
    .innerJoin(offices, eq(offices.id, grants.officeId))
    .innerJoin(contractors, eq(contractors.id, grants.contractorId))
    .where(and('contractorId' in of ? eq(grants.contractorId, of.contractorId) : eq(grants.officeId, of.officeId), statusWhere('ACTIVE').RAW(grants)));
  const now = new Date();
  for (const g of live) {
    const from = after.officeCountry ?? g.officeCountry;
    const importer = after.contractor ?? g;
    const tables = await loadPolicyTables(tx, { exporter: from, importer: importer.country });
    const decision = decideRoute(tables, {
      exporterCountry: from, importerCountry: importer.country, exporterRole: 'CONTROLLER', context: 'GRANT', at: g.validFrom > now ? g.validFrom : now,
      importer: { kind: 'CONTRACTOR', role: importer.role, certifications: importer.certifications },
    }, { mechanism: g.mechanism, sccModule: g.sccModule });
    if (!decision.allowed) {
      throw new PolicyViolationError(from, importer.country,
        `active grant ${encodeGlobalID('Grant', g.id)} (${g.purpose}, ${g.mechanism}${g.sccModule ? ` module ${g.sccModule}` : ''}) would no longer be valid: ${decision.reason}; revoke it first`);
    }
  }
}

builder.queryFields((t) => ({
  grants: t.drizzleConnection({
    type: 'grants',
    description: 'Staff see every grant; a contractor token sees only its own.',
    authScopes: { scope: 'registry:read' },
    args: {
      contractorId: t.arg.id({ required: false }),
      officeId: t.arg.id({ required: false }),
      status: t.arg({ type: GrantStatusEnum, required: false }),
      purpose: t.arg({ type: PurposeEnum, required: false }),
    },
    resolve: (query, _root, args, ctx) => {
      const contractorId = ctx.principal.kind === 'contractor'
        ? ctx.principal.contractorId
        : args.contractorId ? decodeId('Contractor', String(args.contractorId), 'contractorId') : undefined;
      return ctx.db.query.grants.findMany(query({
        where: {
          ...(contractorId ? { contractorId } : {}),
          ...(args.officeId ? { officeId: decodeId('Office', String(args.officeId), 'officeId') } : {}),
          ...(args.purpose ? { purpose: args.purpose } : {}),
          ...(args.status ? statusWhere(args.status) : {}),
        },
        orderBy: { id: 'asc' },
      }));
    },
  }, { name: 'GrantConnection' }, { name: 'GrantEdge' }),
}));

const GrantDataAccessInput = builder.inputType('GrantDataAccessInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    officeId: t.id({ required: true, description: 'The exporting office.' }),
    categories: t.stringList({ required: true, description: 'Data-category keys, e.g. contact.email.' }),
    purpose: t.field({ type: PurposeEnum, required: true }),
    validFrom: t.field({ type: 'DateTime', description: 'Defaults to now.' }),
    validUntil: t.field({ type: 'DateTime' }),
    mechanism: t.field({ type: MechanismEnum, description: 'Needed when the route leaves the exporter\'s jurisdiction for a country without adequacy.' }),
    sccModule: t.int({ description: 'With SCC: 1–4, matching the parties\' roles.' }),
    tiaReference: t.string({ description: 'Transfer-impact-assessment reference.' }),
    tiaDate: t.field({ type: 'Date' }),
  }),
});

const RevokeGrantInput = builder.inputType('RevokeGrantInput', {
  fields: (t) => ({ id: t.id({ required: true }), reason: t.string({ required: true }) }),
});

const grantSchema = z.object({
  contractorId: z.string(),
  officeId: z.string(),
  categories: z.array(categoryKey).min(1, 'at least one category').max(50),
  purpose: z.enum(PURPOSES),
  validFrom: z.date().nullish(),
  validUntil: z.date().nullish(),
  mechanism: z.enum(MECHANISMS).nullish(),
  sccModule: z.number().int().min(1).max(4).nullish(),
  tiaReference: optionalText(200),
  tiaDate: z.string().nullish().refine((d) => !d || d <= new Date().toISOString().slice(0, 10), 'an assessment cannot be dated in the future'),
}).strict();

builder.mutationFields((t) => ({
  grantDataAccess: t.field({
    type: Grant,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'grant' } },
    args: { input: t.arg({ type: GrantDataAccessInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const data = parseInput(grantSchema, input);
      const contractorId = decodeId('Contractor', data.contractorId, 'input.contractorId');
      const officeId = decodeId('Office', data.officeId, 'input.officeId');
      const validFrom = data.validFrom ?? new Date();
      if (data.validUntil && data.validUntil <= validFrom) throw ValidationError.field('input.validUntil', 'must be after validFrom');
      if (data.validUntil && data.validUntil <= new Date()) throw ValidationError.field('input.validUntil', 'must be in the future');
      if (data.sccModule != null && data.mechanism !== 'SCC') throw ValidationError.field('input.sccModule', 'only with mechanism SCC');
      const keys = [...new Set(data.categories)];
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const [contractor] = await tx.select().from(contractors).where(eq(contractors.id, contractorId)).for('share');
        if (!contractor) throw new NotFoundError('Contractor', data.contractorId);
        if (contractor.status === 'TERMINATED' || contractor.status === 'SUSPENDED') {
          throw new InvalidStateError(`A ${contractor.status} contractor cannot receive new grants`, contractor.status);
        }
        const [office] = await tx.select().from(offices).where(eq(offices.id, officeId));
        if (!office) throw new NotFoundError('Office', data.officeId);
        const known = new Set((await tx.select({ key: dataCategories.key }).from(dataCategories).where(inArray(dataCategories.key, keys))).map((r) => r.key));
        const unknown = data.categories.map((k, i) => ({ k, i })).filter(({ k }) => !known.has(k));
        if (unknown.length) throw new ValidationError(unknown.map(({ k, i }) => ({ field: `input.categories.${i}`, message: `unknown data category ${k}` })));

        const tables = await loadPolicyTables(tx, { exporter: office.country, importer: contractor.country });
        const decision = decideRoute(tables, {
          exporterCountry: office.country, importerCountry: contractor.country, exporterRole: 'CONTROLLER',
          importer: { kind: 'CONTRACTOR', role: contractor.role, certifications: contractor.certifications }, context: 'GRANT', at: validFrom,
        }, { mechanism: data.mechanism, sccModule: data.sccModule });
        if (!decision.allowed) throw new PolicyViolationError(office.country, contractor.country, decision.reason);

        const [row] = await tx.insert(grants).values({
          contractorId, officeId, purpose: data.purpose, validFrom, validUntil: data.validUntil ?? null,
          mechanism: decision.mechanism, sccModule: decision.sccModule, tiaReference: data.tiaReference ?? null, tiaDate: data.tiaDate ?? null,
          crossBorder: decision.crossBorder, policyExplanation: decision.explanation, createdBy: ctx.principal.subject,
        }).returning();
        await tx.insert(grantCategories).values(keys.map((categoryKey) => ({ grantId: row!.id, categoryKey })));
        return { result: row!, audit: { action: 'grantDataAccess', entityType: 'Grant', entityId: row!.id, after: { ...row, categories: keys } } };
      });
    },
  }),
  revokeGrant: t.field({
    type: Grant,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'grant' } },
    args: { input: t.arg({ type: RevokeGrantInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { id: globalId, reason } = parseInput(z.object({ id: z.string(), reason: text(1000) }), input);
      const id = decodeId('Grant', globalId, 'input.id');
      let revoked: [string, number][] = [];
      const result = await writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const [owner] = await tx.select({ contractorId: grants.contractorId }).from(grants).where(eq(grants.id, id));
        if (!owner) throw new NotFoundError('Grant', globalId);
        // The contractor first, as issueAccessToken takes it: a token issued concurrently under this grant
        // either commits before (and is revoked below) or waits and then finds the grant revoked.
        await lockContractor(tx, owner.contractorId, String(owner.contractorId));
        const [before] = await tx.select().from(grants).where(eq(grants.id, id)).for('update');
        if (!before) throw new NotFoundError('Grant', globalId);
        const status = effectiveGrantStatus(before);
        if (status !== 'ACTIVE') throw new InvalidStateError(`Only an ACTIVE grant can be revoked; this one is ${status}`, status);
        const [after] = await tx.update(grants).set({ status: 'REVOKED', revokedAt: new Date(), revocationReason: reason })
          .where(and(eq(grants.id, id))).returning();
        // Tokens that read under this grant's purpose stop at once, everywhere; reissue under the remaining grants.
        revoked = await revokeTokensWhere(tx, and(eq(accessTokens.contractorId, before.contractorId), sql`${accessTokens.purposes} @> array[${before.purpose}]::purpose[]`),
          ctx.principal.subject, `Grant revoked: ${reason}`);
        return { result: after!, audit: { action: 'revokeGrant', entityType: 'Grant', entityId: id, before, after } };
      });
      ctx.revocations.add(revoked);
      return result;
    },
  }),
}));
