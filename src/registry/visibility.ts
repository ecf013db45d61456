// What a principal may see of the lists and history that span contractors: staff see all of it, a contractor
// token only its own. The one place those two rules are said; resolvers ask here.
import { OWN_READ_SCOPES, readsOwn, type Principal } from '../auth/principal.js';

/** The contractor a list is narrowed to: a contractor token's own, whatever it asks; for staff the one named, if any. */
export function listedContractorId(principal: Principal, requested: number | undefined): number | undefined {
  return principal.kind === 'contractor' ? principal.contractorId : requested;
}

/**
 * A transfer a principal may read: staff any; a contractor token (with a scope that reads its access history) only
 * the CONTRACTOR_ACCESS transfers of its own record fetches — what `accessHistory` lists.
 */
export function mayReadTransfer(
  principal: Principal,
  t: { kind: string; importerContractorId: number | null },
): boolean {
  if (principal.kind === 'staff') return true;
  return (
    t.kind === 'CONTRACTOR_ACCESS' &&
    t.importerContractorId !== null &&
    readsOwn(principal, t.importerContractorId, OWN_READ_SCOPES.accessHistory)
  );
}
