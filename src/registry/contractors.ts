// Contractors: outside companies that receive data; their record, status lifecycle and processing locations.
// The status rules themselves (what each status allows) are in contractor-status.ts, shared with every aggregate.
import { and, eq, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import type { AuditEntry } from '../audit/write.js';
import type { Principal } from '../auth/principal.js';
import type { Tx } from '../db/client.js';
import { rowsOf } from '../db/rows.js';
import {
  CERTIFICATIONS,
  CONTRACTOR_ROLES,
  CONTRACTOR_STATUSES,
  OPERATIONS,
  SERVICES,
  type ContractorRole,
  type ContractorStatus,
  type Service,
} from '../db/enums.js';
import { accessTokens, contractors, processingLocations } from '../db/tables.js';
import { ConflictError, InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { revokeTokens } from './access-tokens.js';
import { STATUS_MOVES, assertMayChange, lockContractor } from './contractor-status.js';
import { checkLiveGrants, endGrantsOf } from './grants.js';
import { publicId } from './ids.js';
import { write, type RegistryDeps } from './tx.js';
import {
  assertNotAfterToday,
  country,
  email,
  optionalText,
  parseInput,
  rowId as id,
  text,
  version,
} from './validation.js';

const optionalList = <T extends z.ZodType>(item: T) => z.array(item).max(20).nullish();
const contractorFields = {
  legalName: text(200),
  country,
  services: z.array(z.enum(SERVICES)).min(1, 'at least one service').max(SERVICES.length),
  role: z.enum(CONTRACTOR_ROLES),
  parentContractorId: id.nullish(),
  contactName: optionalText(200),
  contactEmail: email.nullish(),
  contractReference: optionalText(200),
  dpaSignedOn: z.string().nullish(),
  certifications: optionalList(z.enum(CERTIFICATIONS)),
};
const registerContractorSchema = z.object(contractorFields).strict();
const updateContractorSchema = registerContractorSchema.partial().extend({ id, version }).strict();
const setContractorStatusSchema = z.object({ id, status: z.enum(CONTRACTOR_STATUSES), reason: text(1000) }).strict();
const addProcessingLocationSchema = z
  .object({ contractorId: id, country, operations: z.array(z.enum(OPERATIONS)).min(1, 'at least one operation') })
  .strict();

/**
 * The `name` filter as a text-search query: every word given must begin a word of the legal name ("north soft"
 * finds "Northwind Softworks Ltd"), case-insensitive; the GIN index `contractors_name_idx` serves it.
 */
function nameQuery(name: string): string {
  const words = name.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (name.length > 200) throw ValidationError.field('name', 'at most 200 characters');
  if (!words.length) throw ValidationError.field('name', 'must hold a letter or a digit');
  return words.map((w) => `${w}:*`).join(' & ');
}

/**
 * SQL: the legal name's words, as `contractors_name_idx` indexes them. Dots, slashes, @ and colons part words: the
 * text-search parser would otherwise read "S.A." or "example.com" as one host or file name.
 */
const legalNameWords = (c: typeof contractors) => sql`to_tsvector('simple', translate(${c.legalName}, './@:', '    '))`;

/** The relational-query `where` of the `contractors` list. */
export function contractorFilters(f: {
  name?: string | null;
  country?: string | null;
  status?: ContractorStatus | null;
  service?: Service | null;
}) {
  const raw: ((c: typeof contractors) => SQL)[] = [];
  if (f.service) raw.push((c) => sql`${c.services} @> array[${f.service}]::service[]`);
  if (f.name != null) {
    const query = nameQuery(f.name);
    raw.push((c) => sql`${legalNameWords(c)} @@ to_tsquery('simple', ${query})`);
  }
  return {
    ...(f.country ? { country: f.country.toUpperCase() } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(raw.length ? { RAW: (c: typeof contractors) => and(...raw.map((r) => r(c)))! } : {}),
  };
}

/** A processor (not an independent controller) works only under a signed data processing agreement. */
const needsDpa = (role: ContractorRole) => role !== 'INDEPENDENT_CONTROLLER';

/** Role and parent must agree: a SUBPROCESSOR names the contractor that engaged it, no one else does. */
async function checkParent(
  tx: Tx,
  role: ContractorRole,
  parentId: number | null | undefined,
  selfId?: number,
): Promise<number | null> {
  if (role !== 'SUBPROCESSOR') {
    if (parentId)
      throw ValidationError.field('input.parentContractorId', 'only a SUBPROCESSOR has a parent contractor');
    return null;
  }
  if (!parentId)
    throw ValidationError.field('input.parentContractorId', 'a SUBPROCESSOR must name the contractor that engaged it');
  if (parentId === selfId)
    throw ValidationError.field('input.parentContractorId', 'a contractor cannot be its own parent');
  const [parent] = await tx
    .select({ status: contractors.status })
    .from(contractors)
    .where(eq(contractors.id, parentId));
  if (!parent) throw new NotFoundError('Contractor', publicId('Contractor', parentId));
  if (parent.status === 'TERMINATED') throw new InvalidStateError('The parent contractor is TERMINATED', parent.status);
  if (selfId !== undefined) {
    // No loops: the new parent must not descend from this contractor (A engages B, B cannot engage A).
    const r = await tx.execute(sql`with recursive up(id, depth) as (
        select ${parentId}::int, 0 union all
        select c.parent_contractor_id, up.depth + 1 from contractors c join up on c.id = up.id
        where c.parent_contractor_id is not null and up.depth < 100)
      select exists (select 1 from up where id = ${selfId}) as loops`);
    if (rowsOf<{ loops: boolean }>(r)[0]?.loops)
      throw ValidationError.field(
        'input.parentContractorId',
        'the parent is engaged, directly or not, by this contractor: that would be a loop',
      );
  }
  return parentId;
}

export async function registerContractor(deps: RegistryDeps, principal: Principal, input: unknown) {
  const { parentContractorId, certifications, ...data } = parseInput(registerContractorSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    assertNotAfterToday(data.dpaSignedOn, 'input.dpaSignedOn', now);
    const parentId = await checkParent(tx, data.role, parentContractorId);
    const [row] = await tx
      .insert(contractors)
      .values({
        ...data,
        services: [...new Set(data.services)],
        certifications: [...new Set(certifications ?? [])],
        parentContractorId: parentId,
      })
      .returning();
    wrote(contractors, [row!]);
    return {
      result: row!,
      audit: { action: 'registerContractor', entityType: 'Contractor', entityId: row!.id, after: row },
    };
  });
}

/** Optimistic: `version` is the one the caller read. Its live grants' routes must stay valid after the change. */
export async function updateContractor(deps: RegistryDeps, principal: Principal, input: unknown) {
  const { id: contractorId, version: read, parentContractorId, ...changes } = parseInput(updateContractorSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    assertNotAfterToday(changes.dpaSignedOn, 'input.dpaSignedOn', now);
    const before = await lockContractor(tx, contractorId);
    if (before.version !== read)
      throw new ConflictError(`Contractor was changed since version ${read} (now ${before.version})`, before.version);
    assertMayChange(before);
    const role = changes.role ?? before.role;
    // A SUBPROCESSOR whose role is restated without a parent keeps the parent it has.
    const keepsParent =
      parentContractorId === undefined && role === 'SUBPROCESSOR' && before.parentContractorId !== null;
    const parentChange =
      !keepsParent && (parentContractorId !== undefined || changes.role !== undefined)
        ? { parentContractorId: await checkParent(tx, role, parentContractorId, contractorId) }
        : {};
    const dpaSignedOn = changes.dpaSignedOn !== undefined ? changes.dpaSignedOn : before.dpaSignedOn;
    if (before.status === 'ACTIVE' && needsDpa(role) && !dpaSignedOn) {
      throw new InvalidStateError(
        'An ACTIVE processor must keep its signed data processing agreement (dpaSignedOn)',
        before.status,
      );
    }
    if (changes.country !== undefined || changes.role !== undefined || changes.certifications != null) {
      // Its live grants' routes move with it: each must still be allowed under the mechanism it records.
      await checkLiveGrants(
        tx,
        now,
        { contractorId },
        {
          contractor: {
            country: changes.country ?? before.country,
            role,
            certifications: changes.certifications ?? before.certifications,
          },
        },
      );
    }
    const [after] = await tx
      .update(contractors)
      .set({
        ...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
        ...(changes.services ? { services: [...new Set(changes.services)] } : {}),
        ...(changes.certifications ? { certifications: [...new Set(changes.certifications)] } : {}),
        ...parentChange,
        version: read + 1,
        updatedAt: now,
      })
      .where(eq(contractors.id, contractorId))
      .returning();
    wrote(contractors, [after!]);
    return {
      result: after!,
      audit: { action: 'updateContractor', entityType: 'Contractor', entityId: contractorId, before, after },
    };
  });
}

/** Moves the status along STATUS_MOVES. Suspending or terminating stops its tokens; terminating ends its grants. */
export async function setContractorStatus(deps: RegistryDeps, principal: Principal, input: unknown) {
  const { id: contractorId, status, reason } = parseInput(setContractorStatusSchema, input);
  return write(deps, principal, async (w) => {
    const { tx, now } = w;
    const before = await lockContractor(tx, contractorId);
    if (!STATUS_MOVES[before.status].includes(status)) {
      throw new InvalidStateError(`A contractor cannot move from ${before.status} to ${status}`, before.status);
    }
    if (status === 'ACTIVE' && needsDpa(before.role) && !before.dpaSignedOn) {
      throw new InvalidStateError(
        'A processor can be made ACTIVE only once its data processing agreement is signed (dpaSignedOn)',
        before.status,
      );
    }
    const [after] = await tx
      .update(contractors)
      .set({ status, statusReason: reason, statusChangedAt: now, version: before.version + 1, updatedAt: now })
      .where(eq(contractors.id, contractorId))
      .returning();
    w.wrote(contractors, [after!]);
    const audit: AuditEntry[] = [
      { action: 'setContractorStatus', entityType: 'Contractor', entityId: contractorId, before, after },
    ];
    // Its tokens stop on every instance the moment this commits.
    if (status === 'SUSPENDED' || status === 'TERMINATED')
      await revokeTokens(
        w,
        eq(accessTokens.contractorId, contractorId),
        `Contractor ${status.toLowerCase()}: ${reason}`,
      );
    if (status === 'TERMINATED') audit.push(...(await endGrantsOf(w, contractorId, reason)));
    return { result: after!, audit };
  });
}

export async function addProcessingLocation(deps: RegistryDeps, principal: Principal, input: unknown) {
  const data = parseInput(addProcessingLocationSchema, input);
  return write(deps, principal, async ({ tx, now, wrote }) => {
    assertMayChange(await lockContractor(tx, data.contractorId));
    // A new location is a new destination of every live grant: each must cover it with the mechanism it records.
    await checkLiveGrants(tx, now, { contractorId: data.contractorId }, { newLocation: data.country });
    const [row] = await tx
      .insert(processingLocations)
      .values({ contractorId: data.contractorId, country: data.country, operations: [...new Set(data.operations)] })
      .onConflictDoNothing()
      .returning();
    if (!row)
      throw new ConflictError(
        `Contractor already has a processing location in ${data.country}; remove it first to change its operations`,
      );
    wrote(processingLocations, [row]);
    return {
      result: row,
      audit: { action: 'addProcessingLocation', entityType: 'Contractor', entityId: data.contractorId, after: row },
    };
  });
}

/** `id` is a processing location's plain numeric ID, as the ProcessingLocation type shows it. */
export async function removeProcessingLocation(deps: RegistryDeps, principal: Principal, input: { id: string }) {
  // Digits only: Number() would read "1e0" or " 1" as 1 and delete a location nobody named.
  const locationId = Number(input.id);
  if (!/^[1-9][0-9]{0,9}$/.test(String(input.id)) || locationId > 2_147_483_647)
    throw ValidationError.field('input.id', 'not a processing location ID');
  return write(deps, principal, async ({ tx, wrote }) => {
    const [location] = await tx
      .select({ contractorId: processingLocations.contractorId })
      .from(processingLocations)
      .where(eq(processingLocations.id, locationId));
    if (!location) throw new NotFoundError('ProcessingLocation', String(input.id));
    assertMayChange(await lockContractor(tx, location.contractorId));
    const [row] = await tx.delete(processingLocations).where(eq(processingLocations.id, locationId)).returning();
    if (!row) throw new NotFoundError('ProcessingLocation', String(input.id));
    wrote(processingLocations, [row]);
    return {
      result: row,
      audit: { action: 'removeProcessingLocation', entityType: 'Contractor', entityId: row.contractorId, before: row },
    };
  });
}
