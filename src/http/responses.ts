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
