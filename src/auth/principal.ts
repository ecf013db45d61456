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

export interface StaffPrincipal extends Common {
  kind: 'staff';
  role: StaffRole;
}
export interface ContractorPrincipal extends Common {
  kind: 'contractor';
  contractorId: number;
  categories: readonly string[];
  purposes: readonly Purpose[];
}
export type Principal = StaffPrincipal | ContractorPrincipal;

/** An auditor changes nothing: every operation of its token is read-only, so a read replica may serve it. */
export const readsOnly = (principal: Principal): boolean => principal.kind === 'staff' && principal.role === 'AUDITOR';

/**
 * The scopes, any one of which lets a contractor token read each kind of its own entries. Its record and grants are
 * the registry; its obligations also to an acknowledge-only token, which needs their IDs and texts to acknowledge
 * them; its access history (what it fetched) also to a records-only token, never to an acknowledge-only one.
 */
export const OWN_READ_SCOPES = {
  registry: ['registry:read'],
  obligations: ['registry:read', 'obligations:acknowledge'],
  accessHistory: ['registry:read', 'records:read'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Staff may read any contractor's registry entries; a contractor token only its own, and only with one of
 * `scopes` (by default `registry:read`: a token issued for obligations or records alone does not open the
 * registry, also not through `viewer` or `node`).
 */
export function readsOwn(
  principal: Principal,
  contractorId: number,
  scopes: readonly string[] = OWN_READ_SCOPES.registry,
): boolean {
  if (principal.kind === 'staff') return true;
  return principal.contractorId === contractorId && scopes.some((s) => principal.scopes.includes(s));
}
