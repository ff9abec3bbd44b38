import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import * as tls from 'node:tls';

/** What a TLS handshake saw: the leaf certificate the endpoint served. */
export interface ProbeResult {
  readonly endpoint: string;
  readonly sha256: string; // lowercase hex of the DER
  readonly serial: string;
  readonly notAfter: string;
  readonly subject: string;
}

export interface ProbeRequest {
  readonly host: string;
  readonly port: number;
  /** SNI name; defaults to host. */
  readonly servername?: string;
  /** `false`: send no SNI at all (what a listener's default certificate answers). @default true */
  readonly sni?: boolean;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/** A function that handshakes and reports the served certificate; injected so domain code is testable. */
export type TlsProbe = (request: ProbeRequest) => Promise<ProbeResult>;

/** Splits "host:port". */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const m = /^(.+):(\d{1,5})$/.exec(endpoint);
  if (!m) throw new Error(`"${endpoint}" is not host:port`);
  return { host: m[1], port: Number(m[2]) };
}

/**
 * Handshakes with the endpoint like `openssl s_client -connect host:port -servername name` and
 * returns the leaf it served. It does not judge trust (validation did that before upload): it
 * answers "which certificate is served here now". Connection failures reject with the endpoint named.
 */
export const probeTls: TlsProbe = (request) => {
  const { host, port } = request;
  // SNI carries host names only (RFC 6066); an IP literal is not sent.
  const servername = request.sni === false ? undefined : (request.servername ?? (isIP(host) ? undefined : host));
  const endpoint = `${host}:${port}`;
  return new Promise<ProbeResult>((resolve, reject) => {
    // The probe only reads which certificate is served; trust was checked by validation.
    const socket = tls.connect({ host, port, ...(servername ? { servername } : {}), rejectUnauthorized: false });
    const fail = (message: string) => {
      socket.destroy();
      reject(new Error(`TLS handshake with ${endpoint} (SNI ${servername ?? 'none'}) failed: ${message}`));
    };
    socket.setTimeout(request.timeoutMs ?? 5000, () => fail('timed out'));
    socket.once('error', (err: Error) => fail(err.message));
    socket.once('secureConnect', () => {
      const peer = socket.getPeerCertificate();
      if (!peer || !peer.raw) return fail('no certificate was served');
      const result: ProbeResult = {
        endpoint,
        sha256: createHash('sha256').update(peer.raw).digest('hex'),
        serial: String(peer.serialNumber ?? '').toUpperCase(),
        notAfter: new Date(peer.valid_to).toISOString(),
        subject: typeof peer.subject?.CN === 'string' ? peer.subject.CN : JSON.stringify(peer.subject ?? {}),
      };
      socket.end();
      resolve(result);
    });
  });
};
