// Cross-origin calls from a browser: only from the sites listed in CORS_ORIGINS, none by default (Yoga's own
// CORS answered any origin, with credentials). Tokens travel in the Authorization header, never in cookies,
// so no answer allows credentials. With a list set, every answer varies by Origin, so a shared cache never
// hands one site's answer to another.
import type { Plugin } from 'graphql-yoga';

const ALLOWED_HEADERS = 'authorization, content-type, idempotency-key, x-request-id, x-graphql-yoga-csrf';
const EXPOSED_HEADERS = 'x-request-id, retry-after, idempotent-replayed, www-authenticate';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export function corsPlugin(origins: readonly string[]): Plugin {
  const allowed = (request: Request) => {
    const origin = request.headers.get('origin');
    return origin !== null && origins.includes(origin) ? origin : undefined;
  };
  return {
    onRequest({ request, endResponse }) {
      if (request.method !== 'OPTIONS') return;
      // A preflight: allowed, it says what may follow; otherwise a bare 204, and the browser stops there.
      const origin = allowed(request);
      endResponse(
        new Response(null, {
          status: 204,
          headers: origin
            ? {
                'access-control-allow-origin': origin,
                'access-control-allow-methods': 'GET, POST',
                'access-control-allow-headers': ALLOWED_HEADERS,
                'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
              }
            : {},
        }),
      );
    },
    onResponse({ request, response }) {
      if (!origins.length) return;
      response.headers.append('vary', 'Origin');
      const origin = allowed(request);
      if (!origin) return;
      response.headers.set('access-control-allow-origin', origin);
      response.headers.set('access-control-expose-headers', EXPOSED_HEADERS);
    },
  };
}
