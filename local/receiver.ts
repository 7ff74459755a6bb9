import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { closeServer, listen, readBody } from './http';

/**
 * A sample webhook receiver for `npm start`: it prints every webhook it gets and
 * answers 200, or the status named by `?status=` (e.g. `?status=500` to watch retries,
 * `?status=410` to watch the subscription go away).
 */
export interface SampleReceiver {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export async function startSampleReceiver(
  port: number,
  print: (line: string) => void = console.log,
): Promise<SampleReceiver> {
  const server: Server = createServer((request, response) => {
    readBody(request, 1024 * 1024)
      .then((body) => {
        const url = new URL(request.url ?? '/', 'http://receiver');
        const wanted = Number(url.searchParams.get('status') ?? '200');
        const status = Number.isInteger(wanted) && wanted >= 200 && wanted <= 599 ? wanted : 200;
        let event = '?';
        try {
          event = String((JSON.parse(body.toString('utf8')) as { hook?: { event?: unknown } }).hook?.event);
        } catch {
          // not JSON: print what arrived anyway
        }
        print(
          `[receiver] ${request.method} ${url.pathname} event=${event} webhook-id=${String(request.headers['webhook-id'])} bytes=${body.length} -> ${status}`,
        );
        response.writeHead(status, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ received: status < 300 }));
      })
      .catch(() => {
        response.writeHead(413);
        response.end();
      });
  });
  await listen(server, port);
  const actual = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${actual}`, port: actual, stop: () => closeServer(server) };
}
