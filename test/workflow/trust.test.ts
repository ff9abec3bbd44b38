import { defaultFleet, type SimulatedAccount } from '../../local/sim';
import { targetKey as ledgerKeyOf, type EdgeTarget } from '../../lambdas/shared/targets';
import { canaryOf, mutatingCalls, rehearse } from '../support/rehearsal';

/**
 * Attacks on the trust boundary, each run through the real synthesized state machine in the
 * local engine against the simulated account: each must change nothing.
 */
describe('hostile execution input changes nothing', () => {
  test('finding 1: a forged "uploaded" naming the certificate in use is refused by name; no IAM certificate is deleted', async () => {
    // Arrange: the input names the IAM certificate every target serves, as the finding 1 did.
    let sim: SimulatedAccount | undefined;
    const forged: Record<string, unknown> = { source: { secretId: 'prod/not-under-prefix' } };

    // Act
    const report = await rehearse({
      input: forged,
      beforeStart: (account) => {
        sim = account;
        forged.uploaded = { name: account.currentCertificate.name, reused: false };
      },
    });

    // Assert
    expect(forged.uploaded).toEqual({ name: sim?.currentCertificate.name, reused: false });
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe('InputInvalid: execution input field "uploaded" is not allowed; allowed: source');
    expect(report.apiCalls['iam:DeleteServerCertificate']).toBeUndefined();
    expect(mutatingCalls(report)).toEqual([]);
    for (const t of report.targets)
      expect({ key: `${t.id}:${t.port}`, served: t.servedAfter }).toEqual({ key: `${t.id}:${t.port}`, served: t.before });
    expect(sim?.iam.byName(sim.currentCertificate.name)).toBeDefined();
    // Refused before anything else ran: no guard, no obtain, no approval asked.
    for (const phase of ['guard', 'obtain', 'validate', 'plan', 'upload']) {
      expect(report.phases.find((p) => p.name === phase)).toMatchObject({ status: 'NOT_RUN' });
    }
    expect(report.approvals).toEqual([]);
  });

  test.each<[string, Record<string, unknown>, string]>([
    ['a forged plan', { plan: { planKey: 'executions/other/plan.json' } }, 'plan'],
    ['a forged ledger pointer', { ledger: 'executions/other/ledger/' }, 'ledger'],
    ['an approval injected ahead', { approvals: { start: { decision: 'approved' } } }, 'approvals'],
    ['a forged error', { error: { Error: 'ApprovalRejected', Cause: 'x' } }, 'error'],
  ])('%s next to a valid source is refused by name, before anything else runs', async (_name, extra, field) => {
    // Act: the staged source stays valid; only the extra field is hostile.
    const report = await rehearse({ input: extra });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toBe(`InputInvalid: execution input field "${field}" is not allowed; allowed: source`);
    expect(mutatingCalls(report)).toEqual([]);
    expect(report.apiCalls['secretsmanager:DescribeSecret']).toBeUndefined();
    for (const t of report.targets) expect(t.servedAfter).toBe(t.before);
  });

  test('a malformed known field is refused by name too', async () => {
    const report = await rehearse({ input: { source: { s3: { prefix: 'x/', versionId: 'v1' } } } });

    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^InputInvalid: execution input field "source\.s3\.versionId" is not allowed/);
    expect(mutatingCalls(report)).toEqual([]);
  });
});

describe('a forged ledger entry cannot steer the rollback', () => {
  type Forgery = (sim: SimulatedAccount) => { readonly target: EdgeTarget; readonly before: string; readonly after: string };
  const elbTarget = (sim: SimulatedAccount, name: string, port: number): EdgeTarget => {
    const t = sim.targets().find((x) => x.kind === 'elb' && x.id === name && x.port === port);
    if (!t) throw new Error(`fleet has no ${name}:${port}`);
    return { kind: 'elb', loadBalancerName: name, port, dnsName: t.host };
  };

  test.each<[string, Forgery, string, string]>([
    [
      'a classic ELB outside the plan (serving another certificate), "restored" to the certificate in use',
      (sim) => ({ target: elbTarget(sim, 'legacy-elb', 443), before: sim.currentCertificate.arn, after: sim.otherCertificate.arn }),
      'legacy-elb:443',
      "elb/legacy-elb/443 is not in this execution's plan",
    ],
    [
      'a CloudFront distribution outside the plan',
      (sim) => {
        const t = sim.targets().find((x) => x.kind === 'cloudfront' && x.id === 'E3OTHER');
        if (!t) throw new Error('fleet has no E3OTHER');
        return {
          target: { kind: 'cloudfront', distributionId: 'E3OTHER', domainName: t.host, aliases: [] },
          before: sim.currentCertificate.id,
          after: sim.otherCertificate.id,
        };
      },
      'E3OTHER:443',
      "cloudfront/E3OTHER is not in this execution's plan",
    ],
    [
      'a planned ELB with a foreign after, "restored" to another certificate',
      (sim) => ({ target: elbTarget(sim, 'webapp-elb-prod', 443), before: sim.otherCertificate.arn, after: sim.currentCertificate.arn }),
      'webapp-elb-prod:443',
      'is not the certificate this execution uploaded',
    ],
  ])('%s: rejected at the canary gate, rollback leaves it alone and says why', async (_name, forgery, targetKey, reason) => {
    // Arrange: the entry is in the artifacts bucket under this execution's ledger before it starts.
    let sim: SimulatedAccount | undefined;
    let ledgerObject = '';
    let bucket = '';
    let reportKey = '';

    // Act
    const report = await rehearse({
      // IAM propagates at once, so that each switch call counted below is one that took effect.
      fleet: { ...defaultFleet(), iamPropagationSeconds: 0 },
      approve: { mode: 'reject', gate: 'canary' },
      beforeStart: async (account, { executionName, artifactBucket }) => {
        sim = account;
        bucket = artifactBucket;
        reportKey = `executions/${executionName}/report.json`;
        const { target, before, after } = forgery(account);
        const entry = {
          key: ledgerKeyOf(target),
          target,
          phase: 'edge',
          before,
          after,
          beforeSha256: '0'.repeat(64),
          afterSha256: '1'.repeat(64),
          status: 'applied',
          updatedAt: new Date().toISOString(),
        };
        ledgerObject = `executions/${executionName}/ledger/${entry.key}.json`;
        await account.handle('s3:PutObject', { Bucket: artifactBucket, Key: ledgerObject, Body: JSON.stringify(entry) });
      },
    });

    // Assert: the rejection rolled the canary back, and only the canary was ever switched.
    expect(report.status).toBe('REJECTED');
    expect(canaryOf(report)).toMatchObject({ rolledBack: true, changed: false });
    for (const t of report.targets)
      expect({ key: `${t.id}:${t.port}`, served: t.servedAfter }).toEqual({ key: `${t.id}:${t.port}`, served: t.before });
    expect(report.targets.find((t) => `${t.id}:${t.port}` === targetKey)).toMatchObject({ changed: false, rolledBack: false });
    expect(report.apiCalls['elb:SetLoadBalancerListenerSSLCertificate']).toBe(2);
    expect(report.apiCalls['cloudfront:UpdateDistribution']).toBeUndefined();
    // Left alone and reported with the reason in the execution's report; the forged entry is not rewritten
    // (so it is not counted as a target "not back": the run is a clean rejection, not ROLLBACK_INCOMPLETE).
    const stored = JSON.parse(sim?.s3.getText(bucket, ledgerObject) ?? '{}') as { status?: string; note?: string };
    expect(stored).toMatchObject({ status: 'applied' });
    expect(stored).not.toHaveProperty('note');
    const executionReport = JSON.parse(sim?.s3.getText(bucket, reportKey) ?? '{}') as {
      rollback?: { leftAlone?: Array<{ reason: string }>; restored?: string[] };
    };
    expect(executionReport.rollback?.restored).toEqual(['ELB apps-servers-elb-prod:6667']);
    expect(executionReport.rollback?.leftAlone).toEqual([expect.objectContaining({ reason: expect.stringContaining(reason) })]);
    // The upload, proven by its IAM tag and detached again, is still cleaned up.
    expect(report.apiCalls['iam:DeleteServerCertificate']).toBe(1);
  });
});
