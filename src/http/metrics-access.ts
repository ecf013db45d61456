// Who may read /metrics: with METRICS_TOKEN set, a request bearing it; otherwise only a loopback peer
// (a scraper on the same host or pod). The metrics hold no personal data, but operation names and
// volumes are still nobody else's business.
import { timingSafeEqual, createHash } from 'node:crypto';
import { bearerCredentials } from './authorization.js';

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function metricsAllowed(
  request: Request,
  address: string | undefined,
  metricsToken: string | undefined,
): boolean {
  if (metricsToken) {
    const given = bearerCredentials(request) ?? '';
    const digest = (v: string) => createHash('sha256').update(v).digest();
    return timingSafeEqual(digest(given), digest(metricsToken));
  }
  return !!address && LOOPBACK.test(address);
}
