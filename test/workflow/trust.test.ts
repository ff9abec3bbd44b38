import type { SimulatedAccount } from '../../local/sim';
import { mutatingCalls, rehearse } from '../support/rehearsal';

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
