import { VerificationFailed } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import { parseEndpoint, type TlsProbe } from '../shared/tls-probe';

export interface VerifyTlsParams {
  readonly probe: TlsProbe;
  readonly logger: DomainLogger;
  /** `host:port`; SNI is the host unless `servername` is given. */
  readonly endpoint: string;
  readonly servername?: string;
  readonly expectedSha256: string;
  /** Attempts made before this one (0 on the first). */
  readonly previousAttempts: number;
  /** The check gives up (VerificationFailed) after this many attempts. */
  readonly maxAttempts: number;
  readonly intervalSeconds: number;
}

export interface VerifyTlsResult {
  readonly endpoint: string;
  readonly matches: boolean;
  readonly attempts: number;
  readonly servedSha256: string | null;
  readonly error?: string;
}

/**
 * One TLS handshake: does the endpoint serve the expected certificate yet? "Not yet" is data
 * (the state machine waits and asks again); after `maxAttempts` it is VerificationFailed.
 */
export async function verifyTls(params: VerifyTlsParams): Promise<VerifyTlsResult> {
  const attempts = params.previousAttempts + 1;
  const { host, port } = parseEndpoint(params.endpoint);
  let servedSha256: string | null = null;
  let error: string | undefined;
  try {
    const seen = await params.probe({ host, port, ...(params.servername ? { servername: params.servername } : {}) });
    servedSha256 = seen.sha256;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  }
  const matches = servedSha256 === params.expectedSha256;
  params.logger.info('TLS check', { endpoint: params.endpoint, attempts, matches, servedSha256, error });
  if (!matches && attempts >= params.maxAttempts) {
    throw new VerificationFailed(
      `${params.endpoint} still does not serve the new certificate ${params.expectedSha256} after ${attempts} checks ` +
        `${params.intervalSeconds}s apart (last seen: ${servedSha256 ?? error ?? 'nothing'})`,
    );
  }
  return { endpoint: params.endpoint, matches, attempts, servedSha256, ...(error ? { error } : {}) };
}
