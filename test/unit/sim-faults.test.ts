/**
 * Faults injected by the simulated account: count and rate faults, the SDK's own retry of
 * throttling (proof that the simulator middleware runs inside the SDK retry loop), SDK error classes.
 */
import { CloudFrontClient, GetDistributionConfigCommand, PreconditionFailed, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import {
  CertificateNotFoundException,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
  SetLoadBalancerListenerSSLCertificateCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import { IAMClient, IAMServiceException, ListServerCertificatesCommand } from '@aws-sdk/client-iam';
import { awsClient, MAX_ATTEMPTS } from '../../lambdas/shared/aws-clients';
import { classifyAwsErrors } from '../../lambdas/shared/aws-errors';
import { AwsTransient } from '../../lambdas/shared/errors';
import {
  defaultFleet,
  FaultInjector,
  parseFaults,
  SimulatedAccount,
  toSdkException,
  type FaultSpec,
  type SimCertificate,
} from '../../local/sim';
import { seedCertificates } from '../support/sim-fixtures';

let current: SimCertificate;
let other: SimCertificate;

beforeAll(async () => {
  ({ current, other } = await seedCertificates());
});

async function withAccount(faults: FaultSpec[], body: (account: SimulatedAccount) => Promise<void>): Promise<void> {
  const account = await SimulatedAccount.create({ fleet: defaultFleet(), faults, current, other });
  account.install();
  try {
    await body(account);
  } finally {
    await account.close();
  }
}

describe('throttling is retried by the SDK itself', () => {
  test('Throttling x2: ONE handler-level send succeeds and the simulator sees 3 calls', async () => {
    await withAccount(
      parseFaults([{ operation: 'iam:ListServerCertificates', error: 'Throttling', count: 2 }], 'test'),
      async (account) => {
        // Arrange
        const iam = new IAMClient({});
        // Act
        const out = await iam.send(new ListServerCertificatesCommand({}));
        // Assert
        expect(out.ServerCertificateMetadataList!.length).toBeGreaterThan(0);
        expect(out.$metadata.attempts).toBe(3);
        // The two backoff pauses passed in simulated time (no jitter: 1000/2 + 2000/2 ms), not in real time.
        expect(out.$metadata.totalRetryDelay).toBe(0);
        expect(account.clock.advancedSeconds()).toBe(1.5);
        expect(account.calls.map((c) => [c.operation, c.error ?? 'ok'])).toEqual([
          ['iam:ListServerCertificates', 'Throttling'],
          ['iam:ListServerCertificates', 'Throttling'],
          ['iam:ListServerCertificates', 'ok'],
        ]);
        expect(account.apiCallCounts()).toEqual({ 'iam:ListServerCertificates': 3 });
      },
    );
  });

  test('Throttling x3 exhausts the SDK default of 3 attempts and surfaces as a throttling error', async () => {
    await withAccount(parseFaults([{ operation: 'iam:*', error: 'Throttling', count: 3 }], 'test'), async (account) => {
      // Arrange
      const iam = new IAMClient({});
      // Act
      const err = await iam.send(new ListServerCertificatesCommand({})).catch((e: unknown) => e);
      const second = await iam.send(new ListServerCertificatesCommand({}));
      // Assert
      expect(err).toBeInstanceOf(IAMServiceException);
      expect(err).toMatchObject({
        name: 'Throttling',
        message: 'Rate exceeded',
        $retryable: { throttling: true },
        $metadata: { httpStatusCode: 400, attempts: 3 },
      });
      expect(second.$metadata.attempts).toBe(1);
      expect(account.calls.filter((c) => c.injected)).toHaveLength(3);
    });
  });

  test('a maxAttempts: 1 client sees the first throttle', async () => {
    await withAccount(parseFaults([{ operation: '*', error: 'ThrottlingException', count: 1 }], 'test'), async (account) => {
      // Arrange
      const iam = new IAMClient({ maxAttempts: 1 });
      // Act
      const err = await iam.send(new ListServerCertificatesCommand({})).catch((e: unknown) => e);
      // Assert
      expect(err).toMatchObject({ name: 'ThrottlingException', $metadata: { attempts: 1 } });
      expect(account.calls).toHaveLength(1);
    });
  });
});

describe('SDK retry pauses pass in simulated time', () => {
  test('a factory client (adaptive, 8 attempts) rides out 7 throttles without sleeping; the clock takes the pauses', async () => {
    await withAccount(parseFaults([{ operation: 'elb:DescribeLoadBalancers', error: 'Throttling', count: 7 }], 'test'), async (account) => {
      // Arrange
      const elb = awsClient(ElasticLoadBalancingClient);
      const started = Date.now();
      // Act
      const out = await elb.send(new DescribeLoadBalancersCommand({}));
      // Assert
      expect(out.$metadata.attempts).toBe(MAX_ATTEMPTS);
      expect(Date.now() - started).toBeLessThan(2000); // the real backoff alone would be ~30 s on average
      // Backoff without jitter: (1000 * (1 + 2 + 4 + 8 + 16) + 20000 + 20000) / 2 ms, plus the adaptive limiter's waits.
      expect(account.clock.advancedSeconds()).toBeGreaterThanOrEqual(35.5);
    });
  });

  test('the 8th throttle surfaces, naming the call: Throttling after 8 attempts', async () => {
    await withAccount(parseFaults([{ operation: 'elb:DescribeLoadBalancers', error: 'Throttling', count: 8 }], 'test'), async () => {
      // Arrange
      const elb = awsClient(ElasticLoadBalancingClient);
      // Act
      const err = (await classifyAwsErrors(() => elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['ws-elb-prod'] }))).then(
        () => undefined,
        (e: unknown) => e,
      )) as Error;
      // Assert
      expect(err).toBeInstanceOf(AwsTransient);
      expect(err.message).toBe(`Throttling on elb:DescribeLoadBalancers (ws-elb-prod) after ${MAX_ATTEMPTS} attempts: Rate exceeded`);
    });
  });
});

describe('count faults on non-retryable errors', () => {
  test('CertificateNotFound x3 (IAM propagation delay): the SDK does not retry, the 4th handler-level call succeeds', async () => {
    const faults = parseFaults(
      [{ operation: 'elb:SetLoadBalancerListenerSSLCertificate', error: 'CertificateNotFound', count: 3 }],
      'test',
    );
    await withAccount(faults, async (account) => {
      // Arrange
      const elb = new ElasticLoadBalancingClient({});
      const cmd = () =>
        new SetLoadBalancerListenerSSLCertificateCommand({
          LoadBalancerName: 'apps-servers-elb-prod',
          LoadBalancerPort: 6667,
          SSLCertificateId: account.currentCertificate.arn,
        });
      const errors: unknown[] = [];
      // Act
      for (let i = 0; i < 3; i++) errors.push(await elb.send(cmd()).catch((e: unknown) => e));
      const ok = await elb.send(cmd());
      // Assert
      for (const e of errors) {
        expect(e).toBeInstanceOf(CertificateNotFoundException);
        expect(e).toMatchObject({ $metadata: { httpStatusCode: 400, attempts: 1 } });
      }
      expect(ok.$metadata.httpStatusCode).toBe(200);
      expect(account.apiCallCounts()).toEqual({ 'elb:SetLoadBalancerListenerSSLCertificate': 4 });
      expect(account.faultsFired()).toEqual([{ fault: faults[0], fired: 3 }]);
    });
  });

  test('PreconditionFailed x2 on UpdateDistribution: the CloudFront class, and no change applied', async () => {
    await withAccount(
      parseFaults([{ operation: 'cloudfront:UpdateDistribution', error: 'PreconditionFailed', count: 2 }], 'test'),
      async (account) => {
        // Arrange
        const cf = new CloudFrontClient({});
        const { DistributionConfig, ETag } = await cf.send(new GetDistributionConfigCommand({ Id: 'E1GITTERCDN' }));
        const update = () => cf.send(new UpdateDistributionCommand({ Id: 'E1GITTERCDN', IfMatch: ETag, DistributionConfig }));
        // Act
        const first = await update().catch((e: unknown) => e);
        const second = await update().catch((e: unknown) => e);
        const third = await update();
        // Assert
        expect(first).toBeInstanceOf(PreconditionFailed);
        expect(second).toMatchObject({ name: 'PreconditionFailed', $metadata: { httpStatusCode: 412 } });
        expect(third.Distribution!.Status).toBe('InProgress');
        expect(account.cloudfront.distributions.find((d) => d.id === 'E1GITTERCDN')!.updates).toBe(1);
      },
    );
  });
});

describe('rate faults are deterministic per seed', () => {
  function pattern(faults: FaultSpec[], operations: string[]): string {
    const injector = new FaultInjector(faults);
    return operations.map((op) => (injector.check(op) ? 'x' : '.')).join('');
  }
  const ops = Array.from({ length: 400 }, (_, i) => (i % 2 ? 'ec2:DescribeInstances' : 'iam:ListServerCertificates'));

  test('same seed, same failures; another seed, other failures; about the requested fraction', () => {
    // Arrange
    const seven = parseFaults([{ operation: '*', error: 'Throttling', rate: 0.2, seed: 7 }], 'test');
    const eight = parseFaults([{ operation: '*', error: 'Throttling', rate: 0.2, seed: 8 }], 'test');
    // Act
    const a = pattern(seven, ops);
    const b = pattern(seven, ops);
    const c = pattern(eight, ops);
    // Assert
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    const fraction = a.split('').filter((ch) => ch === 'x').length / ops.length;
    expect(fraction).toBeGreaterThan(0.12);
    expect(fraction).toBeLessThan(0.28);
  });

  test('rate 0 never fires, rate 1 always; only matching operations draw', () => {
    // Arrange
    const never = parseFaults([{ operation: '*', error: 'Throttling', rate: 0, seed: 1 }], 'test');
    const always = parseFaults([{ operation: 'ec2:DescribeInstances', error: 'RequestLimitExceeded', rate: 1 }], 'test');
    // Act
    const n = pattern(never, ops);
    const a = pattern(always, ops);
    // Assert
    expect(n).not.toContain('x');
    expect(a).toBe(ops.map((op) => (op.startsWith('ec2:') ? 'x' : '.')).join(''));
  });

  test('through the account: the same seed fails the same calls in two accounts', async () => {
    // Arrange
    const faults = parseFaults([{ operation: '*', error: 'InternalError', rate: 0.3, seed: 42 }], 'test');
    const run = async () => {
      const account = await SimulatedAccount.create({ fleet: defaultFleet(), faults, current, other });
      try {
        const seen: string[] = [];
        for (let i = 0; i < 60; i++) {
          seen.push(
            await account.handle('ec2:DescribeInstances', {}).then(
              () => '.',
              (e: { name?: string; $fault?: string }) => (e.name === 'InternalError' && e.$fault === 'server' ? 'x' : '?'),
            ),
          );
        }
        return seen.join('');
      } finally {
        await account.close();
      }
    };
    // Act
    const first = await run();
    const second = await run();
    // Assert
    expect(first).toBe(second);
    expect(first).toContain('x');
    expect(first).toContain('.');
    expect(first).not.toContain('?');
  });
});

describe('node and state faults are exposed for the runner', () => {
  test('stateFaults and nodeFaults', async () => {
    // Arrange
    const faults = parseFaults(
      [
        { instance: 'i-0ws03', fault: 'nginx-config-invalid' },
        { state: 'Canary: switch', fault: 'crash-after-side-effects' },
      ],
      'test',
    );
    // Act
    const account = await SimulatedAccount.create({ fleet: defaultFleet(), faults, current, other });
    await account.close();
    // Assert
    expect(account.nodeFaults).toEqual([{ instance: 'i-0ws03', fault: 'nginx-config-invalid' }]);
    expect(account.stateFaults).toEqual([{ state: 'Canary: switch', fault: 'crash-after-side-effects', count: 1 }]);
  });

  test('a node fault on an instance that is not in the fleet is a usage error', async () => {
    // Arrange
    const faults = parseFaults([{ instance: 'i-0ws04', fault: 'offline' }], 'faults.json');
    // Act
    const created = SimulatedAccount.create({ fleet: defaultFleet(), faults, current, other });
    // Assert
    await expect(created).rejects.toMatchObject({
      name: 'UsageError',
      message: expect.stringContaining('faults[0].instance: "i-0ws04" is not an instance of the fleet'),
    });
  });
});

describe('toSdkException', () => {
  test('uses the client package class when there is one, else the service base class named by the code', () => {
    // Act
    const cnf = toSdkException('elb', 'CertificateNotFound', 'm');
    const pf = toSdkException('cloudfront', 'PreconditionFailed', 'm');
    const throttle = toSdkException('iam', 'Throttling', 'Rate exceeded');
    const ec2 = toSdkException('ec2', 'RequestLimitExceeded', 'm');
    const internal = toSdkException('sfn', 'InternalError', 'm');
    // Assert
    expect(cnf).toBeInstanceOf(CertificateNotFoundException);
    expect(pf).toBeInstanceOf(PreconditionFailed);
    expect(pf).toMatchObject({ $metadata: { httpStatusCode: 412 } });
    expect(throttle).toBeInstanceOf(IAMServiceException);
    expect(throttle).toMatchObject({
      name: 'Throttling',
      $fault: 'client',
      $retryable: { throttling: true },
      $metadata: { httpStatusCode: 400 },
    });
    expect(ec2).toMatchObject({ name: 'RequestLimitExceeded', $retryable: { throttling: true } });
    expect(internal).toMatchObject({ name: 'InternalError', $fault: 'server', $metadata: { httpStatusCode: 500 } });
  });
});
