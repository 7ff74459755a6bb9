import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * The benchmarks' webhook receiver, run as its own process (bench/receiver-process.ts) so
 * it does not compete with the code under test for the event loop. It answers every POST
 * with 200 over keep-alive. In `record` mode it also notes, per request, the receipt time
 * minus the `payload.sentAt` the sender put in the event (end-to-end latency).
 *
 * Messages (IPC): out `{type:'ready', port}`; in `{type:'stats'}` -> out
 * `{type:'stats', requests, latenciesMs}`; in `{type:'reset'}`.
 */
const mode = process.argv[2] === 'record' ? 'record' : 'plain';
let requests = 0;
let latenciesMs: number[] = [];
const seen = new Set<string>();
let duplicates = 0;

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    requests++;
    if (mode === 'record') {
      const receivedAt = Date.now();
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { payload?: { sentAt?: unknown } };
        const id = String(request.headers['webhook-id']);
        if (seen.has(id)) duplicates++;
        else {
          seen.add(id);
          const sentAt = body.payload?.sentAt;
          if (typeof sentAt === 'number') latenciesMs.push(receivedAt - sentAt);
        }
      } catch {
        // Not a webhook body: counted, not timed.
      }
    }
    response.writeHead(200, { 'content-type': 'text/plain', 'content-length': '2' });
    response.end('ok');
  });
});
// Longer than any pause between benchmark rounds, so both sides keep their sockets.
server.keepAliveTimeout = 60_000;

process.on('message', (message: { type?: string }) => {
  if (message.type === 'stats') {
    process.send?.({ type: 'stats', requests, latenciesMs, duplicates });
  } else if (message.type === 'reset') {
    requests = 0;
    latenciesMs = [];
    duplicates = 0;
    seen.clear();
    process.send?.({ type: 'reset' });
  }
});
process.on('disconnect', () => process.exit(0));

server.listen(0, '127.0.0.1', () => {
  process.send?.({ type: 'ready', port: (server.address() as AddressInfo).port });
});
