// Input validation and global-ID decoding for mutations: each failure is a ValidationError naming the field.
import { decodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { isCountryCode } from '../policy/countries.js';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = 'input'): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new ValidationError(r.error.issues.map((i) => ({ field: [root, ...i.path.map(String)].join('.'), message: i.message })));
}

/** Decodes a Relay global ID of the given type to its numeric primary key. */
export function decodeId(typename: string, globalId: string, field: string): number {
  try {
    const { typename: t, id } = decodeGlobalID(globalId);
    const n = Number(id);
    if (t === typename && Number.isSafeInteger(n) && n > 0 && String(n) === id) return n;
  } catch { /* fall through */ }
  throw ValidationError.field(field, `not a ${typename} ID`);
}

export const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
export const optionalText = (max: number) => text(max).nullish();
export const country = z.string().refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code (e.g. DE)');
export const email = z.string().trim().max(254).email('must be an e-mail address');
export const categoryKey = z.string().regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/, 'must be a dotted lower-case key such as contact.email').max(100);
export const version = z.number().int().positive();
