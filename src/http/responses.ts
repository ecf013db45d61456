// Answers given outside GraphQL execution (the gate, the Idempotency-Key hook, CSV exports, a hook that failed)
// in the shape of GraphQL errors, `{ errors: [{ message, extensions: { code, … } }] }`, with the HTTP status
// and headers the error carries in `extensions.http` (500 when it carries none).
import { GraphQLError } from 'graphql';

type HttpExtension = { status?: number; headers?: Record<string, string> };

export function errorResponse(error: GraphQLError): Response {
  // `http` is for this function; `unexpected` is Yoga's internal mark of a masked error: neither is shown.
  const {
    http,
    unexpected: _internal,
    ...extensions
  } = (error.extensions ?? {}) as { http?: HttpExtension; unexpected?: unknown };
  return new Response(JSON.stringify({ errors: [{ message: error.message, extensions }] }), {
    status: http?.status ?? 500,
    headers: { 'content-type': 'application/json', ...http?.headers },
  });
}

export function problem(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
  extensions: Record<string, unknown> = {},
): Response {
  return errorResponse(new GraphQLError(message, { extensions: { code, ...extensions, http: { status, headers } } }));
}

const failedBodies = new WeakSet<object>();

/**
 * A streamed answer's body (CSV exports, the evidence pack) read from `chunks`. When a chunk fails after the status
 * went out, the stream errors: the connection is cut (node-listener.ts) and the fetch adapter leaves the error as an
 * unhandled rejection, which server.ts recognises by `isBodyFailure` and logs instead of ending the process.
 */
export function streamedBody(chunks: AsyncGenerator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done } = await chunks.next();
        if (done) controller.close();
        else controller.enqueue(value);
      } catch (e) {
        const error = e instanceof Error ? e : new Error(String(e));
        failedBodies.add(error);
        controller.error(error);
      }
    },
    async cancel() {
      await chunks.return(undefined);
    },
  });
}

/** Whether `e` is the failure of a streamed answer's body (see streamedBody). */
export function isBodyFailure(e: unknown): boolean {
  return typeof e === 'object' && e !== null && failedBodies.has(e);
}
