import { CloudFrontClient, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { DescribeLoadBalancersCommand as DescribeClassicCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand as DescribeV2Command,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import type { EdgeReadClients } from '../../lambdas/shared/certificate-uses';
import { settle } from './handler-support';

/**
 * Fakes of the edge reads that prove an IAM certificate unused (upload's quota message, prune):
 * classic ELB listeners, ELBv2 listeners with their full certificate lists (default and SNI,
 * served only by DescribeListenerCertificates, paged in twos so pagination is exercised) and
 * CloudFront distributions. Call {@link EdgeFake.reset} in beforeEach.
 */
export interface EdgeSpec {
  /** Classic ELB listeners: `name:port` -> certificate ARN. */
  readonly elb?: Readonly<Record<string, string>>;
  /** ELBv2 listeners: `name:port` -> certificate ARNs, the first one the default. */
  readonly elbv2?: Readonly<Record<string, readonly string[]>>;
  /** CloudFront: distribution id -> IAM ServerCertificateId. */
  readonly cloudfront?: Readonly<Record<string, string>>;
}

const elbMock = mockClient(ElasticLoadBalancingClient);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const cloudfrontMock = mockClient(CloudFrontClient);

export const edgeClients = (): EdgeReadClients => ({
  elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
  elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
  cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
});

export const EdgeFake = {
  mocks: { elb: elbMock, elbv2: elbv2Mock, cloudfront: cloudfrontMock },

  reset(spec: EdgeSpec = {}): void {
    elbMock.reset();
    elbv2Mock.reset();
    cloudfrontMock.reset();
    const byLb = <T>(entries: Record<string, T>) => {
      const lbs = new Map<string, Array<{ port: number; value: T }>>();
      for (const [k, value] of Object.entries(entries)) {
        const [name, port] = k.split(':');
        lbs.set(name, [...(lbs.get(name) ?? []), { port: Number(port), value }]);
      }
      return lbs;
    };
    const classic = byLb(spec.elb ?? {});
    elbMock.on(DescribeClassicCommand).callsFake(
      settle(() => ({
        LoadBalancerDescriptions: [...classic].map(([name, ls]) => ({
          LoadBalancerName: name,
          ListenerDescriptions: ls.map((l) => ({
            Listener: { Protocol: 'SSL', LoadBalancerPort: l.port, InstanceProtocol: 'TCP', InstancePort: 1, SSLCertificateId: l.value },
          })),
        })),
      })),
    );
    const v2 = byLb(spec.elbv2 ?? {});
    const lbArn = (name: string) => `arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/${name}/1`;
    const listenerArn = (name: string, port: number) =>
      `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/${name}/1/${port}`;
    elbv2Mock
      .on(DescribeV2Command)
      .callsFake(
        settle(() => ({ LoadBalancers: [...v2.keys()].map((name) => ({ LoadBalancerName: name, LoadBalancerArn: lbArn(name) })) })),
      );
    elbv2Mock.on(DescribeListenersCommand).callsFake(
      settle((input: { LoadBalancerArn?: string }) => {
        const name = [...v2.keys()].find((n) => lbArn(n) === input.LoadBalancerArn) ?? '';
        // DescribeListeners shows only the default certificate.
        return {
          Listeners: (v2.get(name) ?? []).map((l) => ({
            ListenerArn: listenerArn(name, l.port),
            Port: l.port,
            Protocol: 'HTTPS',
            Certificates: [{ CertificateArn: l.value[0] }],
          })),
        };
      }),
    );
    elbv2Mock.on(DescribeListenerCertificatesCommand).callsFake(
      settle((input: { ListenerArn?: string; Marker?: string }) => {
        const all = [...v2].flatMap(([name, ls]) =>
          ls.filter((l) => listenerArn(name, l.port) === input.ListenerArn).flatMap((l) => l.value.map((arn, i) => ({ arn, i }))),
        );
        const start = Number(input.Marker ?? '0');
        const page = all.slice(start, start + 2);
        return {
          Certificates: page.map((c) => ({ CertificateArn: c.arn, IsDefault: c.i === 0 })),
          ...(start + 2 < all.length ? { NextMarker: String(start + 2) } : {}),
        };
      }),
    );
    const distributions = Object.entries(spec.cloudfront ?? {});
    cloudfrontMock.on(ListDistributionsCommand).callsFake(
      settle(() => ({
        DistributionList: {
          Items: distributions.map(([id, iamId]) => ({ Id: id, ViewerCertificate: { IAMCertificateId: iamId } })),
          IsTruncated: false,
          Quantity: distributions.length,
          MaxItems: 100,
          Marker: '',
        },
      })),
    );
  },
};
