// The one reader of request bodies, with the size limit (MAX_BODY_BYTES) for every path that reads one: the
// Idempotency-Key hook (which needs the body before GraphQL runs) and GraphQL's own request parsing. A declared
// Content-Length above the limit is refused before reading; otherwise bytes are counted as they arrive and
// reading stops with 413 as soon as the limit is passed, so no more than the limit is ever buffered. The text
// is read once per request and shared.
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const BODY_TOO_LARGE = 'REQUEST_ENTITY_TOO_LARGE';

function tooLarge(limit: number) {
  return new GraphQLError(`Request body larger than ${limit} bytes (MAX_BODY_BYTES)`, {
    extensions: { code: BODY_TOO_LARGE, http: { status: 413 } },
  });
}

async function readLimited(request: Request, limit: number): Promise<Buffer> {
  const declared = request.headers.get('content-length');
  if (declared !== null) {
    if (!/^\d+$/.test(declared))
      throw new GraphQLError('Content-Length header is invalid', {
        extensions: { code: 'BAD_REQUEST', http: { status: 400 } },
      });
    if (Number(declared) > limit) throw tooLarge(limit);
  }
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Stop pulling: the rest of the body is never read.
      reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

export interface BodyReader {
  /** The request's body as text, read once with the limit; rejects with a coded 413 (or 400) GraphQLError. */
  text(request: Request): Promise<string>;
  /** Makes GraphQL's request parsers read the bytes already read (or read them now, with the limit), never the stream. */
  plugin: Plugin;
}

export function bodyReader(limit: number): BodyReader {
  const bodies = new WeakMap<Request, Promise<Buffer>>();
  const bytes = (request: Request) => {
    let b = bodies.get(request);
    if (!b) {
      b = readLimited(request, limit);
      bodies.set(request, b);
    }
    return b;
  };
  return {
    text: async (request) => (await bytes(request)).toString('utf8'),
    plugin: {
      onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
        if (!requestParser || !request.body) return;
        const parse = requestParser;
        setRequestParser(async () =>
          parse(
            new fetchAPI.Request(request.url, {
              method: request.method,
              headers: request.headers,
              body: (await bytes(request)) as Uint8Array<ArrayBuffer>,
            }),
          ),
        );
      },
    },
  };
}
