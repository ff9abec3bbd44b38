import type { ChangeLedger, LedgerEntry } from '../shared/ledger';
import { VerificationFailed } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import { readTargetState, type EdgeClients } from '../shared/target-ops';
import { targetLabel, type EdgeTarget } from '../shared/targets';
import type { TlsProbe } from '../shared/tls-probe';

export interface VerifyRollbackParams {
  readonly clients: EdgeClients;
  readonly ledger: ChangeLedger;
  readonly probe: TlsProbe;
  readonly logger: DomainLogger;
  /** SNI name used for load balancers (they serve one certificate per listener whatever the name). */
  readonly domain: string;
}

export interface VerifyRollbackResult {
  readonly verified: Array<{ readonly target: string; readonly servedSha256: string }>;
}

/** The TLS endpoint that shows what a target serves. */
export function tlsEndpointOf(target: EdgeTarget, domain: string): { host: string; port: number; servername: string } {
  switch (target.kind) {
    case 'elb':
    case 'elbv2':
      return { host: target.dnsName, port: target.port, servername: domain };
    case 'cloudfront':
      return { host: target.domainName, port: 443, servername: target.aliases[0] ?? target.domainName };
  }
}

/**
 * Every rolled-back target must again be configured with (API read-back) and serve (TLS
 * handshake) the previous certificate. A mismatch is VerificationFailed, retried by the state
 * machine while load balancers and CloudFront settle.
 */
export async function verifyRollback(params: VerifyRollbackParams): Promise<VerifyRollbackResult> {
  const entries = (await params.ledger.entries()).filter((e: LedgerEntry) => e.status === 'rolled-back');
  const verified: Array<{ target: string; servedSha256: string }> = [];
  const problems: string[] = [];
  for (const entry of entries) {
    const label = targetLabel(entry.target);
    const { state, value } = await readTargetState(params.clients, entry.target, entry.before, entry.after);
    if (state !== 'before') {
      problems.push(`${label} is configured with ${value}, not the previous certificate`);
      continue;
    }
    const ep = tlsEndpointOf(entry.target, params.domain);
    try {
      const seen = await params.probe(ep);
      if (seen.sha256 !== entry.beforeSha256) problems.push(`${label} serves ${seen.sha256}, expected the previous ${entry.beforeSha256}`);
      else verified.push({ target: label, servedSha256: seen.sha256 });
    } catch (error) {
      problems.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  if (problems.length > 0) throw new VerificationFailed(`rollback not verified yet: ${problems.join('; ')}`);
  params.logger.info('rollback verified', { targets: verified.length });
  return { verified };
}
