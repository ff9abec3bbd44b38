import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import {
  CertificateNotFoundException,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  SetLoadBalancerListenerSSLCertificateCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { mockClient } from 'aws-sdk-client-mock';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { CertificateNotPropagated, LedgerConflict, TargetNotFound } from '../../../lambdas/shared/errors';
import { ChangeLedger, type LedgerEntry } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import { switchCanary, type SwitchCanaryParams } from '../../../lambdas/switch-canary/domain';
import { createInMemoryS3 } from '../../support/handler-s3';
import { awsError, canaryTarget, caught, NEW_ARN, OLD_ARN, THIRD_ARN, settle } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-11-27';
const LEDGER_KEY = `executions/${EXECUTION}/ledger/elb/apps-servers-elb-prod/6667.json`;
const OLD_SHA = '0'.repeat(63) + 'a';
const NEW_SHA = '0'.repeat(63) + 'b';

const s3 = createInMemoryS3();
const elbMock = mockClient(ElasticLoadBalancingClient);

/** What the simulated canary listener serves now. */
let served: string;

function installElbFake(): void {
  elbMock.on(DescribeLoadBalancersCommand, { LoadBalancerNames: [canaryTarget.loadBalancerName] }).callsFake(
    settle(() => ({
      LoadBalancerDescriptions: [
        {
          LoadBalancerName: canaryTarget.loadBalancerName,
          DNSName: canaryTarget.dnsName,
          ListenerDescriptions: [
            {
              Listener: { Protocol: 'SSL', LoadBalancerPort: 6667, InstanceProtocol: 'TCP', InstancePort: 6667, SSLCertificateId: served },
            },
          ],
        },
      ],
    })),
  );
  elbMock.on(SetLoadBalancerListenerSSLCertificateCommand).callsFake(
    settle((input: { SSLCertificateId?: string }) => {
      served = input.SSLCertificateId ?? '';
      return {};
    }),
  );
}

beforeEach(() => {
  s3.reset();
  elbMock.reset();
  served = OLD_ARN;
  installElbFake();
});

let clock = 0;
function makeParams(overrides: Partial<SwitchCanaryParams> = {}): SwitchCanaryParams {
  return {
    clients: {
      elb: new ElasticLoadBalancingClient({ region: 'eu-west-1' }),
      elbv2: new ElasticLoadBalancingV2Client({ region: 'eu-west-1' }),
      cloudfront: new CloudFrontClient({ region: 'us-east-1' }),
    },
    ledger: new ChangeLedger(new ArtifactStore(s3.client, ARTIFACTS), EXECUTION),
    logger: silentLogger,
    canary: { loadBalancerName: canaryTarget.loadBalancerName, port: canaryTarget.port },
    current: { arn: OLD_ARN, sha256: OLD_SHA },
    uploaded: { arn: NEW_ARN },
    newSha256: NEW_SHA,
    now: () => new Date(Date.UTC(2026, 10, 27, 10, 0, clock++)),
    ...overrides,
  };
}

const ledgerEntry = () => s3.json<LedgerEntry>(ARTIFACTS, LEDGER_KEY);

describe('switchCanary', () => {
  test('writes the ledger entry (intended, with before/after) BEFORE switching the listener, then marks it applied', async () => {
    // Arrange
    let ledgerAtSwitch: LedgerEntry | undefined;
    elbMock.on(SetLoadBalancerListenerSSLCertificateCommand).callsFake(
      settle((input: { SSLCertificateId?: string }) => {
        ledgerAtSwitch = ledgerEntry();
        served = input.SSLCertificateId ?? '';
        return {};
      }),
    );

    // Act
    const result = await switchCanary(makeParams());

    // Assert
    expect(ledgerAtSwitch).toMatchObject({
      key: 'elb/apps-servers-elb-prod/6667',
      phase: 'canary',
      before: OLD_ARN,
      after: NEW_ARN,
      beforeSha256: OLD_SHA,
      afterSha256: NEW_SHA,
      status: 'intended',
    });
    expect(ledgerAtSwitch!.target).toEqual(canaryTarget);
    expect(elbMock.commandCalls(SetLoadBalancerListenerSSLCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { LoadBalancerName: 'apps-servers-elb-prod', LoadBalancerPort: 6667, SSLCertificateId: NEW_ARN },
    ]);
    expect(ledgerEntry()).toMatchObject({ status: 'applied', before: OLD_ARN, after: NEW_ARN });
    expect(result).toEqual({ target: 'elb/apps-servers-elb-prod/6667', changed: true });
    expect(served).toBe(NEW_ARN);
  });

  test('a listener already serving the new certificate is not switched again; the ledger is marked applied', async () => {
    // Arrange
    served = NEW_ARN;

    // Act
    await switchCanary(makeParams());

    // Assert
    expect(elbMock.commandCalls(SetLoadBalancerListenerSSLCertificateCommand)).toHaveLength(0);
    expect(ledgerEntry()).toMatchObject({ status: 'applied', before: OLD_ARN, after: NEW_ARN });
  });

  test('a listener serving a third certificate -> TargetNotFound naming listener and certificate; nothing switched', async () => {
    // Arrange
    served = THIRD_ARN;

    // Act
    const thrown = await caught(() => switchCanary(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(thrown.message).toContain('ELB apps-servers-elb-prod:6667');
    expect(thrown.message).toContain(THIRD_ARN);
    expect(elbMock.commandCalls(SetLoadBalancerListenerSSLCertificateCommand)).toHaveLength(0);
    expect(ledgerEntry()?.status).not.toBe('applied');
  });

  test('CertificateNotFoundException (IAM propagation) -> CertificateNotPropagated; the intent stays recorded for rollback', async () => {
    // Arrange
    elbMock
      .on(SetLoadBalancerListenerSSLCertificateCommand)
      .rejects(
        new CertificateNotFoundException({ message: 'Server Certificate not found for the key: ...', $metadata: { httpStatusCode: 400 } }),
      );

    // Act
    const thrown = await caught(() => switchCanary(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(CertificateNotPropagated);
    expect(thrown.name).toBe('CertificateNotPropagated');
    expect(ledgerEntry()).toMatchObject({ status: 'intended', before: OLD_ARN, after: NEW_ARN });
  });

  test('a retry after a crash between the switch and the ledger update confirms the switch without switching again', async () => {
    // Arrange: the first attempt switches the listener, then dies writing "applied"
    const crash = awsError('InternalError', { status: 500, message: 'We encountered an internal error.' });
    elbMock.on(SetLoadBalancerListenerSSLCertificateCommand).callsFake(
      settle((input: { SSLCertificateId?: string }) => {
        served = input.SSLCertificateId ?? '';
        s3.failNext('PutObject', crash, LEDGER_KEY);
        return {};
      }),
    );
    const first = await caught(() => switchCanary(makeParams()));
    expect(first).toBe(crash);
    expect(ledgerEntry()).toMatchObject({ status: 'intended', before: OLD_ARN });

    // Act: Step Functions retries the task with the same input
    const result = await switchCanary(makeParams());

    // Assert
    expect(result.target).toBe('elb/apps-servers-elb-prod/6667');
    expect(elbMock.commandCalls(SetLoadBalancerListenerSSLCertificateCommand)).toHaveLength(1);
    expect(ledgerEntry()).toMatchObject({ status: 'applied', before: OLD_ARN, beforeSha256: OLD_SHA, after: NEW_ARN });
  });

  test('a retry never overwrites the recorded before, even if it is given another current certificate', async () => {
    // Arrange: the intent of an earlier attempt is in the ledger and the listener was switched
    await makeParams().ledger.recordIntent(canaryTarget, 'canary', OLD_ARN, NEW_ARN, new Date('2026-11-27T09:00:00.000Z'), {
      beforeSha256: OLD_SHA,
      afterSha256: NEW_SHA,
    });
    served = NEW_ARN;

    // Act: this attempt believes the current certificate is the new one (e.g. re-read after the switch)
    await switchCanary(makeParams({ current: { arn: NEW_ARN, sha256: NEW_SHA } }));

    // Assert
    expect(ledgerEntry()).toMatchObject({ status: 'applied', before: OLD_ARN, beforeSha256: OLD_SHA });
    expect(elbMock.commandCalls(SetLoadBalancerListenerSSLCertificateCommand)).toHaveLength(0);
  });

  test('an entry already in the ledger that records another change (a forged one) is not adopted: LedgerConflict, nothing switched', async () => {
    // Arrange: someone wrote an entry for the canary whose after is not this execution's upload
    await makeParams().ledger.recordIntent(canaryTarget, 'canary', OLD_ARN, THIRD_ARN, new Date('2026-11-27T09:00:00.000Z'), {
      beforeSha256: OLD_SHA,
      afterSha256: NEW_SHA,
    });

    // Act
    const thrown = await caught(() => switchCanary(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(LedgerConflict);
    expect(thrown.name).toBe('LedgerConflict');
    expect(thrown.message).toContain(`not this canary change to ${NEW_ARN}`);
    expect(elbMock.commandCalls(SetLoadBalancerListenerSSLCertificateCommand)).toHaveLength(0);
    expect(ledgerEntry()).toMatchObject({ after: THIRD_ARN, status: 'intended' });
  });

  test('an unknown canary load balancer -> TargetNotFound, nothing recorded', async () => {
    // Arrange
    elbMock.on(DescribeLoadBalancersCommand).resolves({ LoadBalancerDescriptions: [] });

    // Act
    const thrown = await caught(() => switchCanary(makeParams()));

    // Assert
    expect(thrown).toBeInstanceOf(TargetNotFound);
    expect(s3.keys(ARTIFACTS)).toEqual([]);
  });
});
