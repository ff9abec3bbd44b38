import type { ChangeLedger, LedgerEntry } from '../shared/ledger';
import { VerificationFailed } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import { withNotBack } from '../shared/not-back';
import { describeClassicCertificates, observe } from '../shared/edge-ops';
import { mapLimit } from '../shared/pool';
import type { EdgeClients } from '../shared/target-ops';
import { targetLabel, type EdgeTarget } from '../shared/targets';
import type { TlsProbe } from '../shared/tls-probe';
import { verifyNodes } from './nodes';

export interface VerifyRollbackParams {
  readonly clients: EdgeClients;
  readonly ledger: ChangeLedger;
  readonly probe: TlsProbe;
  readonly logger: DomainLogger;
  /** SNI name used for load balancers (they serve one certificate per listener whatever the name). */
  readonly domain: string;
  /** Targets read back and handshaken at once. @default 16 */
  readonly concurrency?: number;
}

export interface VerifyRollbackResult {
  readonly verified: Array<{ readonly target: string; readonly servedSha256: string; readonly via?: string }>;
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

/** At most this many problems are spelled out in the error message; every key is listed. */
const PROBLEMS_SHOWN = 20;

/**
 * Every rolled-back target must again be configured with (API read-back) and serve (TLS
 * handshake) the previous certificate. A mismatch is VerificationFailed, retried by the state
 * machine while load balancers and CloudFront settle; its message names every target that is not
 * back, by label and (machine-readable, {@link withNotBack}) by ledger key.
 */
export async function verifyRollback(params: VerifyRollbackParams): Promise<VerifyRollbackResult> {
  const all = (await params.ledger.entries()).filter((e: LedgerEntry) => e.status === 'rolled-back');
  const entries = all.filter((e) => e.target.kind !== 'node');
  const nodeEntries = all.filter((e) => e.target.kind === 'node');
  const verified: Array<{ target: string; servedSha256: string; via?: string }> = [];
  const problems: string[] = [];
  const notBack: string[] = [];
  const fail = (entry: LedgerEntry, problem: string) => {
    problems.push(problem);
    notBack.push(entry.key);
  };
  const classicNames = entries.flatMap((e) => (e.target.kind === 'elb' ? [e.target.loadBalancerName] : []));
  const classic = classicNames.length > 0 ? await describeClassicCertificates(params.clients, classicNames) : undefined;
  // Read back and handshaken in parallel (bounded), reported in the ledger's order.
  const seen = await mapLimit(entries, params.concurrency ?? 16, async (entry): Promise<{ served?: string; problem?: string }> => {
    if (entry.target.kind === 'node') return { problem: 'not an edge target' };
    const label = targetLabel(entry.target);
    const { state, value } = await observe(params.clients, entry.target, entry.before, entry.after, classic);
    if (state !== 'before') return { problem: `${label} is configured with ${value}, not the previous certificate` };
    try {
      const probed = await params.probe(tlsEndpointOf(entry.target, params.domain));
      if (probed.sha256 !== entry.beforeSha256)
        return { problem: `${label} serves ${probed.sha256}, expected the previous ${entry.beforeSha256}` };
      return { served: probed.sha256 };
    } catch (error) {
      return { problem: `${label}: ${error instanceof Error ? error.message : String(error)}` };
    }
  });
  seen.forEach((r, i) => {
    const entry = entries[i];
    if (r.problem !== undefined) fail(entry, r.problem);
    else verified.push({ target: targetLabel(entry.target), servedSha256: r.served ?? '' });
  });
  // Nodes: by their own report and, where reachable, a handshake to their private address.
  const nodes = await verifyNodes(nodeEntries, params.probe, params.domain, params.concurrency ?? 16);
  nodes.forEach((r, i) => {
    const entry = nodeEntries[i];
    if (r.problem !== undefined) fail(entry, r.problem);
    else verified.push({ target: targetLabel(entry.target), servedSha256: r.served ?? '', ...(r.via ? { via: r.via } : {}) });
  });
  if (problems.length > 0) {
    const shown = problems.slice(0, PROBLEMS_SHOWN).join('; ');
    const more = problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more` : '';
    params.logger.info('rollback not verified yet', { notBack });
    throw new VerificationFailed(
      withNotBack(`rollback not verified yet: ${notBack.length} of ${all.length} target(s) not back: ${shown}${more}.`, notBack),
    );
  }
  params.logger.info('rollback verified', { targets: verified.length });
  return { verified };
}
