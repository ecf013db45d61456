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
