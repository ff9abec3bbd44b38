import { CloudFrontClient, ListDistributionsCommand } from '@aws-sdk/client-cloudfront';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { DescribeListenerCertificatesCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { probesFor, verifyBatch, type EdgeVerifyParams } from '../../../lambdas/edge-verify/domain';
import type { PlanDocument } from '../../../lambdas/plan/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { VerificationFailed } from '../../../lambdas/shared/errors';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import type { EdgeTarget } from '../../../lambdas/shared/targets';
import type { ProbeRequest, ProbeResult } from '../../../lambdas/shared/tls-probe';
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
  webappTarget,
} from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const NEW_SHA = 'b'.repeat(64);
const OLD_SHA = 'a'.repeat(64);
const s3 = createInMemoryS3();
const elbMock = mockClient(ElasticLoadBalancingClient);
const elbv2Mock = mockClient(ElasticLoadBalancingV2Client);
const cloudfrontMock = mockClient(CloudFrontClient);
const classicServes = new Map<string, string>();
const cfServes = new Map<string, string>();
/** What a handshake sees, by host + SNI name. */
let served: (req: ProbeRequest) => string;
let probes: ProbeRequest[];

const store = () => new ArtifactStore(s3.client, ARTIFACTS);
const ledger = () => new ChangeLedger(store(), EXECUTION);

async function writePlan(edge: EdgeTarget[]): Promise<void> {
  const plan: PlanDocument = { createdAt: '', current: { arn: OLD_ARN, id: OLD_ID }, canary: canaryTarget, edge, nodePhases: [] };
  await store().putJson(ArtifactStore.planKey(EXECUTION), plan);
}

function makeParams(overrides: Partial<EdgeVerifyParams> = {}): EdgeVerifyParams {
  return {
    clients: {
      elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
      cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    },
    ledger: ledger(),
    store: store(),
    probe: (req): Promise<ProbeResult> => {
      probes.push(req);
      return Promise.resolve({
        endpoint: `${req.host}:${req.port}`,
        sha256: served(req),
        serial: '01',
        notAfter: '',
        subject: 'gitter.im',
      });
    },
    logger: silentLogger,
    executionName: EXECUTION,
    batch: { kind: 'elb', index: 0 },
    sizes: { elb: 100, elbv2: 100, cloudfront: 100 },
    domain: 'gitter.im',
    concurrency: 4,
    current: { arn: OLD_ARN, id: OLD_ID },
    uploaded: { arn: NEW_ARN, id: NEW_ID },
    newSha256: NEW_SHA,
    ...overrides,
  };
}

beforeEach(() => {
  s3.reset();
  elbMock.reset();
  elbv2Mock.reset();
  cloudfrontMock.reset();
  classicServes.clear();
  cfServes.clear();
  probes = [];
  served = () => NEW_SHA;
  elbMock.on(DescribeLoadBalancersCommand).callsFake(describeClassicFrom(classicServes));
  cloudfrontMock.on(ListDistributionsCommand).callsFake(
    settle(() => ({
      DistributionList: {
        Items: [...cfServes].map(([Id, IAMCertificateId]) => ({ Id, ViewerCertificate: { IAMCertificateId } })),
        IsTruncated: false,
      },
    })),
  );
});

describe('edge verify: API read-back and TLS', () => {
  test('handshakes: SNI = domain for a classic listener and an SNI certificate, none for an ELBv2 default, each alias for CloudFront', () => {
    // Act + Assert
    expect(probesFor(webappTarget, 'gitter.im')).toEqual([{ host: webappTarget.dnsName, port: 443, servername: 'gitter.im' }]);
    expect(probesFor(albDefaultTarget, 'gitter.im')).toEqual([{ host: albDefaultTarget.dnsName, port: 443, sni: false }]);
    expect(probesFor(albSniTarget, 'gitter.im')).toEqual([{ host: albSniTarget.dnsName, port: 8443, servername: 'gitter.im' }]);
    const cf = { ...distributionTarget, aliases: ['cdn.gitter.im', 'static.gitter.im'] };
    expect(probesFor(cf, 'gitter.im').map((p) => p.servername)).toEqual(['cdn.gitter.im', 'static.gitter.im']);
  });

  test('a switched listener configured with and serving the new certificate is verified; details go to S3', async () => {
    // Arrange
    classicServes.set('webapp-elb-prod:443', NEW_ARN);
    await writePlan([webappTarget]);
    await seedLedger(ledger(), webappTarget, { at: new Date(), status: 'applied' });

    // Act
    const result = await verifyBatch(makeParams());

    // Assert
    expect(result).toMatchObject({ batch: 'elb-0', verified: 1, handshakes: 1, leftAlone: 0 });
    const details = await store().getJson<{ targets: Array<{ key: string; api: string }> }>(result.detailsKey);
    expect(details?.targets).toEqual([expect.objectContaining({ key: 'elb/webapp-elb-prod/443', api: 'after' })]);
  });

  test('a switched target still serving the old certificate over TLS (a stale edge) is VerificationFailed, named', async () => {
    // Arrange
    cfServes.set(distributionTarget.distributionId, NEW_ID);
    served = () => OLD_SHA;
    await writePlan([distributionTarget]);
    await seedLedger(ledger(), distributionTarget, { at: new Date(), status: 'applied' });

    // Act
    const error = await caught(() => verifyBatch(makeParams({ batch: { kind: 'cloudfront', index: 0 } })));

    // Assert
    expect(error).toBeInstanceOf(VerificationFailed);
    expect(error.message).toContain('CloudFront E2QWRUHAPOMQZL');
    expect(error.message).toContain('SNI cdn.gitter.im');
  });

  test('a switched target whose API says the old certificate fails, even if TLS looks right', async () => {
    // Arrange
    classicServes.set('webapp-elb-prod:443', OLD_ARN);
    await writePlan([webappTarget]);
    await seedLedger(ledger(), webappTarget, { at: new Date(), status: 'applied' });

    // Act
    const error = await caught(() => verifyBatch(makeParams()));

    // Assert
    expect(error.message).toContain('not the new certificate');
  });

  test('a target the switch left alone (unrelated certificate) is read back but not expected to change', async () => {
    // Arrange
    elbv2Mock.on(DescribeListenerCertificatesCommand).resolves({ Certificates: [{ CertificateArn: THIRD_ARN, IsDefault: true }] });
    await writePlan([albDefaultTarget]);

    // Act
    const result = await verifyBatch(makeParams({ batch: { kind: 'elbv2', index: 0 } }));

    // Assert
    expect(result).toMatchObject({ verified: 0, leftAlone: 1, handshakes: 0 });
    expect(probes).toEqual([]);
  });
});
