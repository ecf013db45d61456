// Policy changes effective later take effect at their instant with nobody running a job: each instance keeps the
// earliest instant still due in memory (read at start, and again whenever another change is recorded — NOTIFY) and
// checks it against the app's clock on a short timer. Whichever instance claims a due change first applies it
// (applyDuePolicyChanges: `update … where applied_at is null`); the others find nothing left to claim. Idle, it
// sends no statement.
import type { StaffPrincipal } from '../auth/principal.js';
import type { Database } from '../db/client.js';
import { applyDuePolicyChanges, nextDuePolicyChange, POLICY_CHANGES_CHANNEL } from './policy-changes.js';
import type { RegistryDeps } from './tx.js';

/** The registry itself, as the actor of the audit events of changes that took effect on their own. */
const SCHEDULER: StaffPrincipal = {
  kind: 'staff',
  role: 'COMPLIANCE',
  subject: 'registry:policy-scheduler',
  tokenId: 'policy-scheduler',
  scopes: [],
  expiresAt: new Date(8.64e15),
};

export interface PolicyScheduler {
  stop(): void;
}

export async function startPolicyScheduler(
  deps: RegistryDeps,
  database: Pick<Database, 'listen'>,
  onError: (e: unknown) => void,
  intervalMs = 250,
): Promise<PolicyScheduler> {
  let due: Date | null = null;
  let busy = false;
  const refresh = async () => {
    due = await nextDuePolicyChange(deps.db);
  };
  const refreshQuietly = () => void refresh().catch(onError);
  await database.listen(POLICY_CHANGES_CHANNEL, refreshQuietly, refreshQuietly);
  await refresh();
  const timer = setInterval(() => {
    if (busy || !due || deps.clock.now() < due) return;
    busy = true;
    applyDuePolicyChanges(deps, SCHEDULER)
      .then(refresh)
      .catch(onError)
      .finally(() => {
        busy = false;
      });
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
