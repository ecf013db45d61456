// The web console at `/`: a page, its ES modules and style from the repository's console/ folder, and Preact and
// htm straight from node_modules (no build step: `npm install && npm start` is all the set-up). Public like any
// page; everything it shows comes from /graphql and the CSV exports with the bearer token the user gives it.
// Nothing is loaded from elsewhere, and the Content-Security-Policy says so to the browser.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the console's modules, style and the libraries it imports are served. */
export const CONSOLE_ASSETS = '/console/';

const consoleDir = fileURLToPath(new URL('../../console/', import.meta.url));
const require = createRequire(import.meta.url);
// A package's folder, from its main file (dist/…): neither package exports its package.json.
const packageDir = (name: string) => join(dirname(require.resolve(name)), '..');

/** The libraries, as ES modules, under the names the import map gives them. */
const VENDOR: Record<string, string> = {
  'preact.js': join(packageDir('preact'), 'dist/preact.module.js'),
  'preact-hooks.js': join(packageDir('preact'), 'hooks/dist/hooks.module.js'),
  'htm.js': join(packageDir('htm'), 'dist/htm.module.js'),
};
const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: `${CONSOLE_ASSETS}vendor/preact.js`,
    'preact/hooks': `${CONSOLE_ASSETS}vendor/preact-hooks.js`,
    htm: `${CONSOLE_ASSETS}vendor/htm.js`,
  },
});

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

interface Asset {
  body: Uint8Array<ArrayBuffer>;
  type: string;
  etag: string;
}
const asset = (body: Uint8Array<ArrayBuffer>, type: string): Asset => ({
  body,
  type,
  etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`,
});
const read = (path: string) => new Uint8Array(readFileSync(path));

let assets: Map<string, Asset> | undefined;
/** The console's own files (console/*.js, *.css, *.svg: only these names are served) and the libraries; read once. */
function loadAssets(): Map<string, Asset> {
  if (assets) return assets;
  assets = new Map();
  for (const name of readdirSync(consoleDir)) {
    const type = TYPES[name.slice(name.lastIndexOf('.'))];
    if (type && /^[\w-]+\.\w+$/.test(name)) assets.set(name, asset(read(join(consoleDir, name)), type));
  }
  for (const [name, path] of Object.entries(VENDOR)) assets.set(`vendor/${name}`, asset(read(path), TYPES['.js']!));
  return assets;
}

const securityHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };

/** A console asset under CONSOLE_ASSETS, revalidated by ETag; 404 for any other name. */
export function consoleAsset(request: Request, pathname: string): Response {
  const found = loadAssets().get(pathname.slice(CONSOLE_ASSETS.length));
  if (!found) return new Response('not found', { status: 404 });
  const headers = { etag: found.etag, 'cache-control': 'no-cache', ...securityHeaders };
  if (request.headers.get('if-none-match') === found.etag) return new Response(null, { status: 304, headers });
  return new Response(found.body, { headers: { ...headers, 'content-type': found.type } });
}

/** What the page needs to know of the service: where an OIDC sign-in starts, if one is configured. */
export interface ConsoleSettings {
  oidc?: { issuer: string; clientId: string; scope: string };
}

/**
 * The page: the import map (allowed by its hash, the one inline script), the app module and its style. The
 * policy lets the page talk to this service, and to the identity provider when an OIDC sign-in is configured.
 */
export function consolePage(settings: ConsoleSettings): Response {
  const mapHash = createHash('sha256').update(IMPORT_MAP).digest('base64');
  const settingsJson = JSON.stringify(settings).replace(/</g, '\\u003c').replace(/&/g, '\\u0026');
  const connect = ["'self'", ...(settings.oidc ? [new URL(settings.oidc.issuer).origin] : [])].join(' ');
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Transfer registry</title>
    <link rel="icon" href="${CONSOLE_ASSETS}icon.svg" type="image/svg+xml" />
    <link rel="stylesheet" href="${CONSOLE_ASSETS}style.css" />
    <script type="importmap">${IMPORT_MAP}</script>
    <script type="module" src="${CONSOLE_ASSETS}app.js"></script>
  </head>
  <body>
    <div id="root" data-settings="${settingsJson.replace(/"/g, '&quot;')}">
      <noscript>The console needs JavaScript. The API is at /graphql.</noscript>
    </div>
  </body>
</html>
`;
  return new Response(html, {
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'content-security-policy': [
        "default-src 'none'",
        `script-src 'self' 'sha256-${mapHash}'`,
        "style-src 'self'",
        "img-src 'self' data:",
        `connect-src ${connect}`,
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join('; '),
      ...securityHeaders,
    },
  });
}
