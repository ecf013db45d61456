// Relay global-ID decoding for resolvers and the CSV export: the API's edge translates IDs to the numeric keys the
// domain takes, each failure a ValidationError naming the field.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { ValidationError } from '../errors.js';

/** "an Obligation", "a Contractor": type names in messages. */
const withArticle = (typename: string) => `${/^[AEIOU]/.test(typename) ? 'an' : 'a'} ${typename}`;

/** Decodes a Relay global ID of the given type to its numeric primary key. */
export function decodeId(typename: string, globalId: string, field: string): number {
  let other: string | undefined;
  try {
    const { typename: t, id } = decodeGlobalID(globalId);
    const n = Number(id);
    if (t === typename && Number.isSafeInteger(n) && n > 0 && String(n) === id) return n;
    if (t !== typename && /^[A-Z][A-Za-z]*$/.test(t)) other = t;
  } catch {
    /* fall through */
  }
  throw ValidationError.field(
    field,
    `not ${withArticle(typename)} ID${other ? ` (it is ${withArticle(other)} ID)` : ''}`,
  );
}

/** Decodes a Relay global ID that may name any of `typenames`: which one it names, and its numeric key. */
export function decodeIdOf<T extends string>(
  typenames: readonly T[],
  globalId: string,
  field: string,
): { typename: T; id: number } {
  let typename: string | undefined;
  try {
    typename = decodeGlobalID(globalId).typename;
  } catch {
    /* reported below */
  }
  const named = typenames.find((t) => t === typename);
  if (named) return { typename: named, id: decodeId(named, globalId, field) };
  throw ValidationError.field(
    field,
    `not ${typenames.map(withArticle).join(' or ')} ID${typename && /^[A-Z][A-Za-z]*$/.test(typename) ? ` (it is ${withArticle(typename)} ID)` : ''}`,
  );
}

/** An optional ID field: decoded when given, null or undefined passed on as given (null clears, undefined leaves). */
export function decodeOptionalId(
  typename: string,
  globalId: string | null | undefined,
  field: string,
): number | null | undefined {
  return globalId ? decodeId(typename, globalId, field) : (globalId as null | undefined);
}
