/**
 * Real TLS servers on 127.0.0.1, one per simulated place that serves a certificate (secure ELB
 * listener, ELBv2 listener, distribution, node). Each handshake serves what the simulated account
 * says that place serves *now*: clients that send SNI get it through `SNICallback`; clients that
 * do not (IP literals) get the default context, refreshed before each connection is wrapped.
 * After the handshake the server ends the connection.
 */
import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import * as tls from 'node:tls';
import type { SimCertificate } from './iam';

/** One endpoint: a stable key and what to serve for a given SNI name (undefined: no SNI). */
export interface TlsEndpointSpec {
  readonly key: string;
  /** The certificate to serve now; undefined makes the handshake fail. */
  readonly serve: (servername: string | undefined) => SimCertificate | undefined;
}

interface Running {
  readonly spec: TlsEndpointSpec;
  readonly server: tls.Server;
  port: number;
  readonly sockets: Set<Socket>;
  handshakes: number;
  defaultId?: string;
}

function materialId(m: SimCertificate): string {
  return createHash('sha256').update(m.certPem).update('\0').update(m.chainPem).digest('hex');
}

function fullChain(m: SimCertificate): string {
  const leaf = m.certPem.endsWith('\n') ? m.certPem : `${m.certPem}\n`;
  return m.chainPem.trim() === '' ? leaf : leaf + m.chainPem;
}

/** The running TLS servers of a simulated account. */
export class TlsEndpoints {
  private readonly contexts = new Map<string, tls.SecureContext>();
  private readonly running = new Map<string, Running>();

  private constructor() {}

  /** Starts one server per spec on 127.0.0.1 (ephemeral ports). */
  static async start(specs: readonly TlsEndpointSpec[]): Promise<TlsEndpoints> {
    const endpoints = new TlsEndpoints();
    try {
      for (const spec of specs) await endpoints.startOne(spec);
    } catch (e) {
      await endpoints.close();
      throw e;
    }
    return endpoints;
  }

  /** The real 127.0.0.1 port of an endpoint. */
  localPort(key: string): number {
    const r = this.running.get(key);
    if (!r) throw new Error(`no TLS endpoint ${key}`);
    return r.port;
  }

  /** Completed handshakes on an endpoint so far. */
  handshakes(key: string): number {
    return this.running.get(key)?.handshakes ?? 0;
  }

  /** Stops every server and drops open connections. */
  async close(): Promise<void> {
    const all = [...this.running.values()];
    this.running.clear();
    await Promise.all(
      all.map(
        (r) =>
          new Promise<void>((resolve) => {
            for (const s of r.sockets) s.destroy();
            r.server.close(() => resolve());
          }),
      ),
    );
    this.contexts.clear();
  }

  private context(m: SimCertificate): tls.SecureContext {
    const id = materialId(m);
    let ctx = this.contexts.get(id);
    if (!ctx) {
      ctx = tls.createSecureContext({ key: m.keyPem, cert: fullChain(m) });
      this.contexts.set(id, ctx);
    }
    return ctx;
  }

  private async startOne(spec: TlsEndpointSpec): Promise<void> {
    const initial = spec.serve(undefined);
    const server = tls.createServer({
      ...(initial ? { key: initial.keyPem, cert: fullChain(initial) } : {}),
      SNICallback: (servername, cb) => {
        const m = spec.serve(servername);
        if (!m) cb(new Error(`${spec.key}: nothing to serve for ${servername}`), undefined);
        else cb(null, this.context(m));
      },
    });
    const running: Running = {
      spec,
      server,
      port: 0,
      sockets: new Set(),
      handshakes: 0,
      defaultId: initial ? materialId(initial) : undefined,
    };
    // Runs before tls.Server's own 'connection' listener wraps the socket with the default context:
    // refresh that context so clients without SNI also see what is served now.
    server.prependListener('connection', (socket: Socket) => {
      running.sockets.add(socket);
      socket.once('close', () => running.sockets.delete(socket));
      const m = spec.serve(undefined);
      if (!m) {
        socket.destroy();
        return;
      }
      const id = materialId(m);
      if (id !== running.defaultId) {
        server.setSecureContext({ key: m.keyPem, cert: fullChain(m) });
        running.defaultId = id;
      }
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      running.handshakes += 1;
      socket.on('error', () => undefined);
      socket.end();
    });
    server.on('tlsClientError', () => undefined);
    server.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error(`${spec.key}: no TCP address`);
    running.port = address.port;
    this.running.set(spec.key, running);
  }
}
