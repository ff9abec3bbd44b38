/**
 * The simulated account's Secrets Manager on 127.0.0.1, over the real wire protocol (AWS JSON 1.1:
 * `POST /` with `X-Amz-Target: secretsmanager.GetSecretValue`), for the processes that cannot use
 * the in-process hook: the AWS CLI stand-in (local/aws-cli) that the real deploy script calls on an
 * nginx node. Each request goes through the account's dispatcher like any SDK call (recorded,
 * rate-limited, faults of the faults file applied); errors come back as AWS sends them
 * (`{"__type": code, "message": ...}`, HTTP 400, 500 for server faults). Only GetSecretValue is
 * served: it is the one call a node makes.
 */
import { createServer, type Server } from 'node:http';

/** Answers one call (the account's dispatcher); throws the SDK exception of the error. */
export type SecretsHandler = (operation: 'secretsmanager:GetSecretValue', input: unknown) => Promise<unknown>;

/** The running endpoint. */
export interface SecretsEndpoint {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  close(): Promise<void>;
}

/** Dates as the JSON protocol sends them (epoch seconds). */
function toWire(value: unknown): unknown {
  if (value instanceof Date) return value.getTime() / 1000;
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(toWire);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k, v]) => v !== undefined && k !== '$metadata')
        .map(([k, v]) => [k, toWire(v)]),
    );
  }
  return value;
}

/** Starts the endpoint on a port the kernel picks. */
export async function startSecretsEndpoint(handle: SecretsHandler): Promise<SecretsEndpoint> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'sim' });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      if (req.method !== 'POST' || target !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'UnknownOperationException', message: `the simulated endpoint serves GetSecretValue only, not "${target}"` });
        return;
      }
      let input: unknown;
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        reply(400, { __type: 'SerializationException', message: 'the body is not JSON' });
        return;
      }
      handle('secretsmanager:GetSecretValue', input).then(
        (out) => reply(200, toWire(out)),
        (e: unknown) => {
          const err = e as { name?: string; message?: string; $fault?: string };
          reply(err.$fault === 'server' ? 500 : 400, { __type: err.name ?? 'InternalServiceError', message: err.message ?? '' });
        },
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
