// Prometheus metrics, one Registry per app instance (tests run several apps in one process).
// Pool figures are counted by this process around postgres.js (which exposes no pool statistics):
// statements and transactions started and not yet finished, and of those the ones beyond the pool size.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Database } from '../db/client.js';

const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
const MAX_OPERATION_LABELS = 200;

export interface Metrics {
  registry: Registry;
  /** A bounded label for a client-chosen operation name. */
  operationLabel(name: string | null | undefined): string;
  requests: Counter<'operation' | 'outcome'>;
  duration: Histogram<'operation'>;
  http: Counter<'route' | 'status'>;
  tokenVerifications: Counter<'result'>;
  rateLimited: Counter<'scope'>;
  refusals: Counter<'reason'>;
  executions: Counter<'path'>;
}

export function createMetrics(
  database: Database,
  opts: { defaultMetrics?: boolean; partitionCheckFailures?: () => number } = {},
): Metrics {
  const registry = new Registry();
  if (opts.defaultMetrics) collectDefaultMetrics({ register: registry });
  const seen = new Set<string>();
  const operationLabel = (name: string | null | undefined) => {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_LABELS) return 'other';
    seen.add(name);
    return name;
  };
  const queries = new Counter({
    name: 'registry_db_statements_total',
    help: 'SQL statements sent (counted as drizzle logs them)',
    registers: [registry],
  });
  database.onQuery.add(() => queries.inc());
  const partitionCheckFailures = opts.partitionCheckFailures;
  if (partitionCheckFailures)
    new Counter({
      name: 'registry_partition_check_failures_total',
      help: "Failed checks of the coming months' partitions since the instance started (rows then land in the default partition)",
      registers: [registry],
      collect() {
        this.reset();
        this.inc(partitionCheckFailures());
      },
    });
  new Gauge({
    name: 'registry_db_pool_in_use',
    help: 'Statements and transactions in flight through drizzle, counted by this process (postgres.js has no pool statistics); PGlite: always 0',
    registers: [registry],
    collect() {
      this.set(database.pool.inFlight());
    },
  });
  new Gauge({
    name: 'registry_db_pool_waiting',
    help: 'In-flight statements beyond the pool size, i.e. waiting for a connection (counted by this process)',
    registers: [registry],
    collect() {
      this.set(database.pool.waiting());
    },
  });
  new Gauge({
    name: 'registry_db_pool_max',
    help: 'Configured pool size (DB_POOL_MAX; PGlite: 1)',
    registers: [registry],
    collect() {
      this.set(database.pool.max);
    },
  });
  return {
    registry,
    operationLabel,
    requests: new Counter({
      name: 'registry_graphql_requests_total',
      help: 'GraphQL operations by operation name and outcome (ok, error, refused)',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'registry_graphql_request_duration_seconds',
      help: 'GraphQL request latency by operation name',
      labelNames: ['operation'],
      registers: [registry],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    }),
    http: new Counter({
      name: 'registry_http_responses_total',
      help: 'HTTP responses by route and status',
      labelNames: ['route', 'status'],
      registers: [registry],
    }),
    tokenVerifications: new Counter({
      name: 'registry_token_verifications_total',
      help: 'Bearer tokens checked, by result (accepted, refused)',
      labelNames: ['result'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'registry_rate_limited_total',
      help: 'Requests refused with 429, by bucket (token, address)',
      labelNames: ['scope'],
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'registry_refusals_total',
      help: 'Requests refused before execution, by reason',
      labelNames: ['reason'],
      registers: [registry],
    }),
    executions: new Counter({
      name: 'registry_graphql_executions_total',
      help: 'Executed operations by path: sql (answered by one planned statement) or resolvers',
      labelNames: ['path'],
      registers: [registry],
    }),
  };
}
