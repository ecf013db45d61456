// Relay global-ID decoding for resolvers: the GraphQL layer translates IDs to the numeric keys the domain takes,
// each failure a ValidationError naming the field.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { ValidationError } from '../errors.js';

// Moved to the domain (src/registry/validation.ts); re-exported until every resolver module calls the domain.
export { categoryKey, country, email, optionalText, parseInput, text, version } from '../registry/validation.js';

/** Decodes a Relay global ID of the given type to its numeric primary key. */
export function decodeId(typename: string, globalId: string, field: string): number {
  try {
    const { typename: t, id } = decodeGlobalID(globalId);
    const n = Number(id);
    if (t === typename && Number.isSafeInteger(n) && n > 0 && String(n) === id) return n;
  } catch { /* fall through */ }
  throw ValidationError.field(field, `not a ${typename} ID`);
}
