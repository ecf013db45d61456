// The audit log's signed checkpoints over plain HTTP, public like the token keys: a checkpoint reveals the log's
// size and root hash only, and anyone holding one can later ask (with an auditor token) for proofs against it.
// GET /.well-known/audit-checkpoint: the newest; /.well-known/audit-checkpoint/<treeSize>: the one of that size.
import type { Queryable } from '../db/client.js';
import { domainErrorOf } from '../errors.js';
import { auditCheckpoint } from '../registry/audit-log.js';
import { problem } from './responses.js';

export const CHECKPOINT_PATH = '/.well-known/audit-checkpoint';
export const CHECKPOINT_KEYS_PATH = '/.well-known/audit-checkpoint-keys.json';

export const isCheckpointPath = (pathname: string) =>
  pathname === CHECKPOINT_PATH || pathname.startsWith(`${CHECKPOINT_PATH}/`);

export async function checkpointResponse(request: Request, pathname: string, db: Queryable): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'HEAD')
    return problem(405, 'METHOD_NOT_ALLOWED', 'Only GET', { allow: 'GET, HEAD' });
  const rest = pathname.slice(CHECKPOINT_PATH.length + 1);
  if (rest && !/^[1-9][0-9]{0,14}$/.test(rest))
    return problem(404, 'NOT_FOUND', 'A checkpoint is named by its tree size, a positive integer');
  try {
    const c = await auditCheckpoint(db, rest ? Number(rest) : undefined);
    return new Response(JSON.stringify(c, null, 2), {
      headers: {
        'content-type': 'application/json',
        // The newest changes as the log grows; one of a given size never does.
        'cache-control': rest ? 'public, max-age=86400, immutable' : 'no-cache',
      },
    });
  } catch (e) {
    const known = domainErrorOf(e);
    if (known?.code === 'NOT_FOUND') return problem(404, 'NOT_FOUND', known.message);
    throw e;
  }
}
