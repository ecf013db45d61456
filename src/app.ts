// createApp(deps) → a Yoga instance (fetch API; never listens). server.ts puts it on HTTP; tests call yoga.fetch.
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type Plugin } from 'graphql-yoga';
import type { CheckpointSigner } from './audit/checkpoint.js';
import type { KeyEncryptionKey } from './auth/encryption.js';
import type { KeyRing } from './auth/keys.js';
import type { Principal } from './auth/principal.js';
import type { Revocations } from './auth/revocation.js';
import { InvalidTokenError, type TokenSettings } from './auth/tokens.js';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { DomainError } from './errors.js';
import type { Context } from './graphql/builder.js';
import { scalarFieldNames } from './graphql/scalars.js';
import { sqlJsonPlugin } from './graphql/sql-json/plugin.js';
import { schema } from './graphql/schema.js';
import { bearerCredentials } from './http/authorization.js';
import { bodyReader } from './http/body.js';
import { CONSOLE_ASSETS, consoleAsset, consolePage, type ConsoleSettings } from './http/console.js';
import { corsPlugin } from './http/cors.js';
import { CHECKPOINT_KEYS_PATH, checkpointResponse, isCheckpointPath } from './http/checkpoints.js';
import { EXPORT_PATHS, exportCsv } from './http/csv.js';
import { EVIDENCE_PACK_PATH, evidencePack } from './http/evidence-pack.js';
import { databaseFault, databaseGuard, requestDeadlines } from './http/database-guard.js';
import { GRAPHIQL_ASSETS, graphiqlAsset, graphiqlOptions, renderGraphiQL } from './http/graphiql.js';
import { guardHooks, type HookFailure } from './http/hook-guard.js';
import { idempotencyPlugin } from './http/idempotency.js';
import { limitPlugins } from './http/limits.js';
import { metricsAllowed } from './http/metrics-access.js';
import { clientAddress, createRateLimiter, rateLimitPlugin, tokenKey } from './http/rate-limit.js';
import { readRouting } from './http/read-replica.js';
import { errorResponse } from './http/responses.js';
import { createLogger, yogaLogger, type Logger } from './observability/logger.js';
import type { PartitionChecks } from './db/partitions.js';
import { createMetrics } from './observability/metrics.js';
import { observeRequests } from './observability/request-log.js';

type Verifier = (token: string) => Promise<Principal>;

export interface AppDeps {
  config: Config;
  database: Database;
  keys: KeyRing;
  tokenSettings: TokenSettings;
  revocations: Revocations;
  /** Turns a bearer token into a principal or throws InvalidTokenError. */
  verify: Verifier;
  /** False while shutting down: /ready then answers 503 so load balancers stop sending. */
  isAccepting?: () => boolean;
  /** Where request logs go; by default JSON lines on stdout at LOG_LEVEL. */
  logger?: Logger;
  /** The registry's "now" (grants in effect, dates in the future); real time unless a test moves it. */
  clock?: Clock;
  /** Seals the answers stored under an Idempotency-Key (derived from KEY_ENCRYPTION_SECRET). */
  answerKey: KeyEncryptionKey;
  /** Signs the audit log's checkpoints; its public key is served beside the token keys. */
  checkpointSigner: CheckpointSigner;
  /** The instance's partition checks, whose failures /metrics counts. */
  partitionChecks?: Pick<PartitionChecks, 'failures'>;
  /**
   * Answer the reads the SQL planner knows with one statement built in PostgreSQL (src/graphql/sql-json/); on
   * unless false (the tests compare both paths).
   */
  answerFromSql?: boolean;
}

const GRAPHQL_PATH = '/graphql';

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function unauthorized(error?: string, description?: string) {
  const challenge = error
    ? `Bearer realm="transfer-registry", error="${error}", error_description="${description}"`
    : 'Bearer realm="transfer-registry"';
  return json(
    { errors: [{ message: description ?? 'A bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] },
    401,
    {
      'www-authenticate': challenge,
    },
  );
}

/**
 * What a caller may see of an error: a DomainError's code and message, a database fault as a coded 503, a
 * coded GraphQLError as it is, and anything else as "Unexpected error." — never the original message, also
 * outside production: it can quote SQL or a stored value. Used for GraphQL errors and failed hooks alike.
 */
function shownError(error: unknown, message = 'Unexpected error.'): GraphQLError {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof DomainError)
    return new GraphQLError(original.message, {
      nodes: (error as GraphQLError).nodes,
      path: (error as GraphQLError).path,
      extensions: { code: original.code },
    });
  const fault = databaseFault(original);
  if (fault)
    return new GraphQLError(fault.message, {
      nodes: (error as GraphQLError).nodes,
      path: (error as GraphQLError).path,
      extensions: fault.extensions,
    });
  return maskError(error, message, false) as GraphQLError;
}

export function createApp(deps: AppDeps) {
  const { config, database, keys } = deps;
  const clock = deps.clock ?? systemClock;
  const graphiql = config.env !== 'production';
  const consoleSettings: ConsoleSettings = config.consoleOidc ? { oidc: config.consoleOidc } : {};
  const principals = new WeakMap<Request, Principal>();
  const tokenHashes = new WeakMap<Request, string>();
  const logger = deps.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics(database, {
    defaultMetrics: config.env === 'production',
    partitionCheckFailures: deps.partitionChecks?.failures,
  });
  const limiter = createRateLimiter(config.rateLimit);
  const body = bodyReader(config.limits.maxBodyBytes);
  const reads = readRouting(database, config.db.readYourWritesMs, (r) => tokenHashes.get(r));
  const deadlines = requestDeadlines(config.requestTimeoutMs, () => metrics.refusals.inc({ reason: 'deadline' }));
  const observed = observeRequests({
    logger,
    metrics,
    graphqlPath: GRAPHQL_PATH,
    address: (r, sc) => clientAddress(r, sc, config.rateLimit.trustProxy),
  });
  const verify: Verifier = async (token) => {
    try {
      const principal = await deps.verify(token);
      metrics.tokenVerifications.inc({ result: 'accepted' });
      return principal;
    } catch (e) {
      metrics.tokenVerifications.inc({ result: 'refused' });
      throw e;
    }
  };

  // Routes outside GraphQL, and the bearer-token gate in front of it: a request without a valid
  // token is refused with 401 before any GraphQL work is done. `/health` never gets here: Yoga's own
  // health check answers it (200, empty body) before any plugin of ours runs.
  const gate: Plugin = {
    async onRequest({ request, url, endResponse }) {
      // The web console (src/http/console.ts): a public page and its code; what it shows needs a token.
      if (request.method === 'GET' && url.pathname === '/') return endResponse(consolePage(consoleSettings));
      if (request.method === 'GET' && url.pathname.startsWith(CONSOLE_ASSETS))
        return endResponse(consoleAsset(request, url.pathname));
      // GraphiQL's own code (outside production), public like the page that loads it.
      if (graphiql && request.method === 'GET' && url.pathname.startsWith(GRAPHIQL_ASSETS))
        return endResponse(await graphiqlAsset(request, url.pathname));
      switch (url.pathname) {
        case '/ready': {
          const ready = (deps.isAccepting?.() ?? true) && (await database.ping());
          return endResponse(json({ ready }, ready ? 200 : 503));
        }
        case '/.well-known/jwks.json':
          return endResponse(json(keys.jwks(), 200, { 'cache-control': 'public, max-age=60' }));
        case CHECKPOINT_KEYS_PATH:
          return endResponse(json(deps.checkpointSigner.jwks(), 200, { 'cache-control': 'public, max-age=60' }));
        case '/metrics':
          if (!metricsAllowed(request, observed.info(request)?.address, config.metricsToken))
            return endResponse(json({ error: 'forbidden' }, 403));
          return endResponse(
            new Response(await metrics.registry.metrics(), {
              headers: { 'content-type': metrics.registry.contentType },
            }),
          );
        case EXPORT_PATHS.transfers:
        case EXPORT_PATHS.transparencyReport:
        case EXPORT_PATHS.recordsOfProcessing:
        case EXPORT_PATHS.transferFlows:
        case EXPORT_PATHS.monthlyVolume:
        case EXPORT_PATHS.topContractors:
        case EXPORT_PATHS.auditLog:
        case EVIDENCE_PACK_PATH:
        case GRAPHQL_PATH:
          break;
        default:
          if (!isCheckpointPath(url.pathname)) return endResponse(json({ error: 'not found' }, 404));
      }
      if (graphiql && request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) return;
      const info = observed.info(request);
      const limited = limiter.admit(info?.address ?? 'unknown');
      if (limited) {
        metrics.rateLimited.inc({ scope: 'address' });
        return endResponse(errorResponse(limited));
      }
      // Signed checkpoints are public (like the keys that sign them), but read the database: rate-limited.
      if (isCheckpointPath(url.pathname))
        return endResponse(await checkpointResponse(request, url.pathname, database.db));
      const token = bearerCredentials(request);
      if (!token) return endResponse(unauthorized());
      try {
        const principal = await verify(token);
        principals.set(request, principal);
        tokenHashes.set(request, tokenKey(token));
        if (info) {
          info.actor = principal.subject;
          info.actorKind = principal.kind;
        }
      } catch (e) {
        if (e instanceof InvalidTokenError) return endResponse(unauthorized('invalid_token', e.message));
        throw e;
      }
      // Exports: same token check as /graphql above, then served here.
      if (url.pathname === EVIDENCE_PACK_PATH)
        return endResponse(
          await evidencePack(request, url, principals.get(request)!, {
            db: database.db,
            clock,
            keys,
            checkpointSigner: deps.checkpointSigner,
          }),
        );
      if (url.pathname !== GRAPHQL_PATH)
        return endResponse(
          await exportCsv(request, url, principals.get(request)!, {
            db: reads.readerFor(tokenHashes.get(request)),
            clock,
          }),
        );
    },
  };

  // An error thrown in one of our HTTP hooks is answered, logged and counted like any other (src/http/hook-guard.ts).
  const failure: HookFailure = {
    answer(request, error) {
      const shown = shownError(error);
      observed.hookError(request, error, shown);
      return errorResponse(shown);
    },
    record(request, error) {
      observed.hookError(request, error, shownError(error));
    },
  };

  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    // Served from this service's own assets, never a CDN (src/http/graphiql.ts).
    graphiql: graphiql && graphiqlOptions,
    renderGraphiQL,
    landingPage: false,
    // One operation per request: a batch would multiply the work a single request can ask for.
    batching: false,
    logging: yogaLogger(logger),
    // Ours (src/http/cors.ts): Yoga's answers any origin, with credentials.
    cors: false,
    // The body is read by ours, with MAX_BODY_BYTES, for the Idempotency-Key hook and GraphQL alike.
    maxRequestBodySize: false,
    plugins: [
      observed.plugin,
      corsPlugin(config.corsOrigins),
      gate,
      body.plugin,
      idempotencyPlugin({
        db: database.db,
        body: body.text,
        tokenHashOf: (r) => tokenHashes.get(r),
        deadlines,
        answerKey: deps.answerKey,
      }),
      ...limitPlugins(config),
      scalarFieldNames,
      rateLimitPlugin(
        limiter,
        (r) => ({ tokenHash: tokenHashes.get(r), address: observed.info(r)?.address ?? 'unknown' }),
        (scope) => metrics.rateLimited.inc({ scope }),
      ),
      reads.plugin,
      // Before the guard: the guard's deadline wraps the execute function this one sets.
      ...(deps.answerFromSql === false
        ? []
        : [sqlJsonPlugin({ onExecuted: (path) => metrics.executions.inc({ path }) })]),
      databaseGuard({
        pool: database.pool,
        queueLimit: config.db.poolQueueLimit,
        deadlines,
        onRefused: (reason) => metrics.refusals.inc({ reason }),
      }),
      observed.finish,
    ].map((plugin) => guardHooks(plugin as Plugin, failure)),
    context: ({ request }) => ({
      db: database.db,
      clock,
      principal: principals.get(request)!,
      config,
      keys,
      tokenSettings: deps.tokenSettings,
      revocations: deps.revocations,
    }),
    maskedErrors: { maskError: shownError },
  });
}
