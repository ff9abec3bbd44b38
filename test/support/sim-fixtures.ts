import { createHash } from 'node:crypto';
import * as tls from 'node:tls';
import { issueWithFreshPki } from '../../local/certs';
import type { SimCertificate } from '../../local/sim';

/**
 * Handshakes like `openssl s_client -connect host:port -servername name` (through the patched
 * tls.connect when a simulated account is installed); resolves the served leaf's SHA-256.
 */
export function handshake(host: string, port: number, servername?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host, port, servername, rejectUnauthorized: false });
    socket.setTimeout(5000, () => {
      socket.destroy();
      reject(new Error('timeout'));
    });
    socket.once('error', reject);
    socket.once('secureConnect', () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      resolve(createHash('sha256').update(raw).digest('hex'));
    });
  });
}

/** The two certificates a simulated account is seeded with: the domain's current one and an unrelated one. */
export async function seedCertificates(): Promise<{ current: SimCertificate; other: SimCertificate }> {
  const [current, other] = await Promise.all([
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'ec-p256' }),
    issueWithFreshPki({ names: ['*.example.org'], keyType: 'ec-p256' }),
  ]);
  return { current, other };
}
