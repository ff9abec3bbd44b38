import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FunctionUrlEvent, FunctionUrlResult } from '../lambdas/approval-page';
import { invokeHandler } from './invoke';

/** The approval page served on 127.0.0.1, as its function URL would serve it. */
export interface ApprovalServer {
  /** `http://127.0.0.1:PORT/` (the kernel picks the port). */
  readonly baseUrl: string;
  /** Requests served, by method. */
  readonly requests: Readonly<Record<string, number>>;
  close(): Promise<void>;
}

/** Content types a function URL passes as text; any other body arrives base64-encoded. */
const TEXT_TYPES = /^(text\/|application\/(json|xml|javascript)\b)/i;

/** A function URL event (payload format 2.0) from a Node.js request, as Lambda builds it. */
export function functionUrlEventOf(req: IncomingMessage, body: Buffer, domainName: string): FunctionUrlEvent {
  const url = new URL(req.url ?? '/', `http://${domainName}`);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
  const contentType = headers['content-type'] ?? '';
  const text = TEXT_TYPES.test(contentType);
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.replace(/^\?/, ''),
    headers,
    requestContext: {
      accountId: 'anonymous',
      apiId: 'rehearsal',
      domainName,
      requestId: randomUUID(),
      time: new Date().toUTCString(),
      timeEpoch: Date.now(),
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${req.httpVersion}`,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
    },
    ...(body.length > 0
      ? { body: text ? body.toString('utf8') : body.toString('base64'), isBase64Encoded: !text }
      : { isBase64Encoded: false }),
  };
  return event satisfies FunctionUrlEvent;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Serves the real approval-page handler on 127.0.0.1 through a small adapter: each HTTP request
 * becomes a function URL event, the handler runs in-process with its function's environment
 * (against the simulated account), and its result becomes the HTTP response.
 */
export async function startApprovalServer(fn: {
  readonly entry: string;
  readonly environment: Readonly<Record<string, string>>;
}): Promise<ApprovalServer> {
  const requests: Record<string, number> = {};
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const method = req.method ?? 'GET';
      requests[method] = (requests[method] ?? 0) + 1;
      try {
        const body = await readBody(req);
        const event = functionUrlEventOf(req, body, req.headers.host ?? '127.0.0.1');
        const result = (await invokeHandler(fn.entry, fn.environment, event)) as FunctionUrlResult;
        res.writeHead(result.statusCode, result.headers);
        res.end(method === 'HEAD' ? undefined : result.body);
      } catch {
        // The handler answers every error itself; reaching here is an adapter failure.
        res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
        res.end('approval page adapter failed');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
