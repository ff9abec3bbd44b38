import { loadConfig } from '../../local/cli';
import type { RehearsalReport } from '../../local/rehearsal';
import { defaultFleet } from '../../local/sim';
import { nodeGateName } from '../../lib/phases/node-approval';
import { rehearse } from '../support/rehearsal';

/**
 * The node phases in the local engine: the real synthesized definition and handlers, the simulated
 * SSM Run Command running the real deploy script on the nginx nodes (in memory for the others),
 * judged by the rehearsal's own TLS handshakes to every node. Default fleet: beta (gitter-beta,
 * nginx), the prod canary ws-01, and the prod fleet ws-02, ws-03, webapp-01.
 */

const nodes = (r: RehearsalReport) => r.targets.filter((t) => t.kind === 'node');
const node = (r: RehearsalReport, id: string) => {
  const t = r.targets.find((x) => x.key === `node/${id}`);
  if (!t) throw new Error(`no node/${id} in the report`);
  return t;
};
const phase = (r: RehearsalReport, name: string) => r.phases.find((p) => p.name === name)?.status;
/** Every target serves what it served at the start (over TLS). */
const allBack = (r: RehearsalReport) => r.targets.filter((t) => t.servedAfter !== t.before).map((t) => t.key);

describe('node phases (workflow)', () => {
  test('beta, the prod canary ws-01, then the prod fleet, with Approval 4 and 5 between: every node serves the new certificate', async () => {
    // Act
    const report = await rehearse();

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    const fresh = report.certificate.new?.sha256;
    expect(nodes(report).map((t) => [t.key, t.servedAfter === fresh, t.changed])).toEqual(nodes(report).map((t) => [t.key, true, true]));
    expect(nodes(report)).toHaveLength(5);
    const gates = report.approvals.map((a) => a.gate);
    expect(gates.slice(3)).toEqual([nodeGateName(4, 'beta'), nodeGateName(5, 'prod-canary')]);
    for (const p of ['nodes: beta', 'approval: nodes beta', 'nodes: prod-canary', 'approval: nodes prod-canary', 'nodes: prod']) {
      expect({ p, status: phase(report, p) }).toEqual({ p, status: 'SUCCEEDED' });
    }
    // One command per phase (each at most 50 nodes: by id), and no rollback command.
    expect(report.apiCalls['ssm:SendCommand']).toBe(3);
    expect(report.secretScan.findings).toBe(0);
  });

  test('rejected at Approval 4 (after beta): beta and the edge are back on the previous certificate, prod untouched', async () => {
    // Act
    const report = await rehearse({ approve: { mode: 'reject', gate: 'Approval 4' } });

    // Assert
    expect(report.status).toBe('REJECTED');
    expect(allBack(report)).toEqual([]);
    expect(node(report, 'i-0beta').rolledBack).toBe(true);
    expect(report.approvals.at(-1)).toMatchObject({ gate: nodeGateName(4, 'beta'), decision: 'rejected', approver: 'rehearsal' });
    expect(phase(report, 'nodes: prod-canary')).toBe('NOT_RUN');
    expect(report.apiCalls['ssm:SendCommand']).toBe(2); // beta's install, then its rollback
  });

  test('rejected at Approval 5 (after ws-01): reject:GATE matches the new gate by its name', async () => {
    const report = await rehearse({ approve: { mode: 'reject', gate: 'prod-canary nodes' } });
    expect(report.status).toBe('REJECTED');
    expect(report.approvals.at(-1)).toMatchObject({ gate: nodeGateName(5, 'prod-canary'), decision: 'rejected', approver: 'rehearsal' });
    expect(allBack(report)).toEqual([]);
    expect(node(report, 'i-0ws01').rolledBack).toBe(true);
  });

  test('nginx-config-invalid on a fleet node: the prod phase stops, the rollback is verified, that node still serves the old certificate', async () => {
    // Act
    const report = await rehearse({ faults: [{ instance: 'i-0ws03', fault: 'nginx-config-invalid' }] });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^NodeDeploymentFailed: .*ws-03 \(i-0ws03\)/);
    expect(phase(report, 'nodes: prod')).toBe('FAILED');
    expect(report.rollbackIncomplete).toBeUndefined();
    const ws03 = node(report, 'i-0ws03');
    expect(ws03.servedAfter).toBe(report.certificate.previous.sha256);
    expect(ws03.changed).toBe(false);
    // Every node, listener and distribution is back on what it served before.
    expect(allBack(report)).toEqual([]);
    expect(node(report, 'i-0ws01').rolledBack).toBe(true);
    expect(node(report, 'i-0beta').rolledBack).toBe(true);
  });

  test('an offline node in the prod phase: by default the rotation refuses to start, naming it; nothing changed', async () => {
    // Act
    const report = await rehearse({ faults: [{ instance: 'i-0ws02', fault: 'offline' }] });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^NodesUnavailable: .*ws-02 \(i-0ws02, phase prod\)/);
    expect(allBack(report)).toEqual([]);
    expect(report.apiCalls['ssm:SendCommand']).toBeUndefined();
    expect(report.apiCalls['iam:UploadServerCertificate']).toBeUndefined();
  });

  test('an offline node with unavailableNodes "skip": the others rotate, it stays on the old certificate, and the report names it', async () => {
    // Arrange
    const base = loadConfig();
    const config = { ...base, nodeRollout: { ...base.nodeRollout, unavailableNodes: 'skip' as const } };

    // Act
    const report = await rehearse({ config, faults: [{ instance: 'i-0ws02', fault: 'offline' }] });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    const { previous } = report.certificate;
    const fresh = report.certificate.new?.sha256;
    // No node on a certificate other than the old or the new one.
    for (const t of nodes(report)) expect([previous.sha256, fresh]).toContain(t.servedAfter);
    expect(node(report, 'i-0ws02').servedAfter).toBe(previous.sha256);
    expect(node(report, 'i-0ws03').servedAfter).toBe(fresh);
    expect(report.skippedNodes).toEqual([
      { instanceId: 'i-0ws02', name: 'ws-02', phase: 'prod', reason: expect.stringMatching(/ConnectionLost|not managed/) },
    ]);
  });

  test('an instance in no node phase is untouched', async () => {
    // Arrange: a staging node (Env=staging) no phase selects
    const fleet = defaultFleet();
    const report = await rehearse({
      fleet: {
        ...fleet,
        instances: [...fleet.instances, { id: 'i-0staging1', tags: { Name: 'staging-01', Env: 'staging' }, nginx: false }],
      },
    });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    const staging = node(report, 'i-0staging1');
    expect(staging.changed).toBe(false);
    expect(staging.servedAfter).toBe(report.certificate.previous.sha256);
  });
});
