/**
 * Gate timeouts in the real synthesized state machine, run in the local engine: `--approve
 * timeout:GATE` lets a gate's own callback TimeoutSeconds fire (the engine raises States.Timeout);
 * with `approvals.onTimeout: rollback` everything goes back and is verified, with `stop` the
 * changed targets stay on the new certificate, the report says so and the email is sent.
 */
import { loadConfig } from '../../local/cli';
import { exitCodeFor } from '../../local/cli';
import { STATE } from '../../lib/cert-rotation';
import { resolveConfig } from '../../lib/config';
import type { SimulatedAccount } from '../../local/sim';
import { exampleRawConfig } from '../construct/synth-helpers';
import { rehearse } from '../support/rehearsal';

jest.setTimeout(180_000);

/** The example config with these approvals. */
function configWith(approvals: Record<string, unknown>) {
  return resolveConfig({ ...exampleRawConfig(), approvals });
}

describe('a gate that nobody answers', () => {
  test('onTimeout: rollback (the default): Approval 3 times out, every changed target is rolled back and serves what it served before', async () => {
    // Arrange
    let sim: SimulatedAccount | undefined;

    // Act
    const report = await rehearse({
      config: loadConfig(),
      approve: { mode: 'timeout', gate: 'edge' },
      beforeStart: (s) => {
        sim = s;
      },
    });

    // Assert
    // REJECTED as REHEARSAL.md has it (no approval in time), but the error names the gate and its wait.
    expect(report.status).toBe('REJECTED');
    expect(report.error).toBe(
      'States.Timeout: no answer at "Approval 3: edge rollout OK, continue?" within 86400 s (approvals.onTimeout: rollback)',
    );
    expect(report.approvals.map((a) => [a.gate, a.decision])).toEqual([
      [STATE.gateStart, 'approved'],
      [STATE.gateCanary, 'approved'],
      [STATE.gateEdge, 'timeout'],
    ]);
    const tls = report.targets.filter((t) => t.before !== null);
    expect(tls.filter((t) => t.servedAfter !== t.before)).toEqual([]);
    expect(report.targets.filter((t) => t.rolledBack).length).toBeGreaterThanOrEqual(7);
    expect(report.stopped).toBeUndefined();
    expect(report.phases.find((p) => p.name === 'rollback')?.status).toBe('SUCCEEDED');
    // The gate waited its configured day in simulated time.
    expect(report.simulatedSeconds).toBeGreaterThan(86_400);
    const result = sim!.sns.messages.at(-1)!;
    expect(result.subject).toBe('[cert-rotation gitter.im] Rotation ROLLED BACK: Approval 3 timed out after 86400 s');
    expect(result.message.split('\n')[0]).toBe(
      'Certificate rotation for gitter.im: ROLLED BACK because nobody answered "Approval 3: edge rollout OK, continue?" within 86400 s (reported as REJECTED)',
    );
    expect(result.message).toContain('Reason: States.Timeout: no answer at "Approval 3: edge rollout OK, continue?" within 86400 s');
    expect(exitCodeFor(report)).toBe(1);
  });

  test('onTimeout: stop: Approval 3 times out after its own timeout, the canary and edge stay on the new certificate, the report and the email say so', async () => {
    // Arrange
    let sim: SimulatedAccount | undefined;

    // Act
    const report = await rehearse({
      config: configWith({ timeoutSeconds: 86400, onTimeout: 'stop', gates: { edge: { timeoutSeconds: 3600 } } }),
      approve: { mode: 'timeout', gate: 'edge' },
      beforeStart: (s) => {
        sim = s;
      },
    });

    // Assert: stopped, not a rollback that failed
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^GateTimedOut: Stopped at "Approval 3: edge rollout OK, continue\?" after no answer for 3600 s/);
    expect(report.rollbackIncomplete).toBeUndefined();
    expect(report.approvals.at(-1)).toEqual({ gate: STATE.gateEdge, decision: 'timeout' });
    const newSha = report.certificate.new!.sha256;
    const onNew = report.targets.filter((t) => t.changed).map((t) => t.key);
    expect(report.targets.filter((t) => t.changed).every((t) => t.servedAfter === newSha)).toBe(true);
    expect(onNew).toEqual(expect.arrayContaining(['elb/apps-servers-elb-prod/6667', 'cloudfront/E1GITTERCDN']));
    // Nodes were not reached; nothing was rolled back.
    expect(report.targets.filter((t) => t.kind === 'node' && t.changed)).toEqual([]);
    expect(report.targets.filter((t) => t.rolledBack)).toEqual([]);
    expect(report.stopped).toEqual({
      gate: 'edge',
      stateName: STATE.gateEdge,
      timeoutSeconds: 3600,
      changesKept: true,
      keptOnNew: onNew,
      workflowKeptOnNew: expect.arrayContaining(onNew) as unknown,
      neitherCertificate: [],
      consistent: true,
    });
    expect(report.stopped!.workflowKeptOnNew).toHaveLength(onNew.length);
    expect(report.phases.find((p) => p.name === 'rollback')?.status).toBe('NOT_RUN');
    expect(report.phases.find((p) => p.name === 'approval: edge')?.status).toBe('FAILED');
    // The gate waited its own hour (not the default day) in simulated time.
    expect(report.simulatedSeconds).toBeGreaterThan(3600);
    expect(report.simulatedSeconds).toBeLessThan(86_400);
    const email = sim!.sns.messages.at(-1)!;
    expect(email.subject).toBe(
      `ACTION NEEDED: [cert-rotation gitter.im] STOPPED at a gate (timeout), ${onNew.length} target(s) kept on new`,
    );
    expect(email.message).toContain('Nothing was rolled back.');
    expect(email.message).toContain('  ELB apps-servers-elb-prod:6667');
    expect(email.message).toContain('aws elb set-load-balancer-listener-ssl-certificate');
    expect(report.secretScan.findings).toBe(0);
    expect(exitCodeFor(report)).toBe(1);
  });

  test('onTimeout: stop at Approval 1: nothing had changed, every target as before', async () => {
    const report = await rehearse({
      config: configWith({ onTimeout: 'stop' }),
      approve: { mode: 'timeout', gate: 'start' },
    });

    expect(report.status).toBe('FAILED');
    expect(report.error).toContain('Nothing had changed.');
    expect(report.approvals).toEqual([{ gate: STATE.gateStart, decision: 'timeout' }]);
    expect(report.targets.filter((t) => t.changed)).toEqual([]);
    expect(report.stopped).toMatchObject({ gate: 'start', keptOnNew: [], consistent: true });
    expect(report.notifications.at(-1)?.subject).toBe('[cert-rotation gitter.im] Rotation STOPPED at a gate (timeout): nothing changed');
  });
});
