// Input validation for the domain functions: zod schemas of the common field kinds, and parseInput, which turns
// a failed parse into one ValidationError naming each offending field (`input.country`, `args.to`, ...).
import { z } from 'zod';
import { ValidationError } from '../errors.js';
import { isCountryCode } from '../policy/countries.js';

export function parseInput<S extends z.ZodType>(schema: S, input: unknown, root = 'input'): z.infer<S> {
  const r = schema.safeParse(input);
  if (r.success) return r.data;
  throw new ValidationError(
    r.error.issues.map((i) => ({ field: [root, ...i.path.map(String)].join('.'), message: i.message })),
  );
}

export const text = (max: number) =>
  z.string().trim().min(1, 'must not be empty').max(max, `must be at most ${max} characters`);
export const optionalText = (max: number) => text(max).nullish();
export const country = z.string().refine(isCountryCode, 'must be an ISO 3166-1 alpha-2 country code (e.g. DE)');
export const email = z.string().trim().max(254).email('must be an e-mail address');
export const categoryKey = z
  .string()
  .regex(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/, 'must be a dotted lower-case key such as contact.email')
  .max(100);
export const version = z.number().int().positive();
/** A row's numeric key, as the GraphQL layer decodes it from a global ID. */
export const rowId = z.number().int().positive();

/** The calendar day of `at` (UTC), as dates (YYYY-MM-DD) are stored and compared. */
export const dayOf = (at: Date) => at.toISOString().slice(0, 10);

/** A date (YYYY-MM-DD) that records something done: it cannot lie after today. */
export function assertNotAfterToday(value: string | null | undefined, field: string, now: Date): void {
  if (value && value > dayOf(now)) throw ValidationError.field(field, 'must not be in the future');
}

/**
 * A moment that records something done (a transfer, a request's receipt): it cannot lie ahead of `now`, give or
 * take a minute for the caller's clock.
 */
export function assertNotInFuture(at: Date, field: string, now: Date): void {
  if (at.getTime() > now.getTime() + 60_000) throw ValidationError.field(field, 'must not be in the future');
}

/** A period [from, to) of a report or filter: `to` must come after `from`. */
export function assertPeriod(from: Date, to: Date, field = 'args.to'): void {
  if (to <= from) throw ValidationError.field(field, 'must be after from');
}
