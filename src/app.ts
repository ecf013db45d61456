// createApp(deps) → a Yoga instance (fetch API; never listens). server.ts puts it on HTTP; tests call yoga.fetch.
import { GraphQLError } from 'graphql';
import { createYoga, maskError, type Plugin } from 'graphql-yoga';
import type { KeyRing } from './auth/keys.js';
import type { Principal } from './auth/principal.js';
import type { Revocations } from './auth/revocation.js';
import { InvalidTokenError, type TokenSettings } from './auth/tokens.js';
import type { Config } from './config.js';
import type { Database } from './db/client.js';
import { DomainError } from './errors.js';
import type { Context } from './graphql/builder.js';
import { schema } from './graphql/schema.js';
import { EXPORT_PATHS, exportCsv } from './http/csv.js';

export type Verifier = (token: string) => Promise<Principal>;

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
}

const GRAPHQL_PATH = '/graphql';

function json(body: unknown, status = 200, headers: Record<string, string> = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
}

function unauthorized(error?: string, description?: string) {
  const challenge = error ? `Bearer realm="transfer-registry", error="${error}", error_description="${description}"` : 'Bearer realm="transfer-registry"';
  return json({ errors: [{ message: description ?? 'A bearer token is required', extensions: { code: 'UNAUTHENTICATED' } }] }, 401, {
    'www-authenticate': challenge,
  });
}

export function createApp(deps: AppDeps) {
  const { config, database, keys, verify } = deps;
  const graphiql = config.env !== 'production';
  const principals = new WeakMap<Request, Principal>();

  // Routes outside GraphQL, and the bearer-token gate in front of it: a request without a valid
  // token is refused with 401 before any GraphQL work is done.
  const gate: Plugin = {
    async onRequest({ request, url, endResponse }) {
      switch (url.pathname) {
        case '/health':
          return endResponse(json({ status: 'ok' }));
        case '/ready': {
          const ready = (deps.isAccepting?.() ?? true) && (await database.ping());
          return endResponse(json({ ready }, ready ? 200 : 503));
        }
        case '/.well-known/jwks.json':
          return endResponse(json(keys.jwks(), 200, { 'cache-control': 'public, max-age=60' }));
        case EXPORT_PATHS.transfers: case EXPORT_PATHS.transparencyReport: case EXPORT_PATHS.recordsOfProcessing:
        case GRAPHQL_PATH:
          break;
        default:
          return endResponse(json({ error: 'not found' }, 404));
      }
      if (graphiql && request.method === 'GET' && (request.headers.get('accept') ?? '').includes('text/html')) return;
      const header = request.headers.get('authorization');
      const match = header?.match(/^Bearer ([A-Za-z0-9_.~+/=-]+)$/);
      if (!match) return endResponse(unauthorized());
      try {
        principals.set(request, await verify(match[1]!));
      } catch (e) {
        if (e instanceof InvalidTokenError) return endResponse(unauthorized('invalid_token', e.message));
        throw e;
      }
      // CSV exports: same token check as /graphql above, then served here.
      if (url.pathname !== GRAPHQL_PATH) return endResponse(await exportCsv(request, url, principals.get(request)!, database.db));
    },
  };

  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    graphiql,
    landingPage: false,
    plugins: [gate],
    context: ({ request }) => ({ db: database.db, principal: principals.get(request)!, config, keys, tokenSettings: deps.tokenSettings, revocations: deps.revocations }),
    maskedErrors: {
      maskError(error, message, isDev) {
        const original = error instanceof GraphQLError ? error.originalError : error;
        if (original instanceof DomainError) return new GraphQLError(original.message, { extensions: { code: original.code } });
        return maskError(error, message, isDev);
      },
    },
  });
}

export type App = ReturnType<typeof createApp>;
