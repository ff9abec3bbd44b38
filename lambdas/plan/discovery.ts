import { DescribeInstancesCommand, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { ListDistributionsCommand, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DescribeLoadBalancersCommand, type ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand as DescribeV2LoadBalancersCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { DistributionTarget, ElbListenerTarget, ElbV2ListenerTarget } from '../shared/targets';

/** Every classic ELB listener that serves `certificateArn`. */
export async function findClassicListeners(elb: ElasticLoadBalancingClient, certificateArn: string): Promise<ElbListenerTarget[]> {
  const found: ElbListenerTarget[] = [];
  let marker: string | undefined;
  do {
    const out = await elb.send(new DescribeLoadBalancersCommand({ Marker: marker }));
    for (const lb of out.LoadBalancerDescriptions ?? []) {
      for (const d of lb.ListenerDescriptions ?? []) {
        const l = d.Listener;
        if (l?.SSLCertificateId === certificateArn && lb.LoadBalancerName && l.LoadBalancerPort !== undefined) {
          found.push({ kind: 'elb', loadBalancerName: lb.LoadBalancerName, port: l.LoadBalancerPort, dnsName: lb.DNSName ?? '' });
        }
      }
    }
    marker = out.NextMarker;
  } while (marker);
  return found;
}

/** Every ELBv2 listener whose default or SNI certificate is `certificateArn`. */
export async function findV2Listeners(elbv2: ElasticLoadBalancingV2Client, certificateArn: string): Promise<ElbV2ListenerTarget[]> {
  const found: ElbV2ListenerTarget[] = [];
  let marker: string | undefined;
  do {
    const out = await elbv2.send(new DescribeV2LoadBalancersCommand({ Marker: marker }));
    for (const lb of out.LoadBalancers ?? []) {
      let listenerMarker: string | undefined;
      do {
        const ls = await elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.LoadBalancerArn, Marker: listenerMarker }));
        for (const listener of ls.Listeners ?? []) {
          if (listener.Protocol !== 'HTTPS' && listener.Protocol !== 'TLS') continue;
          let certMarker: string | undefined;
          do {
            const certs = await elbv2.send(
              new DescribeListenerCertificatesCommand({ ListenerArn: listener.ListenerArn, Marker: certMarker }),
            );
            for (const c of certs.Certificates ?? []) {
              if (c.CertificateArn === certificateArn && listener.ListenerArn && listener.Port !== undefined) {
                found.push({
                  kind: 'elbv2',
                  loadBalancerName: lb.LoadBalancerName ?? '',
                  listenerArn: listener.ListenerArn,
                  port: listener.Port,
                  dnsName: lb.DNSName ?? '',
                  role: c.IsDefault ? 'default' : 'sni',
                });
              }
            }
            certMarker = certs.NextMarker;
          } while (certMarker);
        }
        listenerMarker = ls.NextMarker;
      } while (listenerMarker);
    }
    marker = out.NextMarker;
  } while (marker);
  return found;
}

/** Every CloudFront distribution whose viewer certificate is the IAM certificate `certificateId`. */
export async function findDistributions(cloudfront: CloudFrontClient, certificateId: string): Promise<DistributionTarget[]> {
  const found: DistributionTarget[] = [];
  let marker: string | undefined;
  do {
    const out = await cloudfront.send(new ListDistributionsCommand({ Marker: marker }));
    const list = out.DistributionList;
    for (const d of list?.Items ?? []) {
      if (d.ViewerCertificate?.IAMCertificateId === certificateId && d.Id) {
        found.push({ kind: 'cloudfront', distributionId: d.Id, domainName: d.DomainName ?? '', aliases: d.Aliases?.Items ?? [] });
      }
    }
    marker = list?.IsTruncated ? list.NextMarker : undefined;
  } while (marker);
  return found;
}

export interface InstanceInfo {
  readonly instanceId: string;
  readonly name: string;
}

/** Running instances matching the tags (ANDed) or the explicit ids. */
export async function findInstances(
  ec2: EC2Client,
  targets: { readonly tags?: Readonly<Record<string, readonly string[]>>; readonly instanceIds?: readonly string[] },
): Promise<InstanceInfo[]> {
  const byId = new Map<string, InstanceInfo>();
  const query = async (filters: Filter[], instanceIds?: string[]) => {
    let token: string | undefined;
    do {
      const out = await ec2.send(new DescribeInstancesCommand({ Filters: filters, InstanceIds: instanceIds, NextToken: token }));
      for (const r of out.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (!i.InstanceId) continue;
          const name = i.Tags?.find((t) => t.Key === 'Name')?.Value ?? i.InstanceId;
          byId.set(i.InstanceId, { instanceId: i.InstanceId, name });
        }
      }
      token = out.NextToken;
    } while (token);
  };
  const running: Filter = { Name: 'instance-state-name', Values: ['running'] };
  if (targets.tags && Object.keys(targets.tags).length > 0) {
    await query([...Object.entries(targets.tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [...v] })), running]);
  }
  if (targets.instanceIds && targets.instanceIds.length > 0) await query([running], [...targets.instanceIds]);
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
