// Purpose limitation: a grant may give a contractor only the data categories its purpose may use. Pure: the
// rows come from the purpose_categories table (policy data, loaded by load.ts), the decision is made here.
import type { Purpose } from '../db/enums.js';
import { covers } from '../registry/categories.js';

export interface PurposeLimit {
  purpose: Purpose;
  /** The categories the purpose may use; a group key covers its children, never a RESTRICTED one. */
  categoryKeys: readonly string[];
  reason: string | null;
}

export interface RequestedCategory {
  key: string;
  sensitivity: string;
}

/** Null when every requested category lies within the purpose; otherwise why not, naming the ones outside. */
export function decidePurposeCategories(limit: PurposeLimit, requested: readonly RequestedCategory[]): string | null {
  const outside = requested
    .filter((c) => !limit.categoryKeys.some((allowed) => covers(allowed, c.key, c.sensitivity === 'RESTRICTED')))
    .map((c) => c.key);
  if (!outside.length) return null;
  return `purpose ${limit.purpose} may not use ${outside.join(', ')}${limit.reason ? `: ${limit.reason}` : ''}`;
}
