// GraphiQL, served by this service alone (outside production): the page, its script, style, editor workers
// and icon come from the @graphql-yoga/render-graphiql package, never from a CDN, so it works offline, behind
// a proxy and in closed networks. The page comes with the Authorization header to fill in.
import { createHash } from 'node:crypto';
import type { GraphiQLOptions } from 'graphql-yoga';

/** Where the assets are served; the page refers to nothing else. */
export const GRAPHIQL_ASSETS = '/graphiql/';

/** The Monaco editor's worker labels GraphiQL asks for, and the package export holding each. */
const WORKERS = { editorWorkerService: 'editorWorkerService', json: 'jsonWorker', graphql: 'graphqlWorker' } as const;

type Bundle = typeof import('@graphql-yoga/render-graphiql/graphiql');
interface Asset {
  body: string | Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}

let assets: Promise<Map<string, Asset>> | undefined;
/** About 9 MB of code as strings: loaded on the first GraphiQL request, never in production. */
function loadAssets(): Promise<Map<string, Asset>> {
  assets ??= import('@graphql-yoga/render-graphiql/graphiql').then((bundle: Bundle) => {
    const entries: [string, string | Uint8Array<ArrayBuffer>, string][] = [
      ['graphiql.js', bundle.js, 'text/javascript; charset=utf-8'],
      ['graphiql.css', bundle.css, 'text/css; charset=utf-8'],
      [
        'favicon.ico',
        new Uint8Array(Buffer.from(bundle.favicon.replace(/^data:[^,]*;base64,/, ''), 'base64')),
        'image/x-icon',
      ],
      ...Object.entries(WORKERS).map(([label, key]): [string, string, string] => [
        `${label}.worker.js`,
        bundle[key],
        'text/javascript; charset=utf-8',
      ]),
    ];
    return new Map(
      entries.map(([name, body, type]) => [
        name,
        { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"` },
      ]),
    );
  });
  return assets;
}

/** A GraphiQL asset under GRAPHIQL_ASSETS, revalidated by ETag on every page load; 404 for any other name. */
export async function graphiqlAsset(request: Request, pathname: string): Promise<Response> {
  const asset = (await loadAssets()).get(pathname.slice(GRAPHIQL_ASSETS.length));
  if (!asset) return new Response('not found', { status: 404 });
  const headers = { etag: asset.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
  if (request.headers.get('if-none-match') === asset.etag) return new Response(null, { status: 304, headers });
  return new Response(asset.body, { headers: { ...headers, 'content-type': asset.type } });
}

const tokenCommand = 'npm run --silent token -- --role compliance --subject you@example.com';

/** What the page opens with: how to get a token, and where it goes. */
export const graphiqlOptions: GraphiQLOptions = {
  title: 'transfer-registry GraphiQL',
  // Header values must be plain ASCII (fetch refuses others). Not persisted: a pasted token stays out of localStorage.
  headers: JSON.stringify({ Authorization: 'Bearer <paste a token here>' }, null, 2),
  defaultQuery: `# Every request needs a bearer token. Mint a staff
# token where the service runs:
#
#   ${tokenCommand}
#
# and paste it under "Headers" below, in place of
# <paste a token here>. Then press the re-fetch button
# on the left (Shift-Ctrl-R): Docs and autocomplete load.
{
  viewer { kind subject }
}
`,
};

/** JSON that is safe inside an inline <script>: no "</script>" can end it early. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');
const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** Yoga's renderer hook: the page, referring only to this service's own assets. */
export function renderGraphiQL(opts: GraphiQLOptions): string {
  const a = GRAPHIQL_ASSETS;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(opts.title ?? 'GraphiQL')}</title>
    <link rel="icon" href="${a}favicon.ico" />
    <link rel="stylesheet" href="${a}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script>
      const workers = ${scriptJson(Object.fromEntries(Object.keys(WORKERS).map((label) => [label, `${a}${label}.worker.js`])))};
      self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => workers[label] ?? workers.editorWorkerService };
    </script>
    <script src="${a}graphiql.js"></script>
    <script>YogaGraphiQL.renderYogaGraphiQL(document.querySelector('#root'), ${scriptJson(opts)});</script>
  </body>
</html>
`;
}
