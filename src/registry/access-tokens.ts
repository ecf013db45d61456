// Contractor access tokens: issued by compliance staff within the contractor's grants in effect, listed, revoked;
// and revoked by other aggregates when a change invalidates them (a grant revoked, a contractor suspended).
//
// "A token is live" (not revoked, not expired) is answered here once: tokenStatusAt in TS, tokenLive in SQL.
// Token lifetimes run on real time, not the registry's clock: verification checks a token's expiry against
// real time, so a token's status must too (tokenTime).
import { and, asc, eq, gt, inArray, isNull, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import { REVOCATION_CHANNEL } from '../auth/revocation.js';
import { CONTRACTOR_SCOPES, issueContractorToken } from '../auth/tokens.js';
import type { Queryable } from '../db/client.js';
import { PURPOSES, type Purpose } from '../db/enums.js';
import { accessTokens, contractors, grantCategories, grants } from '../db/tables.js';
import { InvalidStateError, NotFoundError, ValidationError } from '../errors.js';
import { covers, knownCategories } from './categories.js';
import { assertMayHoldTokens, lockContractor, mayHoldTokens } from './contractor-status.js';
import { grantGivesData, heldBackBy, ProcessorNotActiveError } from './grant-status.js';
import { publicId } from './ids.js';
import { write, type RegistryDeps, type Write } from './tx.js';
import { categoryKey, parseInput, text } from './validation.js';

export type AccessTokenRow = typeof accessTokens.$inferSelect;
export type AccessTokenStatus = 'ACTIVE' | 'EXPIRED' | 'REVOKED';

/** The moment token lifetimes are judged at: real time, as verification judges them. */
export const tokenTime = (): Date => new Date();

export function tokenStatusAt(t: Pick<AccessTokenRow, 'revokedAt' | 'expiresAt'>, at: Date): AccessTokenStatus {
  if (t.revokedAt) return 'REVOKED';
  return t.expiresAt <= at ? 'EXPIRED' : 'ACTIVE';
}

/** The access_tokens table or an alias of it, in a relational-query `RAW` filter. */
export interface TokenColumns {
  revokedAt: AnyPgColumn;
  expiresAt: AnyPgColumn;
}

/** SQL: the token is live at `at` — exactly when tokenStatusAt says ACTIVE. */
export const tokenLive = (at: Date, t: TokenColumns = accessTokens): SQL =>
  and(isNull(t.revokedAt), gt(t.expiresAt, at))!;

/** The relational-query `where` of the `accessTokens` list. */
export function accessTokenFilters(f: { contractorId?: number; activeOnly?: boolean | null }, at: Date) {
  return {
    ...(f.contractorId ? { contractorId: f.contractorId } : {}),
    ...(f.activeOnly ? { RAW: (t: typeof accessTokens) => tokenLive(at, t) } : {}),
  };
}

/** NOTIFY payloads are limited to 8000 bytes: jtis go out in chunks. */
const JTIS_PER_NOTIFY = 100;

/**
 * Revokes the live tokens matching `where` in the change's transaction. Every other instance learns it from the
 * NOTIFY sent there, at commit; this one marks them revoked once the change has committed.
 */
export async function revokeTokens(w: Write, where: SQL | undefined, reason: string): Promise<number> {
  const at = tokenTime();
  const rows = await w.tx
    .update(accessTokens)
    .set({ revokedAt: at, revokedBy: w.principal.subject, revocationReason: reason })
    .where(and(tokenLive(at), where))
    .returning({ id: accessTokens.id, jti: accessTokens.jti, expiresAt: accessTokens.expiresAt });
  w.wrote(accessTokens, rows);
  const revoked = rows.map((r): [string, number] => [r.jti, r.expiresAt.getTime()]);
  for (let i = 0; i < revoked.length; i += JTIS_PER_NOTIFY) {
    await w.tx.execute(
      sql`select pg_notify(${REVOCATION_CHANNEL}, ${JSON.stringify(revoked.slice(i, i + JTIS_PER_NOTIFY))})`,
    );
  }
  if (revoked.length) w.afterCommit(() => w.deps.revocations.add(revoked));
  return revoked.length;
}

const id = z.number().int().positive();

/** The lifetime bound is configuration (CONTRACTOR_TOKEN_MAX_TTL_SECONDS), so the schema is made per call. */
const issueAccessTokenSchema = (maxTtlSeconds: number) =>
  z
    .object({
      contractorId: id,
      scopes: z.array(z.enum(CONTRACTOR_SCOPES)).min(1, 'at least one scope'),
      categories: z.array(categoryKey).min(1, 'at least one category').max(50),
      purposes: z.array(z.enum(PURPOSES)).min(1, 'at least one purpose'),
      lifetimeSeconds: z
        .number()
        .int()
        .min(60, 'at least 60 seconds')
        .max(maxTtlSeconds, `at most ${maxTtlSeconds} seconds (CONTRACTOR_TOKEN_MAX_TTL_SECONDS)`),
    })
    .strict();

/** The category keys each purpose's grants in effect give, per purpose: what a token may rest on. */
export type GrantedCoverage = Map<Purpose, string[]>;

/**
 * For each contractor: the purposes of its grants that give data at `now` (grantGivesData), each with the category keys those grants
 * give (a token may carry a key they cover: the key or a descendant, never a RESTRICTED one). One statement.
 * issueAccessToken checks a token against it; tokenCoverage offers it.
 */
export async function grantedCoverage(
  db: Queryable,
  contractorIds: readonly number[],
  now: Date,
): Promise<Map<number, GrantedCoverage>> {
  const result = new Map<number, GrantedCoverage>(contractorIds.map((id) => [id, new Map()]));
  if (!contractorIds.length) return result;
  const rows = await db
    .selectDistinct({ contractorId: grants.contractorId, purpose: grants.purpose, key: grantCategories.categoryKey })
    .from(grants)
    .innerJoin(grantCategories, eq(grantCategories.grantId, grants.id))
    .where(and(inArray(grants.contractorId, [...new Set(contractorIds)]), grantGivesData(now)))
    .orderBy(asc(grants.contractorId), asc(grants.purpose), asc(grantCategories.categoryKey));
  for (const r of rows) {
    const byPurpose = result.get(r.contractorId)!;
    byPurpose.set(r.purpose, [...(byPurpose.get(r.purpose) ?? []), r.key]);
  }
  return result;
}

/** What compliance staff can issue to a contractor now. */
export interface TokenCoverage {
  /** Why no token can be issued now (the contractor is not ACTIVE, or a processor holds back all it holds), or null. */
  refusal: string | null;
  /** The purposes of its grants that give data, each with the category keys they give (empty when refused). */
  purposes: { purpose: Purpose; categories: string[] }[];
  scopes: readonly (typeof CONTRACTOR_SCOPES)[number][];
  /** CONTRACTOR_TOKEN_MAX_TTL_SECONDS; the least is 60. */
  maxLifetimeSeconds: number;
}

/** What issueAccessToken would accept for each contractor now: its checks, asked ahead. Three statements for any number. */
export async function tokenCoverage(
  deps: Pick<RegistryDeps, 'db' | 'config'>,
  contractorIds: readonly number[],
  now: Date,
): Promise<Map<number, TokenCoverage>> {
  const [statuses, granted, held] = await Promise.all([
    deps.db
      .select({ id: contractors.id, status: contractors.status })
      .from(contractors)
      .where(inArray(contractors.id, [...new Set(contractorIds)])),
    grantedCoverage(deps.db, contractorIds, now),
    heldBackBy(deps.db, contractorIds, now),
  ]);
  return new Map(
    statuses.map((c) => {
      const purposes = [...granted.get(c.id)!].map(([purpose, categories]) => ({ purpose, categories }));
      const processor = held.get(c.id);
      // As issueAccessToken refuses: the contractor's own status first, then a processor holding back all it holds.
      const refusal = !mayHoldTokens(c)
        ? `Tokens are issued only to ACTIVE contractors; this one is ${c.status}`
        : processor && !purposes.length
          ? new ProcessorNotActiveError(processor).message
          : null;
      return [
        c.id,
        {
          refusal,
          purposes: mayHoldTokens(c) ? purposes : [],
          scopes: CONTRACTOR_SCOPES,
          maxLifetimeSeconds: deps.config.contractorTokenMaxTtlSeconds,
        },
      ];
    }),
  );
}

export interface IssuedToken {
  token: string;
  expiresAt: Date;
  accessToken: AccessTokenRow;
}

/**
 * Issues a token to an ACTIVE contractor for purposes its grants in effect serve and categories they cover (a
 * granted key covers its descendants, never a RESTRICTED one). Every refusal names its field; nothing is stored.
 */
export async function issueAccessToken(deps: RegistryDeps, principal: Principal, input: unknown): Promise<IssuedToken> {
  const data = parseInput(issueAccessTokenSchema(deps.config.contractorTokenMaxTtlSeconds), input);
  const categories = [...new Set(data.categories)].sort();
  const purposes = [...new Set(data.purposes)].sort();
  const scopes = [...new Set(data.scopes)].sort();
  return write(deps, principal, async ({ tx, now, wrote }) => {
    // Locked: a grant revoked concurrently either commits first (and is not counted here) or waits for this token
    // and then revokes it.
    assertMayHoldTokens(await lockContractor(tx, data.contractorId));
    const coverage = (await grantedCoverage(tx, [data.contractorId], now)).get(data.contractorId)!;
    const issues = purposes.flatMap((p) =>
      coverage.has(p)
        ? []
        : [{ field: `input.purposes.${data.purposes.indexOf(p)}`, message: `no active grant for purpose ${p}` }],
    );
    const granted = [...new Set(purposes.flatMap((p) => coverage.get(p) ?? []))];
    const known = await knownCategories(tx, data.categories, 'input.categories', issues);
    data.categories.forEach((key, i) => {
      const category = known.get(key);
      if (category && !granted.some((g) => covers(g, key, category.sensitivity === 'RESTRICTED'))) {
        issues.push({
          field: `input.categories.${i}`,
          message: `${key} is not covered by an active grant for ${purposes.join(', ')}`,
        });
      }
    });
    if (issues.length) {
      // A purpose or category missing because a processor above holds the grants back: that is the reason to give.
      const processor = (await heldBackBy(tx, [data.contractorId], now)).get(data.contractorId);
      if (processor) throw new ProcessorNotActiveError(processor);
      throw new ValidationError(issues);
    }
    const signed = await issueContractorToken(deps.keys, deps.tokenSettings, {
      contractorId: data.contractorId,
      scopes,
      categories,
      purposes,
      ttlSeconds: data.lifetimeSeconds,
    });
    const [row] = await tx
      .insert(accessTokens)
      .values({
        jti: signed.jti,
        kid: signed.kid,
        contractorId: data.contractorId,
        scopes,
        categories,
        purposes,
        issuedBy: principal.subject,
        expiresAt: signed.expiresAt,
      })
      .returning();
    wrote(accessTokens, [row!]);
    return {
      result: { token: signed.token, expiresAt: signed.expiresAt, accessToken: row! },
      audit: { action: 'issueAccessToken', entityType: 'AccessToken', entityId: row!.id, after: row },
    };
  });
}

const revokeAccessTokenSchema = z.object({ id, reason: text(1000) }).strict();

/** Ends one live token at once, on every instance. A revoked or expired token is INVALID_STATE. */
export async function revokeAccessToken(
  deps: RegistryDeps,
  principal: Principal,
  input: unknown,
): Promise<AccessTokenRow> {
  const { id: tokenId, reason } = parseInput(revokeAccessTokenSchema, input);
  return write(deps, principal, async (w) => {
    const [before] = await w.tx.select().from(accessTokens).where(eq(accessTokens.id, tokenId)).for('update');
    if (!before) throw new NotFoundError('AccessToken', publicId('AccessToken', tokenId));
    const status = tokenStatusAt(before, tokenTime());
    if (status === 'REVOKED') throw new InvalidStateError('The token is already revoked', status);
    if (status === 'EXPIRED') throw new InvalidStateError('The token has expired', status);
    await revokeTokens(w, eq(accessTokens.id, tokenId), reason);
    const [after] = await w.tx.select().from(accessTokens).where(eq(accessTokens.id, tokenId));
    return {
      result: after!,
      audit: { action: 'revokeAccessToken', entityType: 'AccessToken', entityId: tokenId, before, after },
    };
  });
}
