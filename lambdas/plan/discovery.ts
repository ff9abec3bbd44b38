import { paginateDescribeInstances, type EC2Client, type Filter } from '@aws-sdk/client-ec2';
import { paginateListDistributions, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { paginateDescribeLoadBalancers, type ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import {
  paginateDescribeListenerCertificates,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers as paginateDescribeV2LoadBalancers,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MAX_PAGE_SIZE, pages } from '../shared/aws-clients';
import type { DistributionTarget, ElbListenerTarget, ElbV2ListenerTarget } from '../shared/targets';

// The ELB and ELBv2 paginators of the SDK have no page-size setting: PageSize goes in the input.

/** Every classic ELB listener that serves `certificateArn`. */
export async function findClassicListeners(elb: ElasticLoadBalancingClient, certificateArn: string): Promise<ElbListenerTarget[]> {
  const found: ElbListenerTarget[] = [];
  for await (const out of paginateDescribeLoadBalancers(pages(elb), { PageSize: MAX_PAGE_SIZE.elbDescribeLoadBalancers })) {
    for (const lb of out.LoadBalancerDescriptions ?? []) {
      for (const d of lb.ListenerDescriptions ?? []) {
        const l = d.Listener;
        if (l?.SSLCertificateId === certificateArn && lb.LoadBalancerName && l.LoadBalancerPort !== undefined) {
          found.push({ kind: 'elb', loadBalancerName: lb.LoadBalancerName, port: l.LoadBalancerPort, dnsName: lb.DNSName ?? '' });
        }
      }
    }
  }
  return found;
}

/** Every ELBv2 listener whose default or SNI certificate is `certificateArn`. */
export async function findV2Listeners(elbv2: ElasticLoadBalancingV2Client, certificateArn: string): Promise<ElbV2ListenerTarget[]> {
  const found: ElbV2ListenerTarget[] = [];
  const paging = pages(elbv2);
  const PageSize = MAX_PAGE_SIZE.elbv2;
  for await (const out of paginateDescribeV2LoadBalancers(paging, { PageSize })) {
    for (const lb of out.LoadBalancers ?? []) {
      for await (const ls of paginateDescribeListeners(paging, { LoadBalancerArn: lb.LoadBalancerArn, PageSize })) {
        for (const listener of ls.Listeners ?? []) {
          if (listener.Protocol !== 'HTTPS' && listener.Protocol !== 'TLS') continue;
          for await (const certs of paginateDescribeListenerCertificates(paging, { ListenerArn: listener.ListenerArn, PageSize })) {
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
          }
        }
      }
    }
  }
  return found;
}

/** Every CloudFront distribution whose viewer certificate is the IAM certificate `certificateId`. */
export async function findDistributions(cloudfront: CloudFrontClient, certificateId: string): Promise<DistributionTarget[]> {
  const found: DistributionTarget[] = [];
  for await (const out of paginateListDistributions(pages(cloudfront, MAX_PAGE_SIZE.cloudfrontListDistributions), {})) {
    for (const d of out.DistributionList?.Items ?? []) {
      if (d.ViewerCertificate?.IAMCertificateId === certificateId && d.Id) {
        found.push({ kind: 'cloudfront', distributionId: d.Id, domainName: d.DomainName ?? '', aliases: d.Aliases?.Items ?? [] });
      }
    }
  }
  return found;
}

export interface InstanceInfo {
  readonly instanceId: string;
  readonly name: string;
  /** Where a TLS handshake reaches its nginx from inside the VPC (private DNS name, else private IP). */
  readonly host?: string;
}

/** Running instances matching the tags (ANDed) or the explicit ids. */
export async function findInstances(
  ec2: EC2Client,
  targets: { readonly tags?: Readonly<Record<string, readonly string[]>>; readonly instanceIds?: readonly string[] },
): Promise<InstanceInfo[]> {
  const byId = new Map<string, InstanceInfo>();
  const query = async (filters: Filter[], instanceIds?: string[]) => {
    // EC2 refuses MaxResults together with InstanceIds (the ids bound the answer instead).
    const paging = pages(ec2, instanceIds ? undefined : MAX_PAGE_SIZE.ec2DescribeInstances);
    for await (const out of paginateDescribeInstances(paging, { Filters: filters, ...(instanceIds ? { InstanceIds: instanceIds } : {}) })) {
      for (const r of out.Reservations ?? []) {
        for (const i of r.Instances ?? []) {
          if (!i.InstanceId) continue;
          const name = i.Tags?.find((t) => t.Key === 'Name')?.Value ?? i.InstanceId;
          const host = i.PrivateDnsName || i.PrivateIpAddress;
          byId.set(i.InstanceId, { instanceId: i.InstanceId, name, ...(host ? { host } : {}) });
        }
      }
    }
  };
  const running: Filter = { Name: 'instance-state-name', Values: ['running'] };
  if (targets.tags && Object.keys(targets.tags).length > 0) {
    await query([...Object.entries(targets.tags).map(([k, v]) => ({ Name: `tag:${k}`, Values: [...v] })), running]);
  }
  if (targets.instanceIds && targets.instanceIds.length > 0) await query([running], [...targets.instanceIds]);
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
