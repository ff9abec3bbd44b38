import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LedgerEntry } from '../../lambdas/shared/ledger';
import { defaultFleet, parseFaults, parseFleet, type SimulatedAccount } from '../../local/sim';
import { canaryOf, rehearse } from '../support/rehearsal';

/**
 * Every call survives alone, and a crash in the middle of a task still ends exact: the real
 * synthesized state machine, the real handlers (8 adaptive attempts per call, discovery kept per
 * service), the simulated account with reproducible faults.
 */
const FIXTURES = join(__dirname, '..', 'fixtures');
const fixture = (name: string): unknown => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
const fleet100 = () => parseFleet(fixture('fleet-100-edge.json'), 'fleet-100-edge.json');
const throttling = () => parseFaults(fixture('faults-throttling-20.json'), 'faults-throttling-20.json');

/** Runs a rehearsal and keeps the simulated account for inspection afterwards. */
async function rehearseWithAccount(overrides: Parameters<typeof rehearse>[0]) {
  let account: SimulatedAccount | undefined;
  const report = await rehearse({
    ...overrides,
    beforeStart: (sim) => {
      account = sim;
    },
  });
  if (!account) throw new Error('the rehearsal never built its account');
  return { report, account };
}

function ledgerOf(account: SimulatedAccount, executionName: string): LedgerEntry[] {
  const prefix = `executions/${executionName}/ledger/`;
  const bucket = [...account.s3.buckets.entries()].find(([, objects]) => [...objects.keys()].some((k) => k.startsWith(prefix)));
  if (!bucket) return [];
  return [...bucket[1].keys()]
    .filter((k) => k.startsWith(prefix))
    .map((k) => JSON.parse(account.s3.getText(bucket[0], k) ?? '{}') as LedgerEntry);
}

const succeeded = (account: SimulatedAccount, operation: string) =>
  account.calls.filter((c) => c.operation === operation && !c.error).length;

/** Classic listeners that served the previous certificate at the start (the canary and the edge phase's): each is switched exactly once. */
const classicServingOld = (report: Awaited<ReturnType<typeof rehearse>>) =>
  report.targets.filter((t) => t.kind === 'elb' && t.before === report.certificate.previous.sha256).length;

describe('100 edge targets under 20% throttling on every operation, plus CertificateNotFound x3', () => {
  test('two rehearsals both succeed, and report identical apiCalls', async () => {
    // Arrange
    const fleet = fleet100();
    const faults = throttling();
    expect(
      fleet.elbs.flatMap((e) => e.listeners.filter((l) => l.protocol === 'SSL' || l.protocol === 'HTTPS')).length +
        fleet.albs.flatMap((a) => a.listeners).length +
        fleet.distributions.length,
    ).toBe(100);

    // Act
    const first = await rehearseWithAccount({ fleet, faults });
    const second = await rehearseWithAccount({ fleet, faults });

    // Assert
    for (const { report, account } of [first, second]) {
      expect(report.error).toBeUndefined();
      expect(report.status).toBe('SUCCEEDED');
      expect(canaryOf(report)).toMatchObject({ changed: true, servedAfter: report.certificate.new?.sha256 });
      expect(account.calls.filter((c) => c.injected && c.error === 'Throttling').length).toBeGreaterThan(20);
      expect(succeeded(account, 'elb:SetLoadBalancerListenerSSLCertificate')).toBe(classicServingOld(report));
      expect(report.apiCalls['iam:UploadServerCertificate']).toBe(1);
    }
    expect(second.report.apiCalls).toEqual(first.report.apiCalls);
  }, 180_000);
});

describe('crash-after-side-effects in the middle of a task', () => {
  test('afterCalls 1 in the canary switch (the ledger intent is written, the switch not yet): one upload, one switch, the ledger matches', async () => {
    // Arrange: IAM propagates at once, so that every switch call counted is one that succeeded
    const faults = parseFaults(fixture('faults-crash-canary-after-1.json'), 'faults-crash-canary-after-1.json');

    // Act
    const { report, account } = await rehearseWithAccount({ faults, fleet: { ...defaultFleet(), iamPropagationSeconds: 0 } });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'canary edge')).toMatchObject({ status: 'SUCCEEDED' });
    expect(account.calls.some((c) => c.operation === 's3:PutObject' && !c.error)).toBe(true);
    expect(report.apiCalls['iam:UploadServerCertificate']).toBe(1);
    // The canary once, and each edge listener once (the edge phase follows the canary).
    expect(report.apiCalls['elb:SetLoadBalancerListenerSSLCertificate']).toBe(classicServingOld(report));
    const uploaded = account.iam.list().find((e) => e.sha256 === report.certificate.new?.sha256);
    const ledger = ledgerOf(account, report.execution);
    expect(ledger.every((e) => e.status === 'applied')).toBe(true);
    expect(ledger.find((e) => e.phase === 'canary')).toMatchObject({
      key: 'elb/apps-servers-elb-prod/6667',
      status: 'applied',
      before: account.currentCertificate.arn,
      after: uploaded?.arn,
    });
    expect(canaryOf(report)).toMatchObject({ changed: true, servedAfter: report.certificate.new?.sha256 });
  });

  test('afterCalls 2 (right after the switch took effect), with IAM propagation: still one switch that succeeded, then verified', async () => {
    // Arrange
    const faults = parseFaults([{ state: 'Canary: switch', fault: 'crash-after-side-effects', afterCalls: 2 }], 'test');

    // Act
    const { report, account } = await rehearseWithAccount({ faults });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(succeeded(account, 'elb:SetLoadBalancerListenerSSLCertificate')).toBe(classicServingOld(report));
    // IAM propagation made the first switch attempts fail with CertificateNotFound, as in AWS.
    expect(
      account.calls.filter((c) => c.operation === 'elb:SetLoadBalancerListenerSSLCertificate' && c.error === 'CertificateNotFound').length,
    ).toBeGreaterThan(0);
    const ledger = ledgerOf(account, report.execution);
    expect(ledger.filter((e) => e.phase === 'canary')).toEqual([expect.objectContaining({ status: 'applied' })]);
    expect(ledger.every((e) => e.status === 'applied')).toBe(true);
  });

  test('a Plan crash after its edge discovery was stored: the retry does not ask ELBv2 or CloudFront again', async () => {
    // Arrange: the first three state-changing calls of Plan store the elb, elbv2 and cloudfront steps
    const faults = parseFaults([{ state: 'Plan', fault: 'crash-after-side-effects', afterCalls: 3 }], 'test');
    const baseline = await rehearse({});

    // Act
    const lines: string[] = [];
    const { report } = await rehearseWithAccount({ faults, progress: (line) => lines.push(line) });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'plan')).toMatchObject({ status: 'SUCCEEDED' });
    for (const op of ['cloudfront:ListDistributions', 'elbv2:DescribeLoadBalancers', 'elbv2:DescribeListenerCertificates']) {
      expect({ op, calls: report.apiCalls[op] }).toEqual({ op, calls: baseline.apiCalls[op] });
    }
    // It did crash (right after storing the third step) and was retried by the state machine.
    expect(lines).toContainEqual(expect.stringMatching(/Plan: .* failed: Lambda\.ServiceException: simulated crash .*#3 \(s3:PutObject\)/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}retry 1 of "Plan: /));
  });
});
