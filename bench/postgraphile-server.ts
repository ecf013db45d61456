// The peer: PostGraphile 4 serving the same database (schema public) with its generated API, read-only.
// Started by bench/run.ts as `node --import tsx bench/postgraphile-server.ts` with DATABASE_URL and PORT.
import { createServer } from 'node:http';
import Module, { createRequire } from 'node:module';
import { dirname } from 'node:path';

// PostGraphile 4 is built on graphql 15 (its own nested copy), but npm hoists one of its dependencies
// (graphql-parse-resolve-info) next to the project's graphql 16, and two graphql copies in one schema fail
// at run time ("Unexpected input type"). This process serves only PostGraphile: every `graphql` import in it
// resolves to PostGraphile's copy.
const fromPostgraphile = createRequire(createRequire(import.meta.url).resolve('postgraphile'));
const graphql15 = dirname(fromPostgraphile.resolve('graphql/package.json'));
const loader = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
const resolveFilename = loader._resolveFilename;
loader._resolveFilename = function (request, ...rest) {
  const redirected =
    request === 'graphql' ? graphql15 : request.startsWith('graphql/') ? `${graphql15}/${request.slice(8)}` : request;
  return resolveFilename.call(this, redirected, ...rest);
};
const { postgraphile } = await import('postgraphile');

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const handler = postgraphile(url, 'public', {
  disableDefaultMutations: true,
  graphiql: false,
  disableQueryLog: true,
  retryOnInitFail: false,
  watchPg: false,
  enableQueryBatching: false,
  ignoreRBAC: false,
});
const server = createServer(handler);
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
