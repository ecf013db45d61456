// The node:http side of a request. A streamed answer (a CSV export, the evidence pack) whose body fails after its
// status and headers went out cannot change its status any more: the fetch adapter logs the error and leaves the
// response open, so the client waits for the rest until its own timeout. Cutting the connection instead makes the
// download fail at once, and visibly (no terminating chunk), rather than hang or look complete.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isBodyFailure } from './responses.js';

export function nodeListener(handle: (req: IncomingMessage, res: ServerResponse) => unknown) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      await handle(req, res);
    } finally {
      if (!res.writableEnded) res.destroy();
    }
  };
}

/**
 * A streamed answer that failed after its headers went out reaches the process as a rejection the fetch adapter
 * leaves unhandled: log it and carry on. Any other unhandled rejection is thrown again, which makes it an uncaught
 * exception, as without this handler.
 */
export function survivePartialAnswers() {
  process.on('unhandledRejection', (reason) => {
    if (!isBodyFailure(reason)) throw reason;
    console.error(
      JSON.stringify({
        msg: 'a streamed answer failed after its headers were sent; its connection was cut',
        errorType: (reason as object).constructor?.name,
        error: String((reason as Error).message).slice(0, 500),
      }),
    );
  });
}
