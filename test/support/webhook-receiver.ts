import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP server on 127.0.0.1 that records webhook requests and responds
 * from a script, for tests and fault runs.
 */

/** One scripted response: a bare status code, or a status with a delay, headers and body. */
export type ReceiverStep =
  | number
  | {
      status?: number;
      /** Waits this long before responding, to exceed a client's timeout. */
      delayMs?: number;
      headers?: Record<string, string>;
      body?: string | Buffer;
    };

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The body bytes exactly as received. */
  body: Buffer;
}

export interface WebhookReceiver {
  /** Base URL, `http://127.0.0.1:<port>`. */
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** TCP connections accepted, including those that never sent a request. */
  connectionCount(): number;
  close(): Promise<void>;
}

/**
 * Starts the receiver. Requests consume the script in order. Once it is used
 * up, every further request gets 200.
 */
export async function startWebhookReceiver(options: { script?: ReceiverStep[] } = {}): Promise<WebhookReceiver> {
  const script = [...(options.script ?? [])];
  const requests: RecordedRequest[] = [];
  let connections = 0;

  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks),
      });

      const step = normalizeStep(script.shift() ?? 200);
      const respond = () => {
        response.writeHead(step.status, step.headers);
        response.end(step.body);
      };

      if (step.delayMs > 0) {
        const timer = setTimeout(respond, step.delayMs);
        // A client that gave up closes the connection; the response is then dropped.
        response.on('close', () => clearTimeout(timer));
      } else {
        respond();
      }
    });
  });
  server.on('connection', () => {
    connections += 1;
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    connectionCount: () => connections,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function normalizeStep(step: ReceiverStep) {
  const fields = typeof step === 'number' ? { status: step } : step;
  return {
    status: fields.status ?? 200,
    delayMs: fields.delayMs ?? 0,
    headers: fields.headers ?? {},
    body: fields.body ?? '',
  };
}
