import { paginateListDistributions, type CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { paginateDescribeLoadBalancers, type ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import {
  paginateDescribeListenerCertificates,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers as paginateDescribeV2LoadBalancers,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MAX_PAGE_SIZE, pages } from './aws-clients';

/** The edge clients that can hold an IAM server certificate. */
export interface EdgeReadClients {
  readonly elb: ElasticLoadBalancingClient;
  readonly elbv2: ElasticLoadBalancingV2Client;
  readonly cloudfront: CloudFrontClient;
}

/**
 * Where IAM server certificates are in use: every classic ELB listener, every ELBv2 listener's
 * default AND SNI certificates (DescribeListenerCertificates: DescribeListeners shows only the
 * default) and every CloudFront distribution, read in full before anyone decides from it.
 * Keys: certificate ARN (ELB, ELBv2) and ServerCertificateId (CloudFront); values: short labels.
 */
export interface CertificateUses {
  readonly byArn: ReadonlyMap<string, readonly string[]>;
  readonly byId: ReadonlyMap<string, readonly string[]>;
  /** How many listeners and distributions were read (the report says what was checked). */
  readonly checked: { readonly elbListeners: number; readonly elbv2Listeners: number; readonly distributions: number };
}

/** ELBv2 listeners whose certificate lists are read at the same time (DescribeListenerCertificates). */
const LISTENER_CONCURRENCY = 4;

/** Reads every place an IAM server certificate can be in use (see {@link CertificateUses}). */
export async function findCertificateUses(clients: EdgeReadClients): Promise<CertificateUses> {
  const byArn = new Map<string, string[]>();
  const byId = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, key: string | undefined, label: string) => {
    if (key) map.set(key, [...(map.get(key) ?? []), label]);
  };
  const checked = { elbListeners: 0, elbv2Listeners: 0, distributions: 0 };

  for await (const out of paginateDescribeLoadBalancers(pages(clients.elb), { PageSize: MAX_PAGE_SIZE.elbDescribeLoadBalancers })) {
    for (const lb of out.LoadBalancerDescriptions ?? []) {
      for (const d of lb.ListenerDescriptions ?? []) {
        checked.elbListeners += 1;
        add(byArn, d.Listener?.SSLCertificateId, `ELB ${lb.LoadBalancerName ?? '?'}:${d.Listener?.LoadBalancerPort ?? '?'}`);
      }
    }
  }

  const paging = pages(clients.elbv2);
  const PageSize = MAX_PAGE_SIZE.elbv2;
  const listeners: Array<{ arn: string; label: string }> = [];
  for await (const out of paginateDescribeV2LoadBalancers(paging, { PageSize })) {
    for (const lb of out.LoadBalancers ?? []) {
      for await (const ls of paginateDescribeListeners(paging, { LoadBalancerArn: lb.LoadBalancerArn, PageSize })) {
        for (const l of ls.Listeners ?? []) {
          checked.elbv2Listeners += 1;
          // Only HTTPS and TLS listeners hold certificates; the default is in the list below too.
          if (l.ListenerArn && (l.Protocol === 'HTTPS' || l.Protocol === 'TLS')) {
            listeners.push({ arn: l.ListenerArn, label: `ELBv2 ${lb.LoadBalancerName ?? '?'}:${l.Port ?? '?'}` });
          }
        }
      }
    }
  }
  await forEachLimited(listeners, LISTENER_CONCURRENCY, async (l) => {
    for await (const certs of paginateDescribeListenerCertificates(paging, { ListenerArn: l.arn, PageSize })) {
      for (const c of certs.Certificates ?? []) add(byArn, c.CertificateArn, c.IsDefault ? l.label : `${l.label} (SNI)`);
    }
  });

  for await (const out of paginateListDistributions(pages(clients.cloudfront, MAX_PAGE_SIZE.cloudfrontListDistributions), {})) {
    for (const d of out.DistributionList?.Items ?? []) {
      checked.distributions += 1;
      add(byId, d.ViewerCertificate?.IAMCertificateId, `CloudFront ${d.Id ?? '?'}`);
    }
  }
  return { byArn, byId, checked };
}

/** Runs `fn` over `items`, at most `limit` at a time; the first error rejects once all started work settled. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      await fn(item);
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, worker));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
