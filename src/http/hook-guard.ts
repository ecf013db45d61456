// The server adapter answers an error thrown in an onRequest or onResponse hook on its own: HTTP 500 text/plain
// with the stack (SQL and source paths included), skipping every later hook, so the answer has no request id
// and leaves no request-log line. Every such hook of ours runs inside this guard instead. An error in onRequest
// becomes the answer, masked and coded like any other error; in onResponse the answer already decided stands
// (say, a committed write whose Idempotency-Key answer could not be stored) and the error is recorded.
import type { Plugin } from 'graphql-yoga';

export interface HookFailure {
  /** The answer to a request whose onRequest hook threw. */
  answer(request: Request, error: unknown): Response;
  /** Notes an error thrown after the answer was decided, for the request's log line and metrics. */
  record(request: Request, error: unknown): void;
}

export function guardHooks<P extends Plugin<any>>(plugin: P, failure: HookFailure): P {
  const { onRequest, onResponse } = plugin;
  if (!onRequest && !onResponse) return plugin;
  return {
    ...plugin,
    ...(onRequest && {
      async onRequest(payload: Parameters<NonNullable<Plugin['onRequest']>>[0]) {
        try {
          await onRequest.call(plugin, payload);
        } catch (e) {
          payload.endResponse(failure.answer(payload.request, e));
        }
      },
    }),
    ...(onResponse && {
      async onResponse(payload: Parameters<NonNullable<Plugin['onResponse']>>[0]) {
        try {
          await onResponse.call(plugin, payload);
        } catch (e) {
          failure.record(payload.request, e);
        }
      },
    }),
  };
}
