import {
  CloudFrontClient,
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
  type ViewerCertificate,
} from '@aws-sdk/client-cloudfront';
import {
  DescribeLoadBalancersCommand,
  SetLoadBalancerListenerSSLCertificateCommand,
  type LoadBalancerDescription,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  AddListenerCertificatesCommand,
  DescribeListenersCommand,
  ModifyListenerCommand,
  paginateDescribeListenerCertificates,
  RemoveListenerCertificatesCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MAX_PAGE_SIZE, pages } from './aws-clients';
import { awsErrorName } from './aws-errors';
import { AwsTransient, CertificateNotPropagated, RotationError, TargetNotFound } from './errors';
import { targetLabel, type EdgeTarget } from './targets';
import { awsClient } from './aws-clients';

/**
 * Reading and switching the certificate of one edge target. Values are IAM certificate ARNs for
 * ELB/ELBv2 and IAM ServerCertificateIds for CloudFront (what each API takes).
 */
export interface EdgeClients {
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudfront: CloudFrontClient;
}

/** The SDK clients of the edge, built once per container by the handlers that switch or read targets. */
export function createEdgeClients(): EdgeClients {
  return {
    elb: awsClient(ElasticLoadBalancingClient),
    elbv2: awsClient(ElasticLoadBalancingV2Client),
    cloudfront: awsClient(CloudFrontClient),
  };
}

/**
 * What a target is configured with, relative to a change: the old value, the new one, both (an
 * ELBv2 SNI list caught between Add and Remove), or neither.
 */
export type TargetState = 'before' | 'after' | 'both' | 'other';

/** Describes one classic ELB, naming it in the error when it does not exist. */
export async function describeClassicElb(elb: ElasticLoadBalancingClient, name: string): Promise<LoadBalancerDescription> {
  try {
    const out = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }));
    const lb = out.LoadBalancerDescriptions?.[0];
    if (!lb) throw new TargetNotFound(`classic load balancer ${name} does not exist`);
    return lb;
  } catch (error) {
    if (awsErrorName(error) === 'AccessPointNotFoundException') throw new TargetNotFound(`classic load balancer ${name} does not exist`);
    throw error;
  }
}

async function classicListenerCertificate(elb: ElasticLoadBalancingClient, name: string, port: number): Promise<string | undefined> {
  const lb = await describeClassicElb(elb, name);
  const listener = lb.ListenerDescriptions?.map((d) => d.Listener).find((l) => l?.LoadBalancerPort === port);
  if (!listener) throw new TargetNotFound(`classic load balancer ${name} has no listener on port ${port}`);
  return listener.SSLCertificateId;
}

async function v2ListenerCertificates(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
): Promise<{ default?: string; sni: string[] }> {
  const sni: string[] = [];
  let def: string | undefined;
  for await (const out of paginateDescribeListenerCertificates(pages(elbv2), { ListenerArn: listenerArn, PageSize: MAX_PAGE_SIZE.elbv2 })) {
    for (const c of out.Certificates ?? []) {
      if (c.IsDefault) def = c.CertificateArn;
      else if (c.CertificateArn) sni.push(c.CertificateArn);
    }
  }
  if (def === undefined) {
    const ls = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
    def = ls.Listeners?.[0]?.Certificates?.[0]?.CertificateArn;
  }
  return { ...(def ? { default: def } : {}), sni };
}

/** Where the target stands between `before` and `after`. */
export async function readTargetState(
  clients: EdgeClients,
  target: EdgeTarget,
  before: string,
  after: string,
): Promise<{ state: TargetState; value: string }> {
  const classify = (value: string | undefined): TargetState => (value === after ? 'after' : value === before ? 'before' : 'other');
  switch (target.kind) {
    case 'elb': {
      const value = (await classicListenerCertificate(clients.elb, target.loadBalancerName, target.port)) ?? '';
      return { state: classify(value), value };
    }
    case 'elbv2': {
      const certs = await v2ListenerCertificates(clients.elbv2, target.listenerArn);
      if (target.role === 'default') return { state: classify(certs.default), value: certs.default ?? '' };
      const hasAfter = certs.sni.includes(after);
      const hasBefore = certs.sni.includes(before);
      const state: TargetState = hasAfter && hasBefore ? 'both' : hasAfter ? 'after' : hasBefore ? 'before' : 'other';
      return { state, value: certs.sni.join(',') };
    }
    case 'cloudfront': {
      const out = await clients.cloudfront.send(new GetDistributionConfigCommand({ Id: target.distributionId }));
      const value = out.DistributionConfig?.ViewerCertificate?.IAMCertificateId ?? '';
      return { state: classify(value), value };
    }
  }
}

/** A target call's error as the state machine matches it: propagation, ETag race, target gone; others unchanged. */
export function classifyTargetError(target: EdgeTarget, error: unknown): never {
  if (error instanceof RotationError) throw error;
  propagationAware(target, error);
}

function propagationAware(target: EdgeTarget, error: unknown): never {
  const code = awsErrorName(error);
  if (code === 'CertificateNotFoundException' || code === 'CertificateNotFound') {
    throw new CertificateNotPropagated(`${targetLabel(target)} does not see the IAM certificate yet (${code}); retrying`);
  }
  if (code === 'PreconditionFailed') throw new AwsTransient(`${targetLabel(target)} changed while we updated it (ETag); retrying`);
  if (
    code === 'AccessPointNotFoundException' ||
    code === 'ListenerNotFoundException' ||
    code === 'LoadBalancerNotFoundException' ||
    code === 'NoSuchDistribution'
  ) {
    throw new TargetNotFound(`${targetLabel(target)} no longer exists (${code})`);
  }
  throw error;
}

/** The viewer certificate with only the IAM certificate changed from `from` to `to`. */
export function exactViewerCertificate(vc: ViewerCertificate, from: string, to: string): ViewerCertificate {
  return { ...vc, IAMCertificateId: to, ...(vc.Certificate === from ? { Certificate: to } : {}) };
}

/** CloudFront attempts per distribution when its ETag keeps changing under us. */
export const CLOUDFRONT_ETAG_ATTEMPTS = 5;

/** Switches the target from `from` to `to`. Safe to repeat. */
export async function setTargetCertificate(clients: EdgeClients, target: EdgeTarget, from: string, to: string): Promise<void> {
  try {
    switch (target.kind) {
      case 'elb':
        await clients.elb.send(
          new SetLoadBalancerListenerSSLCertificateCommand({
            LoadBalancerName: target.loadBalancerName,
            LoadBalancerPort: target.port,
            SSLCertificateId: to,
          }),
        );
        return;
      case 'elbv2':
        if (target.role === 'default') {
          await clients.elbv2.send(new ModifyListenerCommand({ ListenerArn: target.listenerArn, Certificates: [{ CertificateArn: to }] }));
        } else {
          // Add first so the names never lose their certificate; each step only if still needed,
          // so a retry after an interruption between the two completes the switch.
          const { sni } = await v2ListenerCertificates(clients.elbv2, target.listenerArn);
          if (!sni.includes(to)) {
            await clients.elbv2.send(
              new AddListenerCertificatesCommand({ ListenerArn: target.listenerArn, Certificates: [{ CertificateArn: to }] }),
            );
          }
          if (sni.includes(from)) {
            await clients.elbv2.send(
              new RemoveListenerCertificatesCommand({ ListenerArn: target.listenerArn, Certificates: [{ CertificateArn: from }] }),
            );
          }
        }
        return;
      case 'cloudfront': {
        // Only IAMCertificateId changes (edge-ops); a PreconditionFailed re-reads and tries again.
        for (let attempt = 1; ; attempt++) {
          const out = await clients.cloudfront.send(new GetDistributionConfigCommand({ Id: target.distributionId }));
          const config = out.DistributionConfig;
          if (!config?.ViewerCertificate) throw new TargetNotFound(`${targetLabel(target)} has no viewer certificate`);
          if (config.ViewerCertificate.IAMCertificateId === to) return;
          const next = { ...config, ViewerCertificate: exactViewerCertificate(config.ViewerCertificate, from, to) };
          try {
            await clients.cloudfront.send(
              new UpdateDistributionCommand({ Id: target.distributionId, IfMatch: out.ETag, DistributionConfig: next }),
            );
            return;
          } catch (error) {
            if (awsErrorName(error) !== 'PreconditionFailed' || attempt >= CLOUDFRONT_ETAG_ATTEMPTS) throw error;
          }
        }
      }
    }
  } catch (error) {
    propagationAware(target, error);
  }
}
