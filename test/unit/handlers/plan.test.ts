import { CloudFrontClient, ListDistributionsCommand, type DistributionSummary } from '@aws-sdk/client-cloudfront';
import { DescribeInstancesCommand, EC2Client, type Filter, type Instance } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeListenerCertificatesCommand,
  DescribeListenersCommand,
  DescribeLoadBalancersCommand as DescribeV2LoadBalancersCommand,
  ElasticLoadBalancingV2Client,
  type Certificate,
  type Listener,
  type LoadBalancer,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeInstanceInformationCommand, SSMClient, type InstanceInformationStringFilter } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { discoveryKey, matchesSelector, planRotation, type PlanDocument, type PlanParams } from '../../../lambdas/plan/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { NodesUnavailable, TargetNotFound } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { targetKey } from '../../../lambdas/shared/targets';
import { createInMemoryS3 } from '../../support/handler-s3';
import {
  albDefaultTarget,
  albSniTarget,
  caught,
  distributionTarget,
  OLD_ARN,
  OLD_ID,
  THIRD_ARN,
  THIRD_ID,
  webappTarget,
  settle,
} from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const PLAN_KEY = `executions/${EXECUTION}/plan.json`;

const s3 = createInMemoryS3();
const elbMock = mockClient(ElasticLoadBalancingClient);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const cloudfrontMock = mockClient(CloudFrontClient);
const ec2Mock = mockClient(EC2Client);
const ssmMock = mockClient(SSMClient);
/** SSM ping status by instance id, over the default (every instance of the estate Online); `none`: not managed by SSM. */
let managed: Map<string, string>;
const pingOf = (id: string) => managed.get(id) ?? (instances.some((i) => i.id === id) ? 'Online' : 'none');

// ------------------------------------------------------------------------------------------------
// A small simulated estate; every list API returns small pages so that pagination is exercised.
// ------------------------------------------------------------------------------------------------

interface V2Lb {
  readonly lb: LoadBalancer;
  readonly listeners: ReadonlyArray<{ readonly listener: Listener; readonly certificates: readonly Certificate[] }>;
}

let classic: LoadBalancerDescription[];
let v2: V2Lb[];
let distributions: DistributionSummary[];
let instances: Array<{ id: string; tags: Record<string, string>; state: 'running' | 'stopped' }>;

function page<T>(items: readonly T[], token: string | undefined, size: number): { items: T[]; next?: string } {
  const start = token ? Number(token) : 0;
  const next = start + size < items.length ? String(start + size) : undefined;
  return { items: items.slice(start, start + size), ...(next ? { next } : {}) };
}

function classicLb(name: string, listeners: Array<[protocol: string, port: number, cert?: string]>): LoadBalancerDescription {
  return {
    LoadBalancerName: name,
    DNSName: `${name}-1.eu-west-1.elb.amazonaws.com`,
    ListenerDescriptions: listeners.map(([Protocol, LoadBalancerPort, SSLCertificateId]) => ({
      Listener: {
        Protocol,
        LoadBalancerPort,
        InstanceProtocol: 'TCP',
        InstancePort: LoadBalancerPort,
        ...(SSLCertificateId ? { SSLCertificateId } : {}),
      },
    })),
  };
}

function matchesFilters(i: (typeof instances)[number], filters: Filter[] | undefined): boolean {
  return (filters ?? []).every((f) => {
    if (f.Name === 'instance-state-name') return (f.Values ?? []).includes(i.state);
    if (f.Name?.startsWith('tag:')) return (f.Values ?? []).includes(i.tags[f.Name.slice(4)] ?? '\u0000');
    throw new Error(`filter ${f.Name} not simulated`);
  });
}

function installFakes(): void {
  elbMock.on(DescribeLoadBalancersCommand).callsFake(
    settle((input: { Marker?: string }) => {
      const p = page(classic, input.Marker, 2);
      return { LoadBalancerDescriptions: p.items, ...(p.next ? { NextMarker: p.next } : {}) };
    }),
  );
  elbv2Mock.on(DescribeV2LoadBalancersCommand).callsFake(
    settle((input: { Marker?: string }) => {
      const p = page(
        v2.map((x) => x.lb),
        input.Marker,
        1,
      );
      return { LoadBalancers: p.items, ...(p.next ? { NextMarker: p.next } : {}) };
    }),
  );
  elbv2Mock.on(DescribeListenersCommand).callsFake(
    settle((input: { LoadBalancerArn?: string; Marker?: string }) => {
      const lb = v2.find((x) => x.lb.LoadBalancerArn === input.LoadBalancerArn);
      if (!lb) throw new Error(`unknown load balancer ${input.LoadBalancerArn}`);
      const p = page(
        lb.listeners.map((l) => l.listener),
        input.Marker,
        1,
      );
      return { Listeners: p.items, ...(p.next ? { NextMarker: p.next } : {}) };
    }),
  );
  elbv2Mock.on(DescribeListenerCertificatesCommand).callsFake(
    settle((input: { ListenerArn?: string; Marker?: string }) => {
      const l = v2.flatMap((x) => x.listeners).find((x) => x.listener.ListenerArn === input.ListenerArn);
      if (!l) throw new Error(`unknown listener ${input.ListenerArn}`);
      const p = page(l.certificates, input.Marker, 1);
      return { Certificates: p.items, ...(p.next ? { NextMarker: p.next } : {}) };
    }),
  );
  cloudfrontMock.on(ListDistributionsCommand).callsFake(
    settle((input: { Marker?: string }) => {
      const p = page(distributions, input.Marker, 1);
      return {
        DistributionList: {
          Marker: input.Marker ?? '',
          MaxItems: 1,
          Quantity: p.items.length,
          IsTruncated: p.next !== undefined,
          ...(p.next ? { NextMarker: p.next } : {}),
          Items: p.items,
        },
      };
    }),
  );
  ec2Mock.on(DescribeInstancesCommand).callsFake(
    settle((input: { Filters?: Filter[]; InstanceIds?: string[]; NextToken?: string }) => {
      const matching = instances
        .filter((i) => !input.InstanceIds || input.InstanceIds.includes(i.id))
        .filter((i) => matchesFilters(i, input.Filters));
      const p = page(matching, input.NextToken, 1);
      const reservation = {
        Instances: p.items.map<Instance>((i) => ({
          InstanceId: i.id,
          PrivateIpAddress: `10.0.0.${instances.indexOf(i) + 1}`,
          Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
        })),
      };
      return { Reservations: [reservation], ...(p.next ? { NextToken: p.next } : {}) };
    }),
  );
}

function v2Listener(lbName: string, id: string, protocol: string, port: number, certificates: Certificate[]) {
  return {
    listener: {
      ListenerArn: `arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/${lbName}/50dc6c495c0c9188/${id}`,
      Protocol: protocol,
      Port: port,
    } as Listener,
    certificates,
  };
}

function defaultEstate(): void {
  classic = [
    classicLb('apps-servers-elb-prod', [
      ['HTTP', 80],
      ['HTTPS', 443, OLD_ARN],
      ['SSL', 6667, OLD_ARN],
    ]),
    classicLb('legacy-elb', [['HTTPS', 443, THIRD_ARN]]),
    classicLb('webapp-elb-prod', [['HTTPS', 443, OLD_ARN]]),
  ];
  v2 = [
    {
      lb: { LoadBalancerName: 'api-alb', LoadBalancerArn: 'arn:alb/api-alb', DNSName: albDefaultTarget.dnsName },
      listeners: [
        // default + an unrelated SNI certificate on the second page of certificates
        {
          listener: { ...v2Listener('api-alb', 'x', 'HTTPS', 443, []).listener, ListenerArn: albDefaultTarget.listenerArn },
          certificates: [
            { CertificateArn: OLD_ARN, IsDefault: true },
            { CertificateArn: THIRD_ARN, IsDefault: false },
          ],
        },
        v2Listener('api-alb', 'http', 'HTTP', 80, []),
        // the current certificate as an SNI certificate, third on the list
        {
          listener: { ...v2Listener('api-alb', 'y', 'HTTPS', 8443, []).listener, ListenerArn: albSniTarget.listenerArn },
          certificates: [
            { CertificateArn: THIRD_ARN, IsDefault: true },
            { CertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/x', IsDefault: false },
            { CertificateArn: OLD_ARN, IsDefault: false },
          ],
        },
      ],
    },
    {
      lb: { LoadBalancerName: 'irc-nlb', LoadBalancerArn: 'arn:nlb/irc-nlb', DNSName: 'irc-nlb.elb.amazonaws.com' },
      listeners: [
        v2Listener('irc-nlb', 'tls', 'TLS', 6697, [{ CertificateArn: THIRD_ARN, IsDefault: true }]),
        v2Listener('irc-nlb', 'tcp', 'TCP', 6667, []),
      ],
    },
  ];
  distributions = [
    {
      Id: 'EOTHER',
      DomainName: 'dother.cloudfront.net',
      Aliases: { Quantity: 1, Items: ['other.gitter.im'] },
      ViewerCertificate: { IAMCertificateId: THIRD_ID },
    } as DistributionSummary,
    {
      Id: distributionTarget.distributionId,
      DomainName: distributionTarget.domainName,
      Aliases: { Quantity: 1, Items: ['cdn.gitter.im'] },
      ViewerCertificate: { IAMCertificateId: OLD_ID },
    } as DistributionSummary,
    {
      Id: 'EDEFAULTCERT',
      DomainName: 'ddefault.cloudfront.net',
      ViewerCertificate: { CloudFrontDefaultCertificate: true },
    } as DistributionSummary,
    { Id: 'ENOALIAS', DomainName: 'dnoalias.cloudfront.net', ViewerCertificate: { IAMCertificateId: OLD_ID } } as DistributionSummary,
  ];
  instances = [
    { id: 'i-beta01', tags: { Name: 'beta-01', Env: 'beta' }, state: 'running' },
    { id: 'i-ws01', tags: { Name: 'ws-01', Env: 'prod' }, state: 'running' },
    { id: 'i-ws02', tags: { Name: 'ws-02', Env: 'prod' }, state: 'running' },
    { id: 'i-webapp01', tags: { Name: 'webapp-01', Env: 'prod' }, state: 'running' },
    { id: 'i-ws03', tags: { Name: 'ws-03', Env: 'prod' }, state: 'stopped' },
  ];
}

const NODE_PHASES: PlanParams['nodePhases'] = [
  { name: 'beta', targets: { tags: { Env: ['beta'] } } },
  { name: 'prod-canary', targets: { tags: { Name: ['ws-01'] } } },
  { name: 'prod', targets: { tags: { Env: ['prod'] } } },
];

beforeEach(() => {
  s3.reset();
  elbMock.reset();
  elbv2Mock.reset();
  cloudfrontMock.reset();
  ec2Mock.reset();
  ssmMock.reset();
  defaultEstate();
  installFakes();
  managed = new Map();
  // DescribeInstanceInformation as AWS answers it: the managed ones of the filtered ids, pages of MaxResults.
  ssmMock.on(DescribeInstanceInformationCommand).callsFake(
    settle((input: { Filters?: InstanceInformationStringFilter[]; MaxResults?: number; NextToken?: string }) => {
      const ids = input.Filters?.find((f) => f.Key === 'InstanceIds')?.Values ?? instances.map((i) => i.id);
      const found = ids.filter((id) => pingOf(id) !== 'none').map((id) => ({ InstanceId: id, PingStatus: pingOf(id) as 'Online' }));
      const p = page(found, input.NextToken, 2);
      return { InstanceInformationList: p.items, ...(p.next ? { NextToken: p.next } : {}) };
    }),
  );
});

function makeParams(overrides: Partial<PlanParams> = {}): PlanParams {
  return {
    elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
    elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
    cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    ec2: new EC2Client({ region: 'eu-west-1' }),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    unavailableNodes: 'refuse',
    store: new ArtifactStore(s3.client, ARTIFACTS),
    logger: silentLogger,
    executionName: EXECUTION,
    current: { arn: OLD_ARN, id: OLD_ID },
    canary: { loadBalancerName: 'apps-servers-elb-prod', port: 6667 },
    edge: { include: [], exclude: [] },
    nodePhases: NODE_PHASES,
    ...overrides,
  };
}

const planDoc = () => s3.json<PlanDocument>(ARTIFACTS, PLAN_KEY);

describe('planRotation: edge discovery', () => {
  test('finds every classic, ELBv2 (default and SNI) listener and CloudFront distribution serving the current certificate', async () => {
    // Arrange (default estate)

    // Act
    const summary = await planRotation(makeParams());

    // Assert
    const doc = planDoc()!;
    expect(doc.canary).toEqual({
      kind: 'elb',
      loadBalancerName: 'apps-servers-elb-prod',
      port: 6667,
      dnsName: 'apps-servers-elb-prod-1.eu-west-1.elb.amazonaws.com',
    });
    expect(doc.edge.map(targetKey).sort()).toEqual(
      [
        'elb/apps-servers-elb-prod/443',
        'elb/webapp-elb-prod/443',
        'elbv2/api-alb/443/default',
        'elbv2/api-alb/8443/sni',
        `cloudfront/${distributionTarget.distributionId}`,
        'cloudfront/ENOALIAS',
      ].sort(),
    );
    expect(doc.edge).toEqual(
      expect.arrayContaining([
        { ...webappTarget, dnsName: 'webapp-elb-prod-1.eu-west-1.elb.amazonaws.com' },
        albDefaultTarget,
        albSniTarget,
        distributionTarget,
        { kind: 'cloudfront', distributionId: 'ENOALIAS', domainName: 'dnoalias.cloudfront.net', aliases: [] },
      ]),
    );
    expect(doc.current).toEqual({ arn: OLD_ARN, id: OLD_ID });
    expect(summary).toMatchObject({
      planKey: PLAN_KEY,
      counts: { canary: 1, elb: 2, elbv2: 2, cloudfront: 2 },
      truncated: false,
    });
    expect(summary.edgeNames).toHaveLength(6);
    expect(summary.edgeNames).toEqual(
      expect.arrayContaining(['ELB webapp-elb-prod:443', 'ELBv2 api-alb:8443 (SNI)', 'CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)']),
    );
  });

  test('the canary listener is kept apart from the edge, and listeners serving other certificates are left out', async () => {
    // Arrange (default estate)

    // Act
    const summary = await planRotation(makeParams());

    // Assert
    const keys = planDoc()!.edge.map(targetKey);
    expect(keys).not.toContain('elb/apps-servers-elb-prod/6667');
    expect(keys).not.toContain('elb/legacy-elb/443');
    expect(keys).not.toContain('cloudfront/EOTHER');
    expect(keys.some((k) => k.startsWith('elbv2/irc-nlb'))).toBe(false);
    expect(summary.edgeNames.some((n) => n.includes('6667'))).toBe(false);
  });

  test('follows pagination on every level (classic, ELBv2 load balancers, listeners, certificates, distributions)', async () => {
    // Arrange (default estate: classic pages of 2, everything else pages of 1)

    // Act
    await planRotation(makeParams());

    // Assert
    expect(elbMock.commandCalls(DescribeLoadBalancersCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, '2']);
    expect(elbv2Mock.commandCalls(DescribeV2LoadBalancersCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, '1']);
    const listenerCalls = elbv2Mock
      .commandCalls(DescribeListenersCommand)
      .map((c) => `${c.args[0].input.LoadBalancerArn}@${c.args[0].input.Marker ?? ''}`);
    expect(listenerCalls).toEqual(['arn:alb/api-alb@', 'arn:alb/api-alb@1', 'arn:alb/api-alb@2', 'arn:nlb/irc-nlb@', 'arn:nlb/irc-nlb@1']);
    const certCalls = elbv2Mock.commandCalls(DescribeListenerCertificatesCommand).map((c) => c.args[0].input);
    expect(certCalls.filter((i) => i.ListenerArn === albSniTarget.listenerArn).map((i) => i.Marker)).toEqual([undefined, '1', '2']);
    // Only HTTPS/TLS listeners have certificates to list
    expect(certCalls.some((i) => /\/(http|tcp)$/.test(i.ListenerArn ?? ''))).toBe(false);
    expect(cloudfrontMock.commandCalls(ListDistributionsCommand).map((c) => c.args[0].input.Marker)).toEqual([undefined, '1', '2', '3']);
  });

  test('asks for the largest page every API allows (fewest calls, fewest chances to be throttled)', async () => {
    // Arrange (default estate)

    // Act
    await planRotation(makeParams());

    // Assert
    const sizes = (calls: Array<{ args: [{ input: object }] }>, field: string) =>
      new Set(calls.map((c) => (c.args[0].input as Record<string, unknown>)[field]));
    expect(sizes(elbMock.commandCalls(DescribeLoadBalancersCommand), 'PageSize')).toEqual(new Set([400]));
    expect(sizes(elbv2Mock.commandCalls(DescribeV2LoadBalancersCommand), 'PageSize')).toEqual(new Set([400]));
    expect(sizes(elbv2Mock.commandCalls(DescribeListenersCommand), 'PageSize')).toEqual(new Set([400]));
    expect(sizes(elbv2Mock.commandCalls(DescribeListenerCertificatesCommand), 'PageSize')).toEqual(new Set([400]));
    expect(sizes(cloudfrontMock.commandCalls(ListDistributionsCommand), 'MaxItems')).toEqual(new Set([100]));
    expect(sizes(ec2Mock.commandCalls(DescribeInstancesCommand), 'MaxResults')).toEqual(new Set([1000]));
  });

  test('DescribeInstances by instance id sends no MaxResults (EC2 refuses the two together)', async () => {
    // Arrange
    const nodePhases = [{ name: 'prod', targets: { instanceIds: ['i-ws01'] } }];

    // Act
    await planRotation(makeParams({ nodePhases }));

    // Assert
    const calls = ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((i) => i.InstanceIds !== undefined && i.MaxResults === undefined)).toBe(true);
  });

  test('a canary listener that does not serve the current certificate -> TargetNotFound naming it, and no plan is written', async () => {
    // Arrange
    classic[0] = classicLb('apps-servers-elb-prod', [
      ['HTTPS', 443, OLD_ARN],
      ['SSL', 6667, THIRD_ARN],
    ]);

    // Act
    const thrown = await caught(() => planRotation(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('apps-servers-elb-prod:6667');
    expect(thrown.message).toContain(OLD_ARN);
    expect(planDoc()).toBeUndefined();
  });
});

describe('planRotation: include / exclude', () => {
  test('include by load balancer name keeps only that load balancer', async () => {
    // Arrange
    const edge = { include: ['webapp-elb-prod'], exclude: [] };

    // Act
    const summary = await planRotation(makeParams({ edge }));

    // Assert
    expect(planDoc()!.edge.map(targetKey)).toEqual(['elb/webapp-elb-prod/443']);
    expect(summary.counts).toMatchObject({ elb: 1, elbv2: 0, cloudfront: 0 });
  });

  test('include accepts name:port, target keys, distribution ids and aliases', async () => {
    // Arrange
    const edge = { include: ['apps-servers-elb-prod:443', 'elbv2/api-alb/8443/sni', 'ENOALIAS', 'cdn.gitter.im'], exclude: [] };

    // Act
    await planRotation(makeParams({ edge }));

    // Assert
    expect(planDoc()!.edge.map(targetKey).sort()).toEqual(
      [
        'elb/apps-servers-elb-prod/443',
        'elbv2/api-alb/8443/sni',
        'cloudfront/ENOALIAS',
        `cloudfront/${distributionTarget.distributionId}`,
      ].sort(),
    );
  });

  test('exclude removes targets, and wins over include', async () => {
    // Arrange
    const edge = { include: ['api-alb', 'webapp-elb-prod'], exclude: ['api-alb:443', 'webapp-elb-prod'] };

    // Act
    await planRotation(makeParams({ edge }));

    // Assert
    expect(planDoc()!.edge.map(targetKey)).toEqual(['elbv2/api-alb/8443/sni']);
  });

  test('the canary is never part of the edge, even when included by name', async () => {
    // Arrange
    const edge = { include: ['apps-servers-elb-prod'], exclude: [] };

    // Act
    await planRotation(makeParams({ edge }));

    // Assert
    expect(planDoc()!.edge.map(targetKey)).toEqual(['elb/apps-servers-elb-prod/443']);
    expect(planDoc()!.canary.port).toBe(6667);
  });

  test('matchesSelector: each selector form matches its target and nothing else', () => {
    // Arrange / Act / Assert
    expect(matchesSelector(webappTarget, 'webapp-elb-prod')).toBe(true);
    expect(matchesSelector(webappTarget, 'webapp-elb-prod:443')).toBe(true);
    expect(matchesSelector(webappTarget, 'elb/webapp-elb-prod/443')).toBe(true);
    expect(matchesSelector(webappTarget, 'webapp-elb-prod:8443')).toBe(false);
    expect(matchesSelector(webappTarget, 'webapp-elb')).toBe(false);
    expect(matchesSelector(albSniTarget, 'api-alb:8443')).toBe(true);
    expect(matchesSelector(albSniTarget, 'elbv2/api-alb/8443/sni')).toBe(true);
    expect(matchesSelector(albSniTarget, 'elbv2/api-alb/8443/default')).toBe(false);
    expect(matchesSelector(distributionTarget, distributionTarget.distributionId)).toBe(true);
    expect(matchesSelector(distributionTarget, `cloudfront/${distributionTarget.distributionId}`)).toBe(true);
    expect(matchesSelector(distributionTarget, 'cdn.gitter.im')).toBe(true);
    expect(matchesSelector(distributionTarget, distributionTarget.domainName)).toBe(false);
  });
});

describe('planRotation: node phases', () => {
  test('each running instance belongs to the first phase that selects it: prod = Env=prod minus ws-01', async () => {
    // Arrange (default fleet: ws-03 is stopped)

    // Act
    const summary = await planRotation(makeParams());

    // Assert
    const phases = planDoc()!.nodePhases;
    expect(phases.map((p) => [p.name, p.nodes.map((n) => n.name)])).toEqual([
      ['beta', ['beta-01']],
      ['prod-canary', ['ws-01']],
      ['prod', ['webapp-01', 'ws-02']],
    ]);
    expect(phases[2].nodes[0]).toEqual({ kind: 'node', instanceId: 'i-webapp01', name: 'webapp-01', phase: 'prod', host: '10.0.0.4' });
    expect(summary.counts.nodes).toEqual({ beta: 1, 'prod-canary': 1, prod: 2 });
    expect(summary.nodeNames).toEqual({ beta: ['beta-01'], 'prod-canary': ['ws-01'], prod: ['webapp-01', 'ws-02'] });
    const filters = ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.Filters);
    expect(filters[0]).toEqual([
      { Name: 'tag:Env', Values: ['beta'] },
      { Name: 'instance-state-name', Values: ['running'] },
    ]);
  });

  test('phases by instance id work too, and pages of DescribeInstances are followed', async () => {
    // Arrange
    const nodePhases = [
      { name: 'prod-canary', targets: { instanceIds: ['i-ws02'] } },
      { name: 'prod', targets: { tags: { Env: ['prod'] } } },
    ];

    // Act
    await planRotation(makeParams({ nodePhases }));

    // Assert
    expect(planDoc()!.nodePhases.map((p) => p.nodes.map((n) => n.instanceId))).toEqual([['i-ws02'], ['i-webapp01', 'i-ws01']]);
    const tokens = ec2Mock.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.NextToken);
    expect(tokens).toEqual([undefined, undefined, '1', '2']);
  });
});

describe('planRotation: nodes SSM cannot reach', () => {
  test('by default a node not managed by SSM or not Online refuses the rotation, naming each with its phase and reason; no plan is written', async () => {
    // Arrange: ws-02 has no SSM Agent registered, webapp-01 lost its connection
    managed.set('i-ws02', 'none');
    managed.set('i-webapp01', 'ConnectionLost');

    // Act
    const error = await caught(() => planRotation(makeParams()));

    // Assert
    expect(error).toBeInstanceOf(NodesUnavailable);
    expect(error.name).toBe('NodesUnavailable');
    expect(error.message).toContain('ws-02 (i-ws02, phase prod): not managed by SSM');
    expect(error.message).toContain('webapp-01 (i-webapp01, phase prod): SSM ping status ConnectionLost');
    expect(error.message).toContain('Nothing was changed');
    expect(planDoc()).toBeUndefined();
  });

  test('with unavailableNodes "skip", they are left out of their phase and named in the plan and the summary (never silently)', async () => {
    // Arrange
    managed.set('i-ws02', 'Inactive');

    // Act
    const summary = await planRotation(makeParams({ unavailableNodes: 'skip' }));

    // Assert
    const prod = planDoc()!.nodePhases[2];
    expect(prod.nodes.map((n) => n.name)).toEqual(['webapp-01']);
    expect(prod.skipped).toEqual([{ instanceId: 'i-ws02', name: 'ws-02', phase: 'prod', reason: 'SSM ping status Inactive' }]);
    expect(summary.unavailableNodes).toEqual(['ws-02 (i-ws02, phase prod): SSM ping status Inactive']);
    expect(summary.unavailableCount).toBe(1);
    expect(summary.counts.nodes.prod).toBe(1);
  });

  test("asks SSM about each phase's own instances by id (at most 50 per filter), following pages", async () => {
    // Arrange: 120 prod instances
    instances = Array.from({ length: 120 }, (_, i) => ({
      id: `i-p${String(i).padStart(3, '0')}`,
      tags: { Name: `p-${i}`, Env: 'prod' },
      state: 'running' as const,
    }));

    // Act
    const summary = await planRotation(makeParams({ nodePhases: [{ name: 'prod', targets: { tags: { Env: ['prod'] } } }] }));

    // Assert
    const inputs = ssmMock.commandCalls(DescribeInstanceInformationCommand).map((c) => c.args[0].input);
    const chunks = inputs.filter((i) => i.NextToken === undefined).map((i) => i.Filters?.[0].Values ?? []);
    expect(chunks.map((c) => c.length)).toEqual([50, 50, 20]);
    expect(inputs.every((i) => i.MaxResults === 50 && i.Filters?.[0].Key === 'InstanceIds')).toBe(true);
    expect(inputs.some((i) => i.NextToken !== undefined)).toBe(true);
    expect(summary.counts.nodes.prod).toBe(120);
  });
});

describe('planRotation: the plan document and a bounded summary', () => {
  test('more than 25 targets: the document in S3 has them all, the summary at most 25 names and truncated=true', async () => {
    // Arrange
    classic = [
      classicLb('apps-servers-elb-prod', [['SSL', 6667, OLD_ARN]]),
      ...Array.from({ length: 300 }, (_, i) => classicLb(`web-${String(i).padStart(3, '0')}`, [['HTTPS', 443, OLD_ARN]])),
    ];
    v2 = [];
    distributions = [];
    instances = Array.from({ length: 40 }, (_, i) => ({
      id: `i-${i}`,
      tags: { Name: `ws-${String(i).padStart(2, '0')}`, Env: 'prod' },
      state: 'running' as const,
    }));
    const nodePhases = [{ name: 'prod', targets: { tags: { Env: ['prod'] } } }];

    // Act
    const summary = await planRotation(makeParams({ nodePhases }));

    // Assert
    expect(planDoc()!.edge).toHaveLength(300);
    expect(planDoc()!.nodePhases[0].nodes).toHaveLength(40);
    expect(summary.counts.elb).toBe(300);
    expect(summary.counts.nodes).toEqual({ prod: 40 });
    expect(summary.edgeNames).toHaveLength(25);
    expect(summary.nodeNames['prod']).toHaveLength(25);
    expect(summary.truncated).toBe(true);
    expect(JSON.stringify(summary).length).toBeLessThan(4096);
  });

  test('exactly 25 edge targets is not truncated', async () => {
    // Arrange
    classic = [
      classicLb('apps-servers-elb-prod', [['SSL', 6667, OLD_ARN]]),
      ...Array.from({ length: 25 }, (_, i) => classicLb(`web-${i}`, [['HTTPS', 443, OLD_ARN]])),
    ];
    v2 = [];
    distributions = [];

    // Act
    const summary = await planRotation(makeParams({ nodePhases: [] }));

    // Assert
    expect(summary.edgeNames).toHaveLength(25);
    expect(summary.truncated).toBe(false);
  });

  test('the plan is written once, as JSON, at executions/<name>/plan.json', async () => {
    // Arrange (default estate)

    // Act
    await planRotation(makeParams());

    // Assert
    expect(s3.keys(ARTIFACTS).filter((k) => !k.includes('/discovery/'))).toEqual([PLAN_KEY]);
    const doc = planDoc()!;
    expect(Number.isNaN(Date.parse(doc.createdAt))).toBe(false);
    expect(Object.keys(doc).sort()).toEqual(['canary', 'createdAt', 'current', 'edge', 'nodePhases']);
  });
});

describe('planRotation: a retry resumes discovery', () => {
  test('each discovery step is kept under executions/<name>/discovery/ as soon as it is done', async () => {
    // Arrange (default estate)

    // Act
    await planRotation(makeParams());

    // Assert
    expect(s3.keys(ARTIFACTS, `executions/${EXECUTION}/discovery/`)).toEqual(
      ['cloudfront', 'elb', 'elbv2', 'nodes-beta', 'nodes-prod', 'nodes-prod-canary', 'ssm-beta', 'ssm-prod', 'ssm-prod-canary']
        .map((step) => discoveryKey(EXECUTION, step))
        .sort(),
    );
    const elb = JSON.parse(s3.text(ARTIFACTS, discoveryKey(EXECUTION, 'elb'))!) as { current: unknown; found: unknown[] };
    expect(elb.current).toEqual({ arn: OLD_ARN, id: OLD_ID });
    expect(elb.found).toHaveLength(3);
  });

  test('after a failed attempt, the retry asks AWS only for the steps that had not finished', async () => {
    // Arrange: CloudFront stays throttled through the first attempt (the SDK's retries are spent)
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    cloudfrontMock.on(ListDistributionsCommand).rejects(throttled);
    await caught(() => planRotation(makeParams()));
    const before = {
      elb: elbMock.commandCalls(DescribeLoadBalancersCommand).length,
      elbv2: elbv2Mock.commandCalls(DescribeListenerCertificatesCommand).length,
    };
    cloudfrontMock.reset();
    installFakes();

    // Act
    const summary = await planRotation(makeParams());

    // Assert
    expect(before.elb).toBeGreaterThan(0);
    expect(elbMock.commandCalls(DescribeLoadBalancersCommand)).toHaveLength(before.elb);
    expect(elbv2Mock.commandCalls(DescribeListenerCertificatesCommand)).toHaveLength(before.elbv2);
    expect(cloudfrontMock.commandCalls(ListDistributionsCommand).length).toBeGreaterThan(0);
    expect(summary.counts).toMatchObject({ elb: 2, cloudfront: 2 });
    expect(planDoc()!.edge.map(targetKey)).toContain(targetKey(distributionTarget));
  });

  test('a stored step for another current certificate is not reused', async () => {
    // Arrange: an earlier execution attempt saw a different current certificate
    await planRotation(makeParams({ current: { arn: THIRD_ARN, id: THIRD_ID }, canary: { loadBalancerName: 'legacy-elb', port: 443 } }));
    const calls = elbMock.commandCalls(DescribeLoadBalancersCommand).length;

    // Act
    await planRotation(makeParams());

    // Assert
    expect(elbMock.commandCalls(DescribeLoadBalancersCommand).length).toBeGreaterThan(calls);
    expect(planDoc()!.current).toEqual({ arn: OLD_ARN, id: OLD_ID });
  });
});
