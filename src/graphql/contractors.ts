// Contractors: outside companies that receive data, their status lifecycle and processing locations.
import { and, eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { writeWithAudit, type AuditEntry } from '../audit/write.js';
import { readsOwn } from '../auth/principal.js';
import { rowsOf, type Tx } from '../db/client.js';
import {
  CERTIFICATIONS, CONTRACTOR_ROLES, CONTRACTOR_STATUSES, OPERATIONS, SERVICES, type ContractorStatus,
} from '../db/enums.js';
import { revokeTokensWhere } from '../auth/revocation.js';
import { accessTokens, contractors, grants, processingLocations } from '../db/tables.js';
import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { builder } from './builder.js';
import { checkLiveGrants } from './grants.js';
import { country, decodeId, email, optionalText, parseInput, text, version } from './input.js';

export const ServiceEnum = builder.enumType('Service', { values: SERVICES });
export const ContractorRoleEnum = builder.enumType('ContractorRole', { values: CONTRACTOR_ROLES });
export const ContractorStatusEnum = builder.enumType('ContractorStatus', { values: CONTRACTOR_STATUSES });
export const OperationEnum = builder.enumType('Operation', { values: OPERATIONS });
export const CertificationEnum = builder.enumType('Certification', { values: CERTIFICATIONS });

/** A contractor token sees its own record and nothing of any other contractor. */
export const Contractor = builder.drizzleNode('contractors', {
  name: 'Contractor',
  id: { column: (c) => c.id },
  authScopes: (c, ctx) => readsOwn(ctx.principal, c.id),
  fields: (t) => ({
    legalName: t.exposeString('legalName'),
    country: t.exposeString('country', { description: 'Country of establishment, ISO 3166-1 alpha-2.' }),
    services: t.field({ type: [ServiceEnum], resolve: (c) => c.services }),
    role: t.expose('role', { type: ContractorRoleEnum }),
    parent: t.relation('parent', { nullable: true, description: 'For a SUBPROCESSOR: the contractor that engaged it.' }),
    status: t.expose('status', { type: ContractorStatusEnum }),
    statusReason: t.exposeString('statusReason', { nullable: true }),
    statusChangedAt: t.expose('statusChangedAt', { type: 'DateTime', nullable: true }),
    contactName: t.exposeString('contactName', { nullable: true }),
    contactEmail: t.exposeString('contactEmail', { nullable: true }),
    contractReference: t.exposeString('contractReference', { nullable: true }),
    dpaSignedOn: t.expose('dpaSignedOn', { type: 'Date', nullable: true }),
    certifications: t.field({ type: [CertificationEnum], resolve: (c) => c.certifications }),
    version: t.exposeInt('version', { description: 'Pass it back to updateContractor: a stale version is refused.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    processingLocations: t.relation('processingLocations', { query: { orderBy: { country: 'asc' } } }),
  }),
});

export const ProcessingLocation = builder.drizzleObject('processingLocations', {
  name: 'ProcessingLocation',
  fields: (t) => ({
    id: t.exposeID('id', { description: 'Pass to removeProcessingLocation.' }),
    country: t.exposeString('country'),
    operations: t.field({ type: [OperationEnum], resolve: (l) => l.operations }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

/**
 * What removeProcessingLocation returns: the deleted row as it was. A plain object, not the drizzle
 * ProcessingLocation, which would be reloaded from the table after the delete and not be found.
 */
const RemovedProcessingLocation = builder.objectRef<typeof processingLocations.$inferSelect>('RemovedProcessingLocation').implement({
  fields: (t) => ({
    id: t.exposeID('id'),
    country: t.exposeString('country'),
    operations: t.field({ type: [OperationEnum], resolve: (l) => l.operations }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
  }),
});

builder.queryFields((t) => ({
  contractors: t.drizzleConnection({
    type: 'contractors',
    authScopes: { staff: true },
    args: {
      country: t.arg.string({ required: false }),
      status: t.arg({ type: ContractorStatusEnum, required: false }),
      service: t.arg({ type: ServiceEnum, required: false, description: 'Only contractors that provide this service.' }),
    },
    resolve: (query, _root, args, ctx) =>
      ctx.db.query.contractors.findMany(query({
        where: {
          ...(args.country ? { country: args.country.toUpperCase() } : {}),
          ...(args.status ? { status: args.status } : {}),
          ...(args.service ? { RAW: (c) => sql`${c.services} @> array[${args.service}]::service[]` } : {}),
        },
        orderBy: { id: 'asc' },
      })),
  }, { name: 'ContractorConnection' }, { name: 'ContractorEdge' }),
  contractor: t.drizzleField({
    type: 'contractors',
    nullable: true,
    authScopes: { scope: 'registry:read' },
    args: { id: t.arg.id({ required: true }) },
    resolve: (query, _root, args, ctx) => {
      const id = decodeId('Contractor', String(args.id), 'id');
      // Another contractor's ID reads as absent, exactly like an ID that does not exist.
      if (ctx.principal.kind === 'contractor' && ctx.principal.contractorId !== id) return null;
      return ctx.db.query.contractors.findFirst(query({ where: { id } }));
    },
  }),
}));

const optionalList = <T extends z.ZodType>(item: T) => z.array(item).max(20).nullish();
const contractorFields = {
  legalName: text(200),
  country,
  services: z.array(z.enum(SERVICES)).min(1, 'at least one service').max(SERVICES.length),
  role: z.enum(CONTRACTOR_ROLES),
  parentContractorId: z.string().nullish(),
  contactName: optionalText(200),
  contactEmail: email.nullish(),
  contractReference: optionalText(200),
  dpaSignedOn: z.string().nullish(),
  certifications: optionalList(z.enum(CERTIFICATIONS)),
};
const registerSchema = z.object(contractorFields).strict();
const updateSchema = registerSchema.partial().extend({ id: z.string(), version }).strict();


const RegisterContractorInput = builder.inputType('RegisterContractorInput', {
  fields: (t) => ({
    legalName: t.string({ required: true }),
    country: t.string({ required: true, description: 'Country of establishment, ISO 3166-1 alpha-2.' }),
    services: t.field({ type: [ServiceEnum], required: true }),
    role: t.field({ type: ContractorRoleEnum, required: true }),
    parentContractorId: t.id({ description: 'Required for a SUBPROCESSOR: the contractor that engaged it.' }),
    contactName: t.string(),
    contactEmail: t.string(),
    contractReference: t.string(),
    dpaSignedOn: t.field({ type: 'Date' }),
    certifications: t.field({ type: [CertificationEnum], description: 'e.g. EU_US_DPF, which the US adequacy decision requires.' }),
  }),
});

const UpdateContractorInput = builder.inputType('UpdateContractorInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    version: t.int({ required: true, description: 'The version you read; a stale one gets CONFLICT and changes nothing.' }),
    legalName: t.string(),
    country: t.string(),
    services: t.field({ type: [ServiceEnum] }),
    role: t.field({ type: ContractorRoleEnum }),
    parentContractorId: t.id(),
    contactName: t.string(),
    contactEmail: t.string(),
    contractReference: t.string(),
    dpaSignedOn: t.field({ type: 'Date' }),
    certifications: t.field({ type: [CertificationEnum] }),
  }),
});

const SetContractorStatusInput = builder.inputType('SetContractorStatusInput', {
  fields: (t) => ({
    id: t.id({ required: true }),
    status: t.field({ type: ContractorStatusEnum, required: true }),
    reason: t.string({ required: true }),
  }),
});

const AddProcessingLocationInput = builder.inputType('AddProcessingLocationInput', {
  fields: (t) => ({
    contractorId: t.id({ required: true }),
    country: t.string({ required: true }),
    operations: t.field({ type: [OperationEnum], required: true }),
  }),
});

const RemoveProcessingLocationInput = builder.inputType('RemoveProcessingLocationInput', {
  fields: (t) => ({ id: t.id({ required: true }) }),
});

/** Allowed status moves; anything else is INVALID_STATE. TERMINATED is final. */
const STATUS_MOVES: Record<ContractorStatus, readonly ContractorStatus[]> = {
  ONBOARDING: ['ACTIVE', 'TERMINATED'],
  ACTIVE: ['SUSPENDED', 'TERMINATED'],
  SUSPENDED: ['ACTIVE', 'TERMINATED'],
  TERMINATED: [],
};

export async function lockContractor(tx: Tx, id: number, globalId: string) {
  const [row] = await tx.select().from(contractors).where(eq(contractors.id, id)).for('update');
  if (!row) throw new NotFoundError('Contractor', globalId);
  return row;
}

/** Role and parent must agree: a SUBPROCESSOR names the contractor that engaged it, no one else does. */
async function checkParent(tx: Tx, role: string, parentGlobalId: string | null | undefined, selfId?: number): Promise<number | null> {
  if (role !== 'SUBPROCESSOR') {
    if (parentGlobalId) throw ValidationError.field('input.parentContractorId', 'only a SUBPROCESSOR has a parent contractor');
    return null;
  }
  if (!parentGlobalId) throw ValidationError.field('input.parentContractorId', 'a SUBPROCESSOR must name the contractor that engaged it');
  const parentId = decodeId('Contractor', parentGlobalId, 'input.parentContractorId');
  if (parentId === selfId) throw ValidationError.field('input.parentContractorId', 'a contractor cannot be its own parent');
  const [parent] = await tx.select({ status: contractors.status }).from(contractors).where(eq(contractors.id, parentId));
  if (!parent) throw new NotFoundError('Contractor', parentGlobalId);
  if (parent.status === 'TERMINATED') throw new InvalidStateError('The parent contractor is TERMINATED', parent.status);
  if (selfId !== undefined) {
    // No loops: the new parent must not descend from this contractor (A engages B, B cannot engage A).
    const r = await tx.execute(sql`with recursive up(id, depth) as (
        select ${parentId}::int, 0 union all
        select c.parent_contractor_id, up.depth + 1 from contractors c join up on c.id = up.id
        where c.parent_contractor_id is not null and up.depth < 100)
      select exists (select 1 from up where id = ${selfId}) as loops`);
    if (rowsOf<{ loops: boolean }>(r)[0]?.loops) throw ValidationError.field('input.parentContractorId', 'the parent is engaged, directly or not, by this contractor: that would be a loop');
  }
  return parentId;
}

function checkDate(value: string | null | undefined, field: string) {
  if (value && value > new Date().toISOString().slice(0, 10)) throw ValidationError.field(field, 'must not be in the future');
}

builder.mutationFields((t) => ({
  registerContractor: t.field({
    type: Contractor,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'contractor' } },
    args: { input: t.arg({ type: RegisterContractorInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const { parentContractorId, certifications, ...data } = parseInput(registerSchema, input);
      checkDate(data.dpaSignedOn, 'input.dpaSignedOn');
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const parentId = await checkParent(tx, data.role, parentContractorId);
        const [row] = await tx.insert(contractors).values({
          ...data, services: [...new Set(data.services)], certifications: [...new Set(certifications ?? [])], parentContractorId: parentId,
        }).returning();
        return { result: row!, audit: { action: 'registerContractor', entityType: 'Contractor', entityId: row!.id, after: row } };
      });
    },
  }),
  updateContractor: t.field({
    type: Contractor,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'contractor' } },
    args: { input: t.arg({ type: UpdateContractorInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const { id: globalId, version: read, parentContractorId, ...changes } = parseInput(updateSchema, input);
      const id = decodeId('Contractor', globalId, 'input.id');
      checkDate(changes.dpaSignedOn, 'input.dpaSignedOn');
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const before = await lockContractor(tx, id, globalId);
        if (before.version !== read) throw new ConflictError(`Contractor was changed since version ${read} (now ${before.version})`, before.version);
        if (before.status === 'TERMINATED') throw new InvalidStateError('A TERMINATED contractor cannot be changed', before.status);
        const role = changes.role ?? before.role;
        // A SUBPROCESSOR whose role is restated without a parent keeps the parent it has.
        const keepsParent = parentContractorId === undefined && role === 'SUBPROCESSOR' && before.parentContractorId !== null;
        const parentChange = !keepsParent && (parentContractorId !== undefined || changes.role !== undefined)
          ? { parentContractorId: await checkParent(tx, role, parentContractorId, id) }
          : {};
        const dpaSignedOn = changes.dpaSignedOn !== undefined ? changes.dpaSignedOn : before.dpaSignedOn;
        if (before.status === 'ACTIVE' && role !== 'INDEPENDENT_CONTROLLER' && !dpaSignedOn) {
          throw new InvalidStateError('An ACTIVE processor must keep its signed data processing agreement (dpaSignedOn)', before.status);
        }
        if (changes.country !== undefined || changes.role !== undefined || changes.certifications != null) {
          // Its live grants' routes move with it: each must still be allowed under the mechanism it records.
          await checkLiveGrants(tx, { contractorId: id }, {
            contractor: { country: changes.country ?? before.country, role, certifications: changes.certifications ?? before.certifications },
          });
        }
        const [after] = await tx.update(contractors).set({
          ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
          ...(changes.services ? { services: [...new Set(changes.services)] } : {}),
          ...(changes.certifications ? { certifications: [...new Set(changes.certifications)] } : {}),
          ...parentChange,
          version: read + 1,
          updatedAt: new Date(),
        }).where(eq(contractors.id, id)).returning();
        return { result: after!, audit: { action: 'updateContractor', entityType: 'Contractor', entityId: id, before, after } };
      });
    },
  }),
  setContractorStatus: t.field({
    type: Contractor,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'contractor' } },
    args: { input: t.arg({ type: SetContractorStatusInput, required: true }) },
    resolve: async (_root, { input }, ctx) => {
      const { id: globalId, status, reason } = parseInput(z.object({ id: z.string(), status: z.enum(CONTRACTOR_STATUSES), reason: text(1000) }), input);
      const id = decodeId('Contractor', globalId, 'input.id');
      let revoked: [string, number][] = [];
      const result = await writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const before = await lockContractor(tx, id, globalId);
        if (!STATUS_MOVES[before.status].includes(status)) {
          throw new InvalidStateError(`A contractor cannot move from ${before.status} to ${status}`, before.status);
        }
        if (status === 'ACTIVE' && before.role !== 'INDEPENDENT_CONTROLLER' && !before.dpaSignedOn) {
          throw new InvalidStateError('A processor can be made ACTIVE only once its data processing agreement is signed (dpaSignedOn)', before.status);
        }
        const now = new Date();
        const [after] = await tx.update(contractors)
          .set({ status, statusReason: reason, statusChangedAt: now, version: before.version + 1, updatedAt: now })
          .where(eq(contractors.id, id)).returning();
        const audit: AuditEntry[] = [{ action: 'setContractorStatus', entityType: 'Contractor', entityId: id, before, after }];
        if (status === 'SUSPENDED' || status === 'TERMINATED') {
          // Its tokens stop on every instance the moment this commits.
          revoked = await revokeTokensWhere(tx, eq(accessTokens.contractorId, id), ctx.principal.subject, `Contractor ${status.toLowerCase()}: ${reason}`);
        }
        if (status === 'TERMINATED') {
          // A terminated contractor keeps its history but no live access: its grants end with it.
          const ended = await tx.update(grants)
            .set({ status: 'REVOKED', revokedAt: now, revocationReason: `Contractor terminated: ${reason}` })
            .where(and(eq(grants.contractorId, id), eq(grants.status, 'ACTIVE'))).returning({ id: grants.id });
          for (const g of ended) audit.push({ action: 'revokeGrant', entityType: 'Grant', entityId: g.id, after: { status: 'REVOKED', reason: 'contractor terminated' } });
        }
        return { result: after!, audit };
      });
      ctx.revocations.add(revoked);
      return result;
    },
  }),
  addProcessingLocation: t.field({
    type: ProcessingLocation,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'processingLocation' } },
    args: { input: t.arg({ type: AddProcessingLocationInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      const data = parseInput(z.object({ contractorId: z.string(), country, operations: z.array(z.enum(OPERATIONS)).min(1, 'at least one operation') }), input);
      const contractorId = decodeId('Contractor', data.contractorId, 'input.contractorId');
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const contractor = await lockContractor(tx, contractorId, data.contractorId);
        if (contractor.status === 'TERMINATED') throw new InvalidStateError('A TERMINATED contractor cannot be changed', contractor.status);
        const [row] = await tx.insert(processingLocations)
          .values({ contractorId, country: data.country, operations: [...new Set(data.operations)] })
          .onConflictDoNothing().returning();
        if (!row) throw new ConflictError(`Contractor already has a processing location in ${data.country}; remove it first to change its operations`);
        return { result: row, audit: { action: 'addProcessingLocation', entityType: 'Contractor', entityId: contractorId, after: row } };
      });
    },
  }),
  removeProcessingLocation: t.field({
    type: RemovedProcessingLocation,
    authScopes: { compliance: true },
    errors: { dataField: { name: 'processingLocation' } },
    args: { input: t.arg({ type: RemoveProcessingLocationInput, required: true }) },
    resolve: (_root, { input }, ctx) => {
      // Digits only: Number() would read "1e0" or " 1" as 1 and delete a location nobody named.
      const id = Number(input.id);
      if (!/^[1-9][0-9]{0,9}$/.test(String(input.id)) || id > 2_147_483_647) throw ValidationError.field('input.id', 'not a processing location ID');
      return writeWithAudit(ctx.db, ctx.principal, async (tx) => {
        const [location] = await tx.select({ contractorId: processingLocations.contractorId }).from(processingLocations).where(eq(processingLocations.id, id));
        if (!location) throw new NotFoundError('ProcessingLocation', String(input.id));
        const contractor = await lockContractor(tx, location.contractorId, String(location.contractorId));
        if (contractor.status === 'TERMINATED') throw new InvalidStateError('A TERMINATED contractor cannot be changed', contractor.status);
        const [row] = await tx.delete(processingLocations).where(eq(processingLocations.id, id)).returning();
        if (!row) throw new NotFoundError('ProcessingLocation', String(input.id));
        return { result: row, audit: { action: 'removeProcessingLocation', entityType: 'Contractor', entityId: row.contractorId, before: row } };
      });
    },
  }),
}));
