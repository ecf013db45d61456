// The second peer: PostGraphile 5 (installed in bench/peers, apart from the registry's packages) serving the same database (schema public), read-only,
// with the V4 preset so that its API has PostGraphile 4's names and the benchmark sends both peers the same
// document. Started by bench/run.ts as `node --import tsx bench/peers/postgraphile5-server.ts` with DATABASE_URL and PORT.
import { createServer } from 'node:http';

// PostGraphile 5 declares Node 22 and uses Promise.withResolvers (Node 22); on Node 20 its connection fields fail at
// run time without it. Installed before PostGraphile is imported.
const withResolvers = <T>() => {
  let resolve!: (value: T | PromiseLike<T>) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};
(Promise as unknown as { withResolvers?: unknown }).withResolvers ??= withResolvers;

// Resolved from this folder's own node_modules (PostGraphile 5), not the registry's (PostGraphile 4, the other peer).
// Untyped on purpose: the registry's type check must not depend on a package npm install does not bring.
const peer = (path: string): Promise<any> => import(`postgraphile${path}`);
const { postgraphile } = await peer('');
const { PostGraphileAmberPreset } = await peer('/presets/amber');
const { makeV4Preset } = await peer('/presets/v4');
const { makePgService } = await peer('/adaptors/pg');
const { grafserv } = await peer('/grafserv/node');

const url = process.env.DATABASE_URL;
if (!url) throw new Error('DATABASE_URL is required');
const pgl = postgraphile({
  extends: [PostGraphileAmberPreset, makeV4Preset({ disableDefaultMutations: true, ignoreRBAC: false })],
  pgServices: [makePgService({ connectionString: url, schemas: ['public'] })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
});
const serv = pgl.createServ(grafserv);
const server = createServer();
serv.addTo(server).catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT), process.env.HOST ?? '127.0.0.1');
const stop = () => server.close(() => void Promise.resolve(pgl.release()).then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
