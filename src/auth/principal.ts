// Who is asking. Built once per request from a verified token.
import type { Purpose, StaffRole } from '../db/enums.js';

export const STAFF_SCOPES: Record<StaffRole, readonly string[]> = {
  COMPLIANCE: ['registry:read', 'registry:write'],
  AUDITOR: ['registry:read', 'audit:read'],
};

interface Common {
  subject: string;
  tokenId: string;
  scopes: readonly string[];
  expiresAt: Date;
}

export interface StaffPrincipal extends Common { kind: 'staff'; role: StaffRole }
export interface ContractorPrincipal extends Common {
  kind: 'contractor';
  contractorId: number;
  categories: readonly string[];
  purposes: readonly Purpose[];
}
export type Principal = StaffPrincipal | ContractorPrincipal;

/**
 * Staff may read any contractor's registry entries; a contractor token only its own, and only with one of
 * `scopes` (by default `registry:read`: a token issued for obligations or records alone does not open the
 * registry, also not through `viewer` or `node`).
 */
export function readsOwn(principal: Principal, contractorId: number, scopes: readonly string[] = ['registry:read']): boolean {
  if (principal.kind === 'staff') return true;
  return principal.contractorId === contractorId && scopes.some((s) => principal.scopes.includes(s));
}
