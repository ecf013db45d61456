// The benchmarks' tokens: a COMPLIANCE staff token, and the benchmark contractor's token issued through GraphQL as
// a client would (the scopes, categories and purpose its grants cover).
import type { createApp } from '../src/app.js';
import { issueStaffToken } from '../src/auth/tokens.js';
import type { Services } from '../src/services.js';
import { BENCH_CATEGORIES, BENCH_CONTRACTOR, BENCH_PURPOSE } from './dataset.js';
import { body, ISSUE_TOKEN } from './queries.js';

export async function benchTokens(
  app: ReturnType<typeof createApp>,
  services: Services,
): Promise<{ staff: string; contractor: string }> {
  const staff = (await issueStaffToken(services.keys, services.tokenSettings, 'COMPLIANCE', 'bench@example.com', 3600))
    .token;
  const res = await app.fetch('http://bench.local/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${staff}` },
    body: body(ISSUE_TOKEN, {
      input: {
        contractorId: Buffer.from(`Contractor:${BENCH_CONTRACTOR}`).toString('base64'),
        scopes: ['REGISTRY_READ', 'RECORDS_READ'],
        categories: BENCH_CATEGORIES,
        purposes: [BENCH_PURPOSE],
        lifetimeSeconds: 3600,
      },
    }),
  });
  const issued = (await res.json()) as { data?: { issueAccessToken?: { token?: string } } };
  const contractor = issued.data?.issueAccessToken?.token;
  if (!contractor) throw new Error(`issueAccessToken failed: ${JSON.stringify(issued).slice(0, 400)}`);
  return { staff, contractor };
}
