import {
  GetDistributionConfigCommand,
  UpdateDistributionCommand,
  type DistributionConfig,
  type ViewerCertificate,
} from '@aws-sdk/client-cloudfront';
import {
  paginateDescribeLoadBalancers,
  SetLoadBalancerListenerSSLCertificateCommand,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  AddListenerCertificatesCommand,
  DescribeListenersCommand,
  ModifyListenerCommand,
  paginateDescribeListenerCertificates,
  RemoveListenerCertificatesCommand,
  type ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { MAX_PAGE_SIZE, pages } from './aws-clients';
import { awsErrorName } from './aws-errors';
import { AwsTransient, TargetNotFound } from './errors';
import {
  CLOUDFRONT_ETAG_ATTEMPTS,
  classifyTargetError,
  describeClassicElb,
  exactViewerCertificate,
  type EdgeClients,
  type TargetState,
} from './target-ops';
import { targetLabel, type EdgeTarget } from './targets';

/**
 * Observing and switching one edge target exactly, for the edge rollout (and the rollback that
 * undoes it). Observe reads the target's full certificate state (what the ledger records as the
 * prior state); apply changes only the certificate that served `from`:
 *  - classic ELB: the listener's SSLCertificateId;
 *  - ELBv2 default: ModifyListener with the one default certificate;
 *  - ELBv2 SNI: AddListenerCertificates(to), then RemoveListenerCertificates(from); every other
 *    certificate of the list stays;
 *  - CloudFront: the complete config read with GetDistributionConfig, with only
 *    ViewerCertificate.IAMCertificateId changed (and the deprecated `Certificate` field when it
 *    mirrors it), sent with IfMatch; a PreconditionFailed re-reads and tries again.
 */

/** What a target was configured with before the rotation touched it (the ledger keeps it). */
export type PriorState =
  | { readonly kind: 'elb'; readonly sslCertificateId: string }
  | { readonly kind: 'elbv2'; readonly certificates: ReadonlyArray<{ readonly arn: string; readonly isDefault: boolean }> }
  | { readonly kind: 'cloudfront'; readonly viewerCertificate: ViewerCertificate };

export interface Observation {
  readonly state: TargetState;
  /** The value compared: the listener's certificate, the SNI list joined, the IAMCertificateId. */
  readonly value: string;
  readonly prior: PriorState;
  /** CloudFront: the config and its ETag as read (UpdateDistribution sends them back). */
  readonly distribution?: { readonly config: DistributionConfig; readonly etag: string };
}

/** Classic ELB DescribeLoadBalancers takes this many names per call. */
const CLASSIC_NAMES_PER_CALL = 20;

/** Every listener certificate of these classic ELBs, by `name:port`, in calls of up to 20 names. */
export async function describeClassicCertificates(clients: EdgeClients, names: readonly string[]): Promise<Map<string, string>> {
  const unique = [...new Set(names)];
  const out = new Map<string, string>();
  for (let i = 0; i < unique.length; i += CLASSIC_NAMES_PER_CALL) {
    const chunk = unique.slice(i, i + CLASSIC_NAMES_PER_CALL);
    const described: LoadBalancerDescription[] = [];
    try {
      for await (const out of paginateDescribeLoadBalancers(pages(clients.elb), {
        LoadBalancerNames: chunk,
        PageSize: MAX_PAGE_SIZE.elbDescribeLoadBalancers,
      })) {
        described.push(...(out.LoadBalancerDescriptions ?? []));
      }
    } catch (error) {
      if (awsErrorName(error) !== 'AccessPointNotFoundException') throw error;
      // One of them is gone: describe them one by one, so the error names it.
      described.push(...(await Promise.all(chunk.map((n) => describeClassicElb(clients.elb, n)))));
    }
    for (const lb of described) {
      for (const d of lb.ListenerDescriptions ?? []) {
        const l = d.Listener;
        if (lb.LoadBalancerName && l?.LoadBalancerPort !== undefined)
          out.set(`${lb.LoadBalancerName}:${l.LoadBalancerPort}`, l.SSLCertificateId ?? '');
      }
    }
  }
  return out;
}

/** The full certificate list of an ELBv2 listener (DescribeListeners shows only the default). */
export async function listenerCertificates(
  elbv2: ElasticLoadBalancingV2Client,
  listenerArn: string,
): Promise<Array<{ arn: string; isDefault: boolean }>> {
  const certs: Array<{ arn: string; isDefault: boolean }> = [];
  for await (const out of paginateDescribeListenerCertificates(pages(elbv2), { ListenerArn: listenerArn, PageSize: MAX_PAGE_SIZE.elbv2 })) {
    for (const c of out.Certificates ?? []) if (c.CertificateArn) certs.push({ arn: c.CertificateArn, isDefault: c.IsDefault === true });
  }
  if (!certs.some((c) => c.isDefault)) {
    // A list without its default (some implementations leave it out): DescribeListeners names it.
    const ls = await elbv2.send(new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
    const def = ls.Listeners?.[0]?.Certificates?.[0]?.CertificateArn;
    if (def) certs.unshift({ arn: def, isDefault: true });
  }
  return certs;
}

/** Reads the target's full certificate state, and where it stands between `before` and `after`. */
export async function observe(
  clients: EdgeClients,
  target: EdgeTarget,
  before: string,
  after: string,
  classic?: ReadonlyMap<string, string>,
): Promise<Observation> {
  const classify = (value: string): TargetState => (value === after ? 'after' : value === before ? 'before' : 'other');
  try {
    switch (target.kind) {
      case 'elb': {
        const key = `${target.loadBalancerName}:${target.port}`;
        const value = (classic ?? (await describeClassicCertificates(clients, [target.loadBalancerName]))).get(key);
        if (value === undefined)
          throw new TargetNotFound(`classic load balancer ${target.loadBalancerName} has no listener on port ${target.port}`);
        return { state: classify(value), value, prior: { kind: 'elb', sslCertificateId: value } };
      }
      case 'elbv2': {
        const certificates = await listenerCertificates(clients.elbv2, target.listenerArn);
        const prior: PriorState = { kind: 'elbv2', certificates };
        if (target.role === 'default') {
          const value = certificates.find((c) => c.isDefault)?.arn ?? '';
          return { state: classify(value), value, prior };
        }
        const sni = certificates.filter((c) => !c.isDefault).map((c) => c.arn);
        const hasAfter = sni.includes(after);
        const hasBefore = sni.includes(before);
        const state: TargetState = hasAfter && hasBefore ? 'both' : hasAfter ? 'after' : hasBefore ? 'before' : 'other';
        return { state, value: sni.join(','), prior };
      }
      case 'cloudfront': {
        const out = await clients.cloudfront.send(new GetDistributionConfigCommand({ Id: target.distributionId }));
        const config = out.DistributionConfig;
        if (!config?.ViewerCertificate || !out.ETag) throw new TargetNotFound(`${targetLabel(target)} has no viewer certificate`);
        const value = config.ViewerCertificate.IAMCertificateId ?? '';
        return {
          state: classify(value),
          value,
          prior: { kind: 'cloudfront', viewerCertificate: config.ViewerCertificate },
          distribution: { config, etag: out.ETag },
        };
      }
    }
  } catch (error) {
    return classifyTargetError(target, error);
  }
}

/**
 * Switches the observed target from `from` to `to`, changing only what served `from`. Returns the
 * number of state-changing calls made. Safe to repeat: each step is made only if still needed.
 */
export async function apply(clients: EdgeClients, target: EdgeTarget, seen: Observation, from: string, to: string): Promise<number> {
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
        return 1;
      case 'elbv2': {
        if (target.role === 'default') {
          await clients.elbv2.send(new ModifyListenerCommand({ ListenerArn: target.listenerArn, Certificates: [{ CertificateArn: to }] }));
          return 1;
        }
        const sni = seen.prior.kind === 'elbv2' ? seen.prior.certificates.filter((c) => !c.isDefault).map((c) => c.arn) : [];
        let calls = 0;
        // Add first, so the names never lose their certificate; a retry after an interruption between the two completes it.
        if (!sni.includes(to)) {
          await clients.elbv2.send(
            new AddListenerCertificatesCommand({ ListenerArn: target.listenerArn, Certificates: [{ CertificateArn: to }] }),
          );
          calls += 1;
        }
        if (sni.includes(from)) {
          await clients.elbv2.send(
            new RemoveListenerCertificatesCommand({ ListenerArn: target.listenerArn, Certificates: [{ CertificateArn: from }] }),
          );
          calls += 1;
        }
        return calls;
      }
      case 'cloudfront': {
        let current = seen;
        for (let attempt = 1; ; attempt++) {
          const d = current.distribution;
          if (!d?.config.ViewerCertificate) throw new TargetNotFound(`${targetLabel(target)} has no viewer certificate`);
          if (current.state === 'after') return 0;
          if (current.state !== 'before') {
            throw new TargetNotFound(
              `${targetLabel(target)} now serves ${current.value || 'nothing'}, neither ${from} nor ${to}; someone else changed it, stopping`,
            );
          }
          const config: DistributionConfig = {
            ...d.config,
            ViewerCertificate: exactViewerCertificate(d.config.ViewerCertificate, from, to),
          };
          try {
            await clients.cloudfront.send(
              new UpdateDistributionCommand({ Id: target.distributionId, IfMatch: d.etag, DistributionConfig: config }),
            );
            return 1;
          } catch (error) {
            if (awsErrorName(error) !== 'PreconditionFailed') throw error;
            if (attempt >= CLOUDFRONT_ETAG_ATTEMPTS) {
              throw new AwsTransient(`${targetLabel(target)} kept changing while we updated it (ETag, ${attempt} attempts); retrying`);
            }
            // Someone changed it since we read it: read it again and decide again.
            current = await observe(clients, target, from, to);
          }
        }
      }
    }
  } catch (error) {
    return classifyTargetError(target, error);
  }
}
