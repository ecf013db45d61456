// Per-request observation: request id (accepted from X-Request-Id or generated, echoed back), one JSON
// log line when the response leaves (route, operation name, actor, status, duration, error codes), and
// the per-operation request counter and latency histogram. Two plugins: `plugin` goes first, so every later
// hook finds the request's record; `finish` goes last, so the log line comes after every other onResponse
// hook (storing an Idempotency-Key answer) and includes what failed there.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { domainErrorOf } from '../errors.js';
import { operationOf } from '../graphql/operation.js';
import { errorSummary, requestIdOf, type Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface RequestInfo {
  id: string;
  start: number;
  route: string;
  address: string;
  operation?: string;
  operationType?: string;
  actor?: string;
  actorKind?: string;
  codes: Set<string>;
  unexpected: ReturnType<typeof errorSummary>[];
}

const QUIET_ROUTES = new Set(['/health', '/ready', '/metrics']);

export function observeRequests(opts: {
  logger: Logger;
  metrics: Metrics;
  graphqlPath: string;
  address: (request: Request, serverContext: unknown) => string;
}) {
  const { logger, metrics } = opts;
  const infos = new WeakMap<Request, RequestInfo>();
  const info = (request: Request) => infos.get(request);

  const plugin: Plugin = {
    onRequest({ request, url, serverContext }) {
      infos.set(request, {
        id: requestIdOf(request),
        start: performance.now(),
        route: url.pathname,
        address: opts.address(request, serverContext),
        codes: new Set(),
        unexpected: [],
      });
    },
    onExecute({ args }) {
      const i = info((args.contextValue as { request: Request }).request);
      if (!i) return;
      i.operation = metrics.operationLabel(args.operationName ?? operationOf(args.document).operation?.name?.value);
      return {
        onExecuteDone({ result }) {
          // Before masking: the only place the cause of an unexpected error can be seen. An expected failure thrown
          // by a resolver (a DomainError, coded when masked) is not one.
          for (const e of (result as { errors?: readonly GraphQLError[] }).errors ?? []) {
            if (
              e.originalError &&
              !(e.originalError instanceof GraphQLError) &&
              typeof e.extensions?.code !== 'string' &&
              !domainErrorOf(e)
            ) {
              i.unexpected.push(errorSummary(e.originalError));
            }
          }
        },
      };
    },
    onResultProcess({ request, result }) {
      const i = info(request);
      if (!i || Array.isArray(result)) return;
      for (const e of (result as { errors?: readonly GraphQLError[] }).errors ?? []) {
        const code = e.extensions?.code;
        if (typeof code === 'string') i.codes.add(code);
      }
    },
  };
  /** Records an error raised outside execution (in one of our HTTP hooks), as `shown` to the caller. */
  const hookError = (request: Request, error: unknown, shown: GraphQLError) => {
    const i = info(request);
    if (!i) return;
    const code = shown.extensions?.code;
    if (typeof code === 'string') i.codes.add(code);
    // A coded refusal (a deadline, a body too large) is an answer; anything else is logged as unexpected.
    if (!(error instanceof GraphQLError)) i.unexpected.push(errorSummary(error));
  };
  const finish: Plugin = {
    onResponse({ request, response }) {
      const i = info(request);
      if (!i) return;
      response.headers.set('x-request-id', i.id);
      const seconds = (performance.now() - i.start) / 1000;
      const route =
        i.route === opts.graphqlPath
          ? 'graphql'
          : QUIET_ROUTES.has(i.route) || i.route === '/.well-known/jwks.json'
            ? i.route
            : 'other';
      metrics.http.inc({ route, status: String(response.status) });
      if (route === 'graphql') {
        const operation = i.operation ?? 'none';
        const failed = i.codes.size || i.unexpected.length || response.status >= 400;
        const outcome = !failed ? 'ok' : i.operation || i.unexpected.length ? 'error' : 'refused';
        metrics.requests.inc({ operation, outcome });
        metrics.duration.observe({ operation }, seconds);
      }
      const line = {
        reqId: i.id,
        method: request.method,
        route: i.route,
        status: response.status,
        durationMs: Math.round(seconds * 10_000) / 10,
        ...(i.operation ? { operation: i.operation } : {}),
        ...(i.actor ? { actor: i.actor, actorKind: i.actorKind } : {}),
        ...(i.codes.size ? { errorCodes: [...i.codes] } : {}),
        ...(i.unexpected.length ? { unexpected: i.unexpected } : {}),
      };
      // Probes stay quiet whatever they answer: a 503 from /ready during shutdown or an outage is the answer.
      const level = i.unexpected.length
        ? 'error'
        : QUIET_ROUTES.has(i.route)
          ? 'debug'
          : response.status >= 500
            ? 'error'
            : 'info';
      logger[level](line, 'request');
    },
  };
  return { plugin, finish, hookError, info };
}
