// The second peer: PostGraphile 5 (npm alias postgraphile5) serving the same database (schema public), read-only,
// with the V4 preset so that its API has PostGraphile 4's names and the benchmark sends both peers the same
// document. Started by bench/run.ts as `node --import tsx bench/postgraphile5-server.ts` with DATABASE_URL and PORT.
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

const { postgraphile } = await import('postgraphile5');
const { PostGraphileAmberPreset } = await import('postgraphile5/presets/amber');
const { makeV4Preset } = await import('postgraphile5/presets/v4');
const { makePgService } = await import('postgraphile5/adaptors/pg');
const { grafserv } = await import('postgraphile5/grafserv/node');

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
