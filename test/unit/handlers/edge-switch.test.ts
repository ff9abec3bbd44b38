import {
  CloudFrontClient,
  GetDistributionConfigCommand,
  PreconditionFailed,
  UpdateDistributionCommand,
  type DistributionConfig,
} from '@aws-sdk/client-cloudfront';
import {
  CertificateNotFoundException,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  SetLoadBalancerListenerSSLCertificateCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  AddListenerCertificatesCommand,
  DescribeListenerCertificatesCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  RemoveListenerCertificatesCommand,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { switchBatch, type EdgeSwitchParams } from '../../../lambdas/edge-switch/domain';
import type { PlanDocument } from '../../../lambdas/plan/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { CertificateNotPropagated } from '../../../lambdas/shared/errors';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import type { EdgeTarget } from '../../../lambdas/shared/targets';
import { createInMemoryS3 } from '../../support/handler-s3';
import {
  albDefaultTarget,
  albSniTarget,
  canaryTarget,
  caught,
  describeClassicFrom,
  distributionTarget,
  NEW_ARN,
  NEW_ID,
  OLD_ARN,
  OLD_ID,
  seedLedger,
  settle,
  THIRD_ARN,
  THIRD_ID,
  webappTarget,
} from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const OTHER_SNI = 'arn:aws:acm:eu-west-1:123456789012:certificate/unrelated-sni';

const s3 = createInMemoryS3();
const elbMock = mockClient(ElasticLoadBalancingClient);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const cloudfrontMock = mockClient(CloudFrontClient);

// A fake edge: what each target is configured with; every change is journaled in order.
const classicServes = new Map<string, string>();
const v2Default = new Map<string, string>();
const v2Sni = new Map<string, string[]>();
const cfConfigs = new Map<string, DistributionConfig>();
const cfEtags = new Map<string, number>();
let journal: string[];

/** A complete distribution config, with settings that must survive the switch. */
function distributionConfig(certificateId: string): DistributionConfig {
  return {
    CallerReference: 'ref-1',
    Aliases: { Quantity: 1, Items: ['cdn.gitter.im'] },
    Origins: { Quantity: 1, Items: [{ Id: 'o1', DomainName: 'origin.example.internal' }] },
    DefaultCacheBehavior: { TargetOriginId: 'o1', ViewerProtocolPolicy: 'redirect-to-https' },
    Comment: 'cdn',
    Enabled: true,
    PriceClass: 'PriceClass_100',
    WebACLId: 'acl-1',
    ViewerCertificate: {
      CloudFrontDefaultCertificate: false,
      IAMCertificateId: certificateId,
      Certificate: certificateId,
      CertificateSource: 'iam',
      SSLSupportMethod: 'vip',
      MinimumProtocolVersion: 'TLSv1.1_2016',
    },
  };
}

function installFakes(): void {
  elbMock.on(DescribeLoadBalancersCommand).callsFake(describeClassicFrom(classicServes));
  elbMock.on(SetLoadBalancerListenerSSLCertificateCommand).callsFake(
    settle((input: { LoadBalancerName?: string; LoadBalancerPort?: number; SSLCertificateId?: string }) => {
      classicServes.set(`${input.LoadBalancerName}:${input.LoadBalancerPort}`, input.SSLCertificateId ?? '');
      journal.push(`elb ${input.LoadBalancerName}:${input.LoadBalancerPort} <- ${input.SSLCertificateId}`);
      return {};
    }),
  );
  elbv2Mock.on(DescribeListenerCertificatesCommand).callsFake(
    settle((input: { ListenerArn?: string }) => {
      const arn = input.ListenerArn ?? '';
      const def = v2Default.get(arn);
      return {
        Certificates: [
          ...(def ? [{ CertificateArn: def, IsDefault: true }] : []),
          ...(v2Sni.get(arn) ?? []).map((c) => ({ CertificateArn: c, IsDefault: false })),
        ],
      };
    }),
  );
  elbv2Mock.on(ModifyListenerCommand).callsFake(
    settle((input: { ListenerArn?: string; Certificates?: Array<{ CertificateArn?: string }> }) => {
      v2Default.set(input.ListenerArn ?? '', input.Certificates?.[0]?.CertificateArn ?? '');
      journal.push(`modify ${input.Certificates?.map((c) => c.CertificateArn).join(',')}`);
      return {};
    }),
  );
  elbv2Mock.on(AddListenerCertificatesCommand).callsFake(
    settle((input: { ListenerArn?: string; Certificates?: Array<{ CertificateArn?: string }> }) => {
      v2Sni.set(input.ListenerArn ?? '', [...(v2Sni.get(input.ListenerArn ?? '') ?? []), input.Certificates?.[0]?.CertificateArn ?? '']);
      journal.push(`add ${input.Certificates?.[0]?.CertificateArn}`);
      return {};
    }),
  );
  elbv2Mock.on(RemoveListenerCertificatesCommand).callsFake(
    settle((input: { ListenerArn?: string; Certificates?: Array<{ CertificateArn?: string }> }) => {
      const gone = input.Certificates?.map((c) => c.CertificateArn) ?? [];
      v2Sni.set(
        input.ListenerArn ?? '',
        (v2Sni.get(input.ListenerArn ?? '') ?? []).filter((c) => !gone.includes(c)),
      );
      journal.push(`remove ${gone.join(',')}`);
      return {};
    }),
  );
  cloudfrontMock.on(GetDistributionConfigCommand).callsFake(
    settle((input: { Id?: string }) => ({
      ETag: `E${cfEtags.get(input.Id ?? '') ?? 0}`,
      DistributionConfig: structuredClone(cfConfigs.get(input.Id ?? '')),
    })),
  );
  cloudfrontMock.on(UpdateDistributionCommand).callsFake(
    settle((input: { Id?: string; IfMatch?: string; DistributionConfig?: DistributionConfig }) => {
      const id = input.Id ?? '';
      if (input.IfMatch !== `E${cfEtags.get(id) ?? 0}`) throw new PreconditionFailed({ message: 'ETag', $metadata: {} });
      cfConfigs.set(id, structuredClone(input.DistributionConfig!));
      cfEtags.set(id, (cfEtags.get(id) ?? 0) + 1);
      journal.push(`cloudfront ${id} <- ${input.DistributionConfig?.ViewerCertificate?.IAMCertificateId}`);
      return { ETag: `E${cfEtags.get(id)}` };
    }),
  );
}

const store = () => new ArtifactStore(s3.client, ARTIFACTS);
const ledger = () => new ChangeLedger(store(), EXECUTION);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 10, minute, 0));

async function writePlan(edge: EdgeTarget[]): Promise<void> {
  const plan: PlanDocument = {
    createdAt: at(0).toISOString(),
    current: { arn: OLD_ARN, id: OLD_ID },
    canary: canaryTarget,
    edge,
    nodePhases: [],
  };
  await store().putJson(ArtifactStore.planKey(EXECUTION), plan);
}

function makeParams(overrides: Partial<EdgeSwitchParams> = {}): EdgeSwitchParams {
  return {
    clients: {
      elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
      cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    },
    ledger: ledger(),
    store: store(),
    logger: silentLogger,
    executionName: EXECUTION,
    batch: { kind: 'elb', index: 0 },
    sizes: { elb: 100, elbv2: 100, cloudfront: 100 },
    concurrency: 4,
    current: { arn: OLD_ARN, id: OLD_ID, sha256: 'a'.repeat(64) },
    uploaded: { arn: NEW_ARN, id: NEW_ID },
    newSha256: 'b'.repeat(64),
    budgetSeconds: 600,
    now: () => at(30),
    ...overrides,
  };
}

beforeEach(() => {
  s3.reset();
  elbMock.reset();
  elbv2Mock.reset();
  cloudfrontMock.reset();
  classicServes.clear();
  v2Default.clear();
  v2Sni.clear();
  cfConfigs.clear();
  cfEtags.clear();
  journal = [];
  installFakes();
});

describe('edge switch: classic ELB', () => {
  test('every listener of the batch that serves the old certificate switches, ledger first with its prior state', async () => {
    // Arrange
    const second = { ...webappTarget, port: 8443 };
    classicServes.set('webapp-elb-prod:443', OLD_ARN);
    classicServes.set('webapp-elb-prod:8443', OLD_ARN);
    await writePlan([webappTarget, second]);

    // Act
    const result = await switchBatch(makeParams());

    // Assert
    expect(result).toMatchObject({ batch: 'elb-0', done: true, targets: 2, switched: 2, already: 0, leftAlone: 0 });
    expect(classicServes.get('webapp-elb-prod:443')).toBe(NEW_ARN);
    expect(classicServes.get('webapp-elb-prod:8443')).toBe(NEW_ARN);
    // Both listeners of one ELB were described in one call.
    expect(elbMock.commandCalls(DescribeLoadBalancersCommand)).toHaveLength(1);
    const entry = await ledger().get(webappTarget);
    expect(entry).toMatchObject({
      phase: 'edge',
      before: OLD_ARN,
      after: NEW_ARN,
      status: 'applied',
      prior: { kind: 'elb', sslCertificateId: OLD_ARN },
    });
  });

  test('a listener on an unrelated certificate is left alone: no ledger entry, no call', async () => {
    // Arrange
    classicServes.set('webapp-elb-prod:443', THIRD_ARN);
    await writePlan([webappTarget]);

    // Act
    const result = await switchBatch(makeParams());

    // Assert
    expect(result).toMatchObject({ switched: 0, leftAlone: 1 });
    expect(journal).toEqual([]);
    expect(await ledger().get(webappTarget)).toBeUndefined();
    expect(classicServes.get('webapp-elb-prod:443')).toBe(THIRD_ARN);
  });

  test('CertificateNotFound (IAM propagation) is CertificateNotPropagated, after the other targets were done', async () => {
    // Arrange
    const other = { ...webappTarget, loadBalancerName: 'ws-elb-prod' };
    classicServes.set('webapp-elb-prod:443', OLD_ARN);
    classicServes.set('ws-elb-prod:443', OLD_ARN);
    elbMock
      .on(SetLoadBalancerListenerSSLCertificateCommand, { LoadBalancerName: 'webapp-elb-prod' })
      .rejects(new CertificateNotFoundException({ message: 'not found', $metadata: {} }));
    await writePlan([webappTarget, other]);

    // Act
    const error = await caught(() => switchBatch(makeParams()));

    // Assert
    expect(error).toBeInstanceOf(CertificateNotPropagated);
    expect(classicServes.get('ws-elb-prod:443')).toBe(NEW_ARN);
    expect(await ledger().get(other)).toMatchObject({ status: 'applied' });
  });

  test('a re-run after a crash changes nothing twice: applied targets are skipped without an AWS call', async () => {
    // Arrange: the first listener was switched and applied, the second only intended (crash after the change).
    const second = { ...webappTarget, port: 8443 };
    classicServes.set('webapp-elb-prod:443', NEW_ARN);
    classicServes.set('webapp-elb-prod:8443', NEW_ARN);
    await writePlan([webappTarget, second]);
    await seedLedger(ledger(), webappTarget, { at: at(10), status: 'applied' });
    await seedLedger(ledger(), second, { at: at(10), status: 'intended' });

    // Act
    const result = await switchBatch(makeParams());

    // Assert
    expect(journal).toEqual([]);
    expect(result).toMatchObject({ done: true, already: 1 });
    expect(await ledger().get(second)).toMatchObject({ status: 'applied' });
  });

  test('when the time budget runs out, the rest is deferred (done: false) and the next invocation finishes it', async () => {
    // Arrange
    const targets = [webappTarget, { ...webappTarget, port: 8443 }, { ...webappTarget, port: 9443 }];
    for (const t of targets) classicServes.set(`webapp-elb-prod:${t.port}`, OLD_ARN);
    await writePlan(targets);
    let clock = 0;
    const now = () => new Date(at(0).getTime() + (clock += 400) * 1000);

    // Act
    const first = await switchBatch(makeParams({ concurrency: 1, budgetSeconds: 600, now }));
    const second = await switchBatch(makeParams({ concurrency: 1 }));

    // Assert
    expect(first.done).toBe(false);
    expect(first.deferred).toBeGreaterThan(0);
    expect(second).toMatchObject({ done: true, deferred: 0, switched: 3 });
    expect(journal.filter((j) => j.startsWith('elb '))).toHaveLength(3);
  });
});

describe('edge switch: ELBv2', () => {
  test('the default certificate switches with ModifyListener (exactly one certificate); the SNI list stays', async () => {
    // Arrange
    v2Default.set(albDefaultTarget.listenerArn, OLD_ARN);
    v2Sni.set(albDefaultTarget.listenerArn, [OTHER_SNI]);
    await writePlan([albDefaultTarget]);

    // Act
    await switchBatch(makeParams({ batch: { kind: 'elbv2', index: 0 } }));

    // Assert
    expect(journal).toEqual([`modify ${NEW_ARN}`]);
    expect(v2Sni.get(albDefaultTarget.listenerArn)).toEqual([OTHER_SNI]);
    expect(await ledger().get(albDefaultTarget)).toMatchObject({
      prior: {
        kind: 'elbv2',
        certificates: [
          { arn: OLD_ARN, isDefault: true },
          { arn: OTHER_SNI, isDefault: false },
        ],
      },
    });
  });

  test('an SNI certificate switches by Add (new) then Remove (old); every other certificate of the list stays', async () => {
    // Arrange
    v2Default.set(albSniTarget.listenerArn, THIRD_ARN);
    v2Sni.set(albSniTarget.listenerArn, [OTHER_SNI, OLD_ARN]);
    await writePlan([albSniTarget]);

    // Act
    await switchBatch(makeParams({ batch: { kind: 'elbv2', index: 0 } }));

    // Assert
    expect(journal).toEqual([`add ${NEW_ARN}`, `remove ${OLD_ARN}`]);
    expect(v2Sni.get(albSniTarget.listenerArn)).toEqual([OTHER_SNI, NEW_ARN]);
    expect(v2Default.get(albSniTarget.listenerArn)).toBe(THIRD_ARN);
    expect((await ledger().get(albSniTarget))?.prior).toEqual({
      kind: 'elbv2',
      certificates: [
        { arn: THIRD_ARN, isDefault: true },
        { arn: OTHER_SNI, isDefault: false },
        { arn: OLD_ARN, isDefault: false },
      ],
    });
  });

  test('an SNI switch interrupted between Add and Remove is completed by the re-run (Remove only)', async () => {
    // Arrange
    v2Default.set(albSniTarget.listenerArn, THIRD_ARN);
    v2Sni.set(albSniTarget.listenerArn, [OLD_ARN, NEW_ARN]);
    await writePlan([albSniTarget]);
    await seedLedger(ledger(), albSniTarget, { at: at(10), status: 'intended' });

    // Act
    await switchBatch(makeParams({ batch: { kind: 'elbv2', index: 0 } }));

    // Assert
    expect(journal).toEqual([`remove ${OLD_ARN}`]);
    expect(v2Sni.get(albSniTarget.listenerArn)).toEqual([NEW_ARN]);
  });
});

describe('edge switch: CloudFront', () => {
  test('sends the complete config with IfMatch; only IAMCertificateId (and the deprecated Certificate mirror) changes', async () => {
    // Arrange
    cfConfigs.set(distributionTarget.distributionId, distributionConfig(OLD_ID));
    await writePlan([distributionTarget]);

    // Act
    await switchBatch(makeParams({ batch: { kind: 'cloudfront', index: 0 } }));

    // Assert
    const sent = cloudfrontMock.commandCalls(UpdateDistributionCommand)[0]?.args[0].input;
    const expected = distributionConfig(NEW_ID);
    expect(sent).toEqual({ Id: distributionTarget.distributionId, IfMatch: 'E0', DistributionConfig: expected });
    expect(sent?.DistributionConfig?.ViewerCertificate).toMatchObject({ SSLSupportMethod: 'vip', MinimumProtocolVersion: 'TLSv1.1_2016' });
    expect((await ledger().get(distributionTarget))?.prior).toEqual({
      kind: 'cloudfront',
      viewerCertificate: distributionConfig(OLD_ID).ViewerCertificate,
    });
  });

  test('an ETag race (PreconditionFailed) re-reads the config and updates with the fresh ETag', async () => {
    // Arrange: someone else changes the comment between our read and our update, once.
    cfConfigs.set(distributionTarget.distributionId, distributionConfig(OLD_ID));
    await writePlan([distributionTarget]);
    let raced = false;
    cloudfrontMock.on(GetDistributionConfigCommand).callsFake(
      settle((input: { Id?: string }) => {
        const out = { ETag: `E${cfEtags.get(input.Id ?? '') ?? 0}`, DistributionConfig: structuredClone(cfConfigs.get(input.Id ?? '')) };
        if (!raced) {
          raced = true;
          cfConfigs.set(input.Id ?? '', { ...cfConfigs.get(input.Id ?? '')!, Comment: 'edited meanwhile' });
          cfEtags.set(input.Id ?? '', 7);
        }
        return out;
      }),
    );

    // Act
    const result = await switchBatch(makeParams({ batch: { kind: 'cloudfront', index: 0 } }));

    // Assert
    expect(result.switched).toBe(1);
    const calls = cloudfrontMock.commandCalls(UpdateDistributionCommand).map((c) => c.args[0].input);
    expect(calls.map((c) => c.IfMatch)).toEqual(['E0', 'E7']);
    // The other writer's change is kept: the update was made on the re-read config.
    expect(cfConfigs.get(distributionTarget.distributionId)).toMatchObject({
      Comment: 'edited meanwhile',
      ViewerCertificate: { IAMCertificateId: NEW_ID, SSLSupportMethod: 'vip' },
    });
  });

  test('a distribution on an unrelated certificate is left alone', async () => {
    // Arrange
    cfConfigs.set(distributionTarget.distributionId, distributionConfig(THIRD_ID));
    await writePlan([distributionTarget]);

    // Act
    const result = await switchBatch(makeParams({ batch: { kind: 'cloudfront', index: 0 } }));

    // Assert
    expect(result).toMatchObject({ switched: 0, leftAlone: 1 });
    expect(cloudfrontMock.commandCalls(UpdateDistributionCommand)).toHaveLength(0);
  });
});

describe('edge switch: batches are positions in the plan', () => {
  test('a batch takes only its slice of the plan, and refuses a plan made for another certificate', async () => {
    // Arrange
    const targets = [webappTarget, { ...webappTarget, port: 8443 }, { ...webappTarget, port: 9443 }];
    for (const t of targets) classicServes.set(`webapp-elb-prod:${t.port}`, OLD_ARN);
    await writePlan(targets);

    // Act
    const second = await switchBatch(makeParams({ sizes: { elb: 2, elbv2: 1, cloudfront: 1 }, batch: { kind: 'elb', index: 1 } }));
    const refused = await caught(() => switchBatch(makeParams({ current: { arn: THIRD_ARN, id: THIRD_ID, sha256: 'c'.repeat(64) } })));

    // Assert
    expect(second).toMatchObject({ targets: 1, switched: 1 });
    expect(classicServes.get('webapp-elb-prod:9443')).toBe(NEW_ARN);
    expect(classicServes.get('webapp-elb-prod:443')).toBe(OLD_ARN);
    expect(refused.message).toContain('the plan was made for');
  });
});
