import { type ChangeLedger } from '../shared/ledger';
import { TargetNotFound } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import { apply, observe } from '../shared/edge-ops';
import { describeClassicElb, type EdgeClients } from '../shared/target-ops';
import { targetLabel, type ElbListenerTarget } from '../shared/targets';

export interface SwitchCanaryParams {
  readonly clients: EdgeClients;
  readonly ledger: ChangeLedger;
  readonly logger: DomainLogger;
  readonly canary: { readonly loadBalancerName: string; readonly port: number };
  readonly current: { readonly arn: string; readonly sha256: string };
  readonly uploaded: { readonly arn: string };
  readonly newSha256: string;
  readonly now: () => Date;
}

export interface SwitchResult {
  readonly target: string;
  /** True when this attempt switched the listener; false when an earlier attempt already had. */
  readonly changed: boolean;
}

/**
 * Canary: the IRC listener goes first. The ledger entry is written before the switch, so a
 * crash between the two still rolls back; a retry that finds the switch done just confirms it.
 */
export async function switchCanary(params: SwitchCanaryParams): Promise<SwitchResult> {
  const lb = await describeClassicElb(params.clients.elb, params.canary.loadBalancerName);
  const target: ElbListenerTarget = {
    kind: 'elb',
    loadBalancerName: params.canary.loadBalancerName,
    port: params.canary.port,
    dnsName: lb.DNSName ?? '',
  };
  const label = targetLabel(target);
  const before = params.current.arn;
  const after = params.uploaded.arn;

  let entry = await params.ledger.recordIntent(target, 'canary', before, after, params.now(), {
    beforeSha256: params.current.sha256,
    afterSha256: params.newSha256,
  });
  // The edge rollout's own read and switch (lambdas/shared/edge-ops.ts), the listener's certificates read from `lb`.
  const classic = new Map(
    (lb.ListenerDescriptions ?? []).map((d) => [
      `${target.loadBalancerName}:${d.Listener?.LoadBalancerPort}`,
      d.Listener?.SSLCertificateId ?? '',
    ]),
  );
  const seen = await observe(params.clients, target, before, after, classic);
  const { state, value } = seen;
  if (state === 'other') {
    throw new TargetNotFound(
      `${label} now serves ${value}, neither the current nor the new certificate; someone else changed it, stopping`,
    );
  }
  if (state === 'before') {
    await apply(params.clients, target, seen, before, after);
    params.logger.info('canary listener switched', { target: label });
  } else {
    params.logger.info('canary listener already serves the new certificate', { target: label });
  }
  entry = await params.ledger.update(entry, 'applied', params.now());
  return { target: entry.key, changed: state === 'before' };
}
