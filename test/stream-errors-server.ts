// A server for test/stream-errors.test.ts: node:http, the fetch adapter the service uses, the service's listener and
// handler, and two streamed answers built like the exports — one whose body fails after two lines (as an export
// whose query fails mid-way), one that completes. Prints its port once listening.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServerAdapter } from '@whatwg-node/server';
import { nodeListener, survivePartialAnswers } from '../src/http/node-listener.js';
import { streamedBody } from '../src/http/responses.js';

const encoder = new TextEncoder();
async function* lines(fail: boolean) {
  yield encoder.encode('line 1\n');
  yield encoder.encode('line 2\n');
  if (fail) throw new Error('the query failed mid-way');
}

survivePartialAnswers();
const adapter = createServerAdapter(
  (request: Request) => new Response(streamedBody(lines(new URL(request.url).pathname === '/fails'))),
);
const server = createServer(nodeListener(adapter));
server.listen(0, '127.0.0.1', () => console.log((server.address() as AddressInfo).port));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
