/**
 * The stricter simulated account: reproducible faults whatever the arrival order, crashes in the
 * middle of a task, IAM propagation, request rates, page-size limits and complete CloudFront configs.
 */
import { issueWithFreshPki } from '../../local/certs';
import {
  callKey,
  defaultFleet,
  FaultInjector,
  isStateChanging,
  parseFaults,
  parseFleet,
  SimulatedAccount,
  UsageError,
  type FaultSpec,
  type FleetSpec,
  type SimCertificate,
} from '../../local/sim';

let current: SimCertificate;
let other: SimCertificate;
let next: SimCertificate;

beforeAll(async () => {
  [current, other, next] = await Promise.all([
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'ec-p256' }),
    issueWithFreshPki({ names: ['*.example.org'], keyType: 'ec-p256' }),
    issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'], keyType: 'ec-p256' }),
  ]);
});

async function withAccount(
  options: { faults?: FaultSpec[]; fleet?: Partial<FleetSpec> },
  body: (account: SimulatedAccount) => Promise<void>,
): Promise<void> {
  const account = await SimulatedAccount.create({
    fleet: { ...defaultFleet(), ...options.fleet },
    faults: options.faults ?? [],
    current,
    other,
  });
  try {
    await body(account);
  } finally {
    await account.close();
  }
}

function usageProblems(fn: () => unknown): readonly string[] {
  try {
    fn();
  } catch (e) {
    if (e instanceof UsageError) return e.problems;
    throw e;
  }
  throw new Error('expected a UsageError');
}

const outcome = (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'ok',
    (e: { name?: string }) => e.name ?? 'error',
  );

describe('rate faults: the same calls fail whatever order they arrive in', () => {
  const calls = Array.from({ length: 60 }, (_, i) => ({
    operation: i % 3 ? 'elbv2:DescribeListenerCertificates' : 'cloudfront:ListDistributions',
    input: { ListenerArn: `arn:listener/${i % 20}`, PageSize: 400 },
  }));

  function failing(order: typeof calls): string[] {
    const injector = new FaultInjector(parseFaults([{ operation: '*', error: 'Throttling', rate: 0.3, seed: 7 }], 'test'));
    const seen = new Map<string, number>();
    const failed: string[] = [];
    for (const c of order) {
      const key = callKey(c.input);
      const id = `${c.operation} ${key}`;
      const n = seen.get(id) ?? 0;
      seen.set(id, n + 1);
      if (injector.check(c.operation, key)) failed.push(`${id} #${n}`);
    }
    return failed.sort();
  }

  test('forward and reversed arrival fail exactly the same calls', () => {
    // Arrange
    const reversed = [...calls].reverse();

    // Act
    const a = failing(calls);
    const b = failing(reversed);

    // Assert
    expect(a.length).toBeGreaterThan(5);
    expect(b).toEqual(a);
  });

  test('the key leaves out content and per-run values, and keeps what names the call', () => {
    // Arrange
    const one = { Bucket: 'b', Key: 'executions/x/plan.json', Body: 'first', ContentType: 'application/json' };
    const two = { ContentType: 'text/plain', Body: 'second', Key: 'executions/x/plan.json', Bucket: 'b' };

    // Act / Assert
    expect(callKey(one)).toBe(callKey(two));
    expect(callKey({ ...one, Key: 'executions/x/ledger/a.json' })).not.toBe(callKey(one));
    expect(callKey({ taskToken: 'abc', output: '{}' })).toBe(callKey({ taskToken: 'def', output: '{"x":1}' }));
  });

  test('through the account, run-specific execution names do not change which calls fail', async () => {
    // Arrange
    const faults = parseFaults([{ operation: 's3:*', error: 'SlowDown', rate: 0.4, seed: 3 }], 'test');
    const run = async (executionName: string) => {
      let pattern = '';
      await withAccount({ faults }, async (account) => {
        account.s3.createBucket('artifacts');
        account.sfn.registerExecution({
          executionArn: `arn:aws:states:us-east-1:123456789012:execution:m:${executionName}`,
          stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:m',
          name: executionName,
          status: 'RUNNING',
          startDate: new Date(),
          input: '{}',
        });
        for (let i = 0; i < 30; i++) {
          const input = { Bucket: 'artifacts', Key: `executions/${executionName}/ledger/${i % 10}.json`, Body: String(i) };
          pattern += (await outcome(account.handle('s3:PutObject', input))) === 'ok' ? '.' : 'x';
        }
      });
      return pattern;
    };

    // Act
    const first = await run('rehearsal-2026-12-01T09-00-00-000Z');
    const second = await run('rehearsal-2026-12-01T09-07-13-512Z');

    // Assert
    expect(first).toContain('x');
    expect(second).toBe(first);
  });

  test('a count fault on "*" fails the first N matching calls, whatever their operation (REHEARSAL.md)', () => {
    // Arrange
    const injector = new FaultInjector(parseFaults([{ operation: '*', error: 'InternalError', count: 2 }], 'test'));

    // Act
    const fired = [
      'iam:ListServerCertificates',
      'elb:DescribeLoadBalancers',
      'iam:ListServerCertificates',
      'elb:DescribeLoadBalancers',
      'iam:ListServerCertificates',
    ].map((op) => (injector.check(op) ? 'x' : '.'));

    // Assert
    expect(fired.join('')).toBe('xx...');
  });
});

describe('crash-after-side-effects with afterCalls', () => {
  test('parses with count and afterCalls; a bad afterCalls or an unknown field is a usage error naming the field', () => {
    // Arrange / Act
    const ok = parseFaults([{ state: 'Canary: switch', fault: 'crash-after-side-effects', afterCalls: 1, count: 2 }], 'f.json');
    const problems = usageProblems(() =>
      parseFaults(
        [
          { state: 'Plan', fault: 'crash-after-side-effects', afterCalls: 0 },
          { state: 'Plan', fault: 'crash-after-side-effects', afterCall: 1 },
        ],
        'f.json',
      ),
    );

    // Assert
    expect(ok).toEqual([{ state: 'Canary: switch', fault: 'crash-after-side-effects', afterCalls: 1, count: 2 }]);
    expect(problems).toEqual([
      expect.stringMatching(/^faults\[0\]\.afterCalls: must be an integer >= 1/),
      expect.stringMatching(/^faults\[1\]\.afterCall: unknown field/),
    ]);
  });

  test('the task dies right after its Nth state-changing call: that call took effect, nothing after it ran, even if the handler caught the error', async () => {
    await withAccount(
      { faults: parseFaults([{ state: 'Canary: switch', fault: 'crash-after-side-effects', afterCalls: 2 }], 'test') },
      async (account) => {
        // Arrange
        account.s3.createBucket('artifacts');
        const put = (key: string) => account.handle('s3:PutObject', { Bucket: 'artifacts', Key: key, Body: key });
        const handler = async () => {
          await account.handle('s3:GetObject', { Bucket: 'artifacts', Key: 'a' }).catch(() => undefined); // a read: not counted
          await put('a');
          await put('b').catch(() => undefined); // the crash, swallowed by a careless handler
          await put('c').catch(() => undefined);
          return 'finished';
        };

        // Act
        const first = await account.runTask('Canary: switch IRC ELB listener', handler).catch((e: Error) => e);
        const second = await account.runTask('Canary: switch IRC ELB listener', handler);

        // Assert
        expect(first).toBeInstanceOf(Error);
        expect((first as Error).name).toBe('Lambda.ServiceException');
        expect((first as Error).message).toContain('#2 (s3:PutObject)');
        expect(account.calls.filter((c) => c.operation === 's3:PutObject' && !c.error)).toHaveLength(2 + 3);
        expect(second).toBe('finished'); // count 1: the retry runs through
        expect(account.s3.getText('artifacts', 'c')).toBe('c');
      },
    );
  });

  test('another state is not affected, and state-changing means Put/Set/Upload/Send..., not Get/Describe/List', async () => {
    await withAccount(
      { faults: parseFaults([{ state: 'Upload', fault: 'crash-after-side-effects', afterCalls: 1 }], 'test') },
      async (account) => {
        // Arrange
        account.s3.createBucket('artifacts');

        // Act
        const result = await account.runTask('Plan: find every target', () =>
          account.handle('s3:PutObject', { Bucket: 'artifacts', Key: 'p', Body: 'x' }).then(() => 'ok'),
        );

        // Assert
        expect(result).toBe('ok');
        expect(
          ['s3:PutObject', 'elb:SetLoadBalancerListenerSSLCertificate', 'iam:UploadServerCertificate', 'sfn:SendTaskSuccess'].every(
            isStateChanging,
          ),
        ).toBe(true);
        expect(
          ['s3:GetObject', 'elb:DescribeLoadBalancers', 'cloudfront:ListDistributions', 'iam:GetServerCertificate'].some(isStateChanging),
        ).toBe(false);
      },
    );
  });
});

describe('IAM propagation: a just-uploaded certificate is unknown to ELB and ELBv2 for iamPropagationSeconds', () => {
  const upload = (account: SimulatedAccount) =>
    account.handle('iam:UploadServerCertificate', {
      ServerCertificateName: 'STAR.gitter.im_next',
      Path: '/cloudfront/rehearsal/',
      CertificateBody: next.certPem,
      PrivateKey: next.keyPem,
      CertificateChain: next.chainPem || undefined,
    });

  test('CertificateNotFound until the simulated seconds have passed, then the switch works', async () => {
    await withAccount({ fleet: { iamPropagationSeconds: 10 } }, async (account) => {
      // Arrange
      const arn = (await upload(account)).ServerCertificateMetadata!.Arn!;
      const listener = account.elbv2.allListeners()[0];
      const setElb = () =>
        outcome(
          account.handle('elb:SetLoadBalancerListenerSSLCertificate', {
            LoadBalancerName: 'webapp-elb-prod',
            LoadBalancerPort: 443,
            SSLCertificateId: arn,
          }),
        );
      const setElbv2 = () =>
        outcome(account.handle('elbv2:ModifyListener', { ListenerArn: listener.arn, Certificates: [{ CertificateArn: arn }] }));

      // Act
      const early = [await setElb(), await setElbv2()];
      account.clock.advance(9);
      const almost = await setElb();
      account.clock.advance(1);
      const late = [await setElb(), await setElbv2()];

      // Assert
      expect(early).toEqual(['CertificateNotFoundException', 'CertificateNotFoundException']);
      expect(almost).toBe('CertificateNotFoundException');
      expect(late).toEqual(['ok', 'ok']);
    });
  });

  test('the fleet field is validated by name; 0 means at once', async () => {
    // Arrange / Act
    const problems = usageProblems(() => parseFleet({ ...defaultFleet(), iamPropagationSeconds: -1 }, 'fleet.json'));

    // Assert
    expect(problems).toEqual([expect.stringMatching(/^fleet\.iamPropagationSeconds: must be a number of simulated seconds/)]);
    expect(parseFleet({ domain: 'gitter.im' }, 'f').iamPropagationSeconds).toBe(10);
    await withAccount({ fleet: { iamPropagationSeconds: 0 } }, async (account) => {
      const arn = (await upload(account)).ServerCertificateMetadata!.Arn!;
      await expect(
        outcome(
          account.handle('elb:SetLoadBalancerListenerSSLCertificate', {
            LoadBalancerName: 'webapp-elb-prod',
            LoadBalancerPort: 443,
            SSLCertificateId: arn,
          }),
        ),
      ).resolves.toBe('ok');
    });
  });
});

describe('apiRates: requests per second in simulated time', () => {
  test('a burst beyond the bucket is throttled with the service error; time refills it', async () => {
    await withAccount({ fleet: { apiRates: { 'elb:DescribeLoadBalancers': 1, 'ec2:*': 2 } } }, async (account) => {
      // Arrange (bucket = 4 seconds of the rate)
      const describe = () => outcome(account.handle('elb:DescribeLoadBalancers', {}));

      // Act
      const burst = [];
      for (let i = 0; i < 5; i++) burst.push(await describe());
      account.clock.advance(1);
      const refilled = await describe();
      const ec2 = [];
      for (let i = 0; i < 9; i++) ec2.push(await outcome(account.handle('ec2:DescribeInstances', {})));

      // Assert
      expect(burst).toEqual(['ok', 'ok', 'ok', 'ok', 'Throttling']);
      expect(refilled).toBe('ok');
      expect(ec2.slice(0, 8).every((o) => o === 'ok')).toBe(true);
      expect(ec2[8]).toBe('RequestLimitExceeded');
      expect(account.calls.filter((c) => c.rateLimited)).toHaveLength(2);
    });
  });

  test('unknown operations and bad rates are usage errors naming the field', () => {
    // Arrange / Act
    const problems = usageProblems(() =>
      parseFleet({ ...defaultFleet(), apiRates: { 'elb:Nope': 5, 'iam:*': 0, 'cloudfront:UpdateDistribution': 'fast' } }, 'fleet.json'),
    );

    // Assert
    expect(problems).toEqual([
      expect.stringMatching(/^fleet\.apiRates\.elb:Nope: is not a simulated operation/),
      expect.stringMatching(/^fleet\.apiRates\.iam:\*: must be a number of requests per second > 0/),
      expect.stringMatching(/^fleet\.apiRates\.cloudfront:UpdateDistribution: must be a number/),
    ]);
  });
});

describe('page sizes are honoured and limited like AWS', () => {
  test.each([
    ['elb:DescribeLoadBalancers', { PageSize: 401 }, 'ValidationError'],
    ['elb:DescribeLoadBalancers', { PageSize: 0 }, 'ValidationError'],
    ['elbv2:DescribeLoadBalancers', { PageSize: 401 }, 'ValidationError'],
    ['cloudfront:ListDistributions', { MaxItems: 101 }, 'InvalidArgument'],
    ['ec2:DescribeInstances', { MaxResults: 4 }, 'InvalidParameterValue'],
    ['ec2:DescribeInstances', { MaxResults: 1001 }, 'InvalidParameterValue'],
    ['ec2:DescribeInstances', { MaxResults: 5, InstanceIds: ['i-0beta'] }, 'InvalidParameterCombination'],
    ['iam:ListServerCertificates', { MaxItems: 1001 }, 'ValidationError'],
    [
      'sfn:ListExecutions',
      { stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:m', maxResults: 1001 },
      'ValidationException',
    ],
  ])('%s %j is refused (%s)', async (operation, input, code) => {
    await withAccount({}, async (account) => {
      const err = await account.handle(operation, input).then(
        () => undefined,
        (e: { name?: string; Code?: string }) => e,
      );
      expect(err).toBeDefined();
      expect([err?.name, (err as { Code?: string })?.Code, err?.name?.replace(/Exception$/, '')]).toContain(code);
    });
  });

  test('the largest pages are accepted and honoured; small pages are honoured too', async () => {
    await withAccount({}, async (account) => {
      // Act
      const elbAll = await account.handle('elb:DescribeLoadBalancers', { PageSize: 400 });
      const elbOne = await account.handle('elb:DescribeLoadBalancers', { PageSize: 1 });
      const cf = await account.handle('cloudfront:ListDistributions', { MaxItems: 100 });
      const ec2 = await account.handle('ec2:DescribeInstances', { MaxResults: 1000 });

      // Assert
      expect(elbAll.LoadBalancerDescriptions).toHaveLength(defaultFleet().elbs.length);
      expect(elbAll.NextMarker).toBeUndefined();
      expect(elbOne.LoadBalancerDescriptions).toHaveLength(1);
      expect(elbOne.NextMarker).toBeDefined();
      expect(cf.DistributionList?.Items).toHaveLength(defaultFleet().distributions.length);
      expect(cf.DistributionList?.IsTruncated).toBe(false);
      expect(ec2.Reservations?.flatMap((r) => r.Instances ?? [])).toHaveLength(defaultFleet().instances.length);
    });
  });

  test('S3 gives at most 1,000 keys a page whatever MaxKeys asks', async () => {
    await withAccount({}, async (account) => {
      // Arrange
      account.s3.createBucket('artifacts');
      for (let i = 0; i < 1005; i++)
        await account.handle('s3:PutObject', { Bucket: 'artifacts', Key: `k/${String(i).padStart(4, '0')}`, Body: '' });

      // Act
      const page = await account.handle('s3:ListObjectsV2', { Bucket: 'artifacts', MaxKeys: 5000 });

      // Assert
      expect(page.Contents).toHaveLength(1000);
      expect(page.IsTruncated).toBe(true);
    });
  });
});

describe('CloudFront UpdateDistribution replaces the whole config: an incomplete one is refused', () => {
  const ID = 'E1GITTERCDN';

  test.each([
    ['Comment', 'The parameter Comment is required.'],
    ['Origins', 'The parameter Origins is required.'],
    ['Enabled', 'The parameter Enabled is required.'],
    ['Logging', 'The parameter Logging is required'],
    ['Restrictions', 'The parameter Restrictions is required'],
  ])('without %s: InvalidArgument, and nothing changes', async (field, message) => {
    await withAccount({}, async (account) => {
      // Arrange
      const got = await account.handle('cloudfront:GetDistributionConfig', { Id: ID });
      const config = { ...got.DistributionConfig } as Record<string, unknown>;
      delete config[field];

      // Act
      const err = await account
        .handle('cloudfront:UpdateDistribution', { Id: ID, IfMatch: got.ETag, DistributionConfig: config as never })
        .then(
          () => undefined,
          (e: Error) => e,
        );

      // Assert
      expect(err?.name).toBe('InvalidArgument');
      expect(err?.message).toContain(message);
      expect(account.cloudfront.distributions.find((d) => d.id === ID)!.updates).toBe(0);
    });
  });

  test('a complete config needs IfMatch = the current ETag; then it is accepted', async () => {
    await withAccount({}, async (account) => {
      // Arrange
      const got = await account.handle('cloudfront:GetDistributionConfig', { Id: ID });

      // Act
      const stale = await outcome(
        account.handle('cloudfront:UpdateDistribution', { Id: ID, IfMatch: 'E0000STALE', DistributionConfig: got.DistributionConfig }),
      );
      const missing = await outcome(
        account.handle('cloudfront:UpdateDistribution', { Id: ID, DistributionConfig: got.DistributionConfig }),
      );
      const ok = await outcome(
        account.handle('cloudfront:UpdateDistribution', { Id: ID, IfMatch: got.ETag, DistributionConfig: got.DistributionConfig }),
      );

      // Assert
      expect([stale, missing, ok]).toEqual(['PreconditionFailed', 'InvalidIfMatchVersion', 'ok']);
    });
  });
});
