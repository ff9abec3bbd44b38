import { CloudFrontClient, type ViewerCertificate } from '@aws-sdk/client-cloudfront';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsClient } from './aws-clients';
import { awsErrorName } from './aws-errors';
import { AwsTransient, CertificateNotPropagated, RotationError, TargetNotFound } from './errors';
import { targetLabel, type EdgeTarget } from './targets';

/**
 * What every handler that reads or switches edge targets shares: the clients, the states a target
 * can be in, and how a target call's error is classified. Reading and switching themselves are
 * edge-ops.ts (observe, apply), used by the canary, the edge rollout and rollback alike. Values
 * are IAM certificate ARNs for ELB/ELBv2 and IAM ServerCertificateIds for CloudFront.
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
