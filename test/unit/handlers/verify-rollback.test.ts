import { CloudFrontClient, GetDistributionConfigCommand, type DistributionConfig } from '@aws-sdk/client-cloudfront';
import { DescribeLoadBalancersCommand, ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { VerificationFailed } from '../../../lambdas/shared/errors';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import { notBackOf, withNotBack, withoutNotBack } from '../../../lambdas/shared/not-back';
import type { ProbeRequest, ProbeResult, TlsProbe } from '../../../lambdas/shared/tls-probe';
import { tlsEndpointOf, verifyRollback, type VerifyRollbackParams } from '../../../lambdas/verify-rollback/domain';
import { createInMemoryS3 } from '../../support/handler-s3';
import {
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
  webappTarget,
  settle,
} from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const OLD_SHA = 'a'.repeat(64);
const NEW_SHA = 'b'.repeat(64);

const s3 = createInMemoryS3();
const elbMock = mockClient(ElasticLoadBalancingClient);
const cloudfrontMock = mockClient(CloudFrontClient);

/** API state and TLS state of the simulated edge. */
const elbConfigured = new Map<string, string>(); // "name:port" -> ARN
const cfConfigured = new Map<string, string>(); // id -> IAM certificate id
const tlsServes = new Map<string, string | Error>(); // "host:port" -> sha256

function installFakes(): void {
  elbMock.on(DescribeLoadBalancersCommand).callsFake(describeClassicFrom(elbConfigured));
  cloudfrontMock.on(GetDistributionConfigCommand).callsFake(
    settle((input: { Id?: string }) => ({
      ETag: 'E1',
      DistributionConfig: { ViewerCertificate: { IAMCertificateId: cfConfigured.get(input.Id ?? '') } } as DistributionConfig,
    })),
  );
}

function probe(): TlsProbe & { requests: ProbeRequest[] } {
  const requests: ProbeRequest[] = [];
  const fn = settle((request: ProbeRequest): ProbeResult => {
    requests.push(request);
    const endpoint = `${request.host}:${request.port}`;
    const served = tlsServes.get(endpoint);
    if (served === undefined || served instanceof Error) throw served ?? new Error(`TLS handshake with ${endpoint} failed: ECONNREFUSED`);
    return { endpoint, sha256: served, serial: '01', notAfter: '2026-12-01T00:00:00.000Z', subject: '*.gitter.im' };
  }) as TlsProbe & { requests: ProbeRequest[] };
  fn.requests = requests;
  return fn;
}

const ledger = () => new ChangeLedger(new ArtifactStore(s3.client, ARTIFACTS), EXECUTION);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 11, minute, 0));

beforeEach(async () => {
  s3.reset();
  elbMock.reset();
  cloudfrontMock.reset();
  elbConfigured.clear();
  cfConfigured.clear();
  tlsServes.clear();
  installFakes();
  // Two targets rolled back, both back on the old certificate (API and TLS).
  await seedLedger(ledger(), canaryTarget, { at: at(1), status: 'rolled-back', beforeSha256: OLD_SHA, afterSha256: NEW_SHA });
  await seedLedger(ledger(), distributionTarget, { at: at(2), status: 'rolled-back', beforeSha256: OLD_SHA, afterSha256: NEW_SHA });
  elbConfigured.set('apps-servers-elb-prod:6667', OLD_ARN);
  cfConfigured.set(distributionTarget.distributionId, OLD_ID);
  tlsServes.set(`${canaryTarget.dnsName}:6667`, OLD_SHA);
  tlsServes.set(`${distributionTarget.domainName}:443`, OLD_SHA);
});

function makeParams(overrides: Partial<VerifyRollbackParams> = {}): VerifyRollbackParams {
  return {
    clients: {
      elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
      cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    },
    ledger: ledger(),
    probe: probe(),
    logger: silentLogger,
    domain: 'gitter.im',
    ...overrides,
  };
}

describe('verifyRollback', () => {
  test('API read-back and TLS both show the previous certificate -> the verified list', async () => {
    // Arrange
    const p = probe();

    // Act
    const result = await verifyRollback(makeParams({ probe: p }));

    // Assert
    expect(result.verified).toEqual(
      expect.arrayContaining([
        { target: 'ELB apps-servers-elb-prod:6667', servedSha256: OLD_SHA },
        { target: 'CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)', servedSha256: OLD_SHA },
      ]),
    );
    expect(result.verified).toHaveLength(2);
    // load balancers are probed on their DNS name with the domain as SNI; CloudFront with its alias
    expect(p.requests).toEqual(
      expect.arrayContaining([
        { host: canaryTarget.dnsName, port: 6667, servername: 'gitter.im' },
        { host: distributionTarget.domainName, port: 443, servername: 'cdn.gitter.im' },
      ]),
    );
  });

  test('a target that serves the wrong certificate over TLS -> VerificationFailed listing it with what it serves', async () => {
    // Arrange
    tlsServes.set(`${distributionTarget.domainName}:443`, NEW_SHA);

    // Act
    const thrown = await caught(() => verifyRollback(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(VerificationFailed);
    expect(thrown.name).toBe('VerificationFailed');
    expect(thrown.message).toContain('CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)');
    expect(thrown.message).toContain(`serves ${NEW_SHA}`);
    expect(thrown.message).toContain(OLD_SHA);
    expect(thrown.message).not.toContain('apps-servers-elb-prod');
  });

  test('a target still configured with the new certificate -> VerificationFailed naming it and the value', async () => {
    // Arrange
    elbConfigured.set('apps-servers-elb-prod:6667', NEW_ARN);

    // Act
    const thrown = await caught(() => verifyRollback(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(VerificationFailed);
    expect(thrown.message).toContain('ELB apps-servers-elb-prod:6667');
    expect(thrown.message).toContain(NEW_ARN);
  });

  test('a failed handshake -> VerificationFailed with the probe error; every problem is listed', async () => {
    // Arrange
    tlsServes.set(`${canaryTarget.dnsName}:6667`, new Error(`TLS handshake with ${canaryTarget.dnsName}:6667 failed: timed out`));
    cfConfigured.set(distributionTarget.distributionId, NEW_ID);

    // Act
    const thrown = await caught(() => verifyRollback(makeParams()));

    // Assert
    expect(thrown.message).toContain('ELB apps-servers-elb-prod:6667: TLS handshake');
    expect(thrown.message).toContain('timed out');
    expect(thrown.message).toContain('CloudFront E2QWRUHAPOMQZL');
  });

  test('the error names every target that is not back, machine-readably (ledger keys) and for people (labels)', async () => {
    // Arrange: the canary still serves the new certificate over TLS; the distribution is still configured with the new one.
    tlsServes.set(`${canaryTarget.dnsName}:6667`, NEW_SHA);
    cfConfigured.set(distributionTarget.distributionId, NEW_ID);

    // Act
    const thrown = await caught(() => verifyRollback(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(VerificationFailed);
    expect(notBackOf(thrown.message)?.sort()).toEqual(['cloudfront/E2QWRUHAPOMQZL', 'elb/apps-servers-elb-prod/6667']);
    expect(withoutNotBack(thrown.message)).toMatch(/^rollback not verified yet: 2 of 2 target\(s\) not back: /);
    expect(withoutNotBack(thrown.message)).not.toContain('notBack=');
  });

  test('only the targets not back are named: a verified one is not in the list', async () => {
    // Arrange
    tlsServes.set(`${distributionTarget.domainName}:443`, NEW_SHA);

    // Act
    const thrown = await caught(() => verifyRollback(makeParams()));

    // Assert
    expect(notBackOf(thrown.message)).toEqual(['cloudfront/E2QWRUHAPOMQZL']);
    expect(thrown.message).toContain('1 of 2 target(s) not back');
  });

  test('notBackOf / withNotBack: round trip; a message without the list gives undefined', () => {
    // Arrange / Act / Assert
    expect(notBackOf(withNotBack('x: y.', ['elb/a/443', 'elbv2/b/443/sni']))).toEqual(['elb/a/443', 'elbv2/b/443/sni']);
    expect(notBackOf('rollback not verified yet: ELB x:443 serves y')).toBeUndefined();
    expect(notBackOf('broken notBack=[1,2]')).toBeUndefined();
    expect(notBackOf(undefined)).toBeUndefined();
    expect(withoutNotBack('plain')).toBe('plain');
  });

  test('only rolled-back entries are checked (left-alone and applied ones are not)', async () => {
    // Arrange
    await seedLedger(ledger(), webappTarget, { at: at(3), status: 'left-alone', note: 'serves x' });
    await seedLedger(ledger(), albSniTarget, { at: at(4), status: 'applied' });
    const p = probe();

    // Act
    const result = await verifyRollback(makeParams({ probe: p }));

    // Assert
    expect(result.verified.map((v) => v.target).sort()).toEqual([
      'CloudFront E2QWRUHAPOMQZL (cdn.gitter.im)',
      'ELB apps-servers-elb-prod:6667',
    ]);
    expect(p.requests.map((r) => r.host)).not.toContain(webappTarget.dnsName);
  });

  test('an empty ledger verifies trivially', async () => {
    // Arrange
    s3.reset();

    // Act
    const result = await verifyRollback(makeParams());

    // Assert
    expect(result).toEqual({ verified: [] });
  });

  test('tlsEndpointOf: a distribution without aliases is probed on its own domain name', () => {
    // Arrange / Act / Assert
    expect(tlsEndpointOf({ ...distributionTarget, aliases: [] }, 'gitter.im')).toEqual({
      host: distributionTarget.domainName,
      port: 443,
      servername: distributionTarget.domainName,
    });
    expect(tlsEndpointOf(albSniTarget, 'gitter.im')).toEqual({ host: albSniTarget.dnsName, port: 8443, servername: 'gitter.im' });
  });
});
