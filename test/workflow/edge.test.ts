import { edgeFleet, MIXED_FLEET, type EdgeFleetSize } from '../../local/edge-fleets';
import type { RehearsalReport } from '../../local/rehearsal';
import type { SimulatedAccount } from '../../local/sim';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseFleet } from '../../local/sim';
import { rehearse } from '../support/rehearsal';

/**
 * The edge rollout phase in the local engine: the real synthesized definition, the real handlers,
 * the simulated account, real TLS on 127.0.0.1.
 */

/** A small mixed fleet: 8 classic listeners, 8 ELBv2 listeners (SNI lists among them), 6 distributions; a few of each on "other". */
const SMALL: EdgeFleetSize = { classicListeners: 8, v2Listeners: 8, distributions: 6, nodes: 1, maxDeploySeconds: 120 };

type Certs = Array<{ arn: string; isDefault: boolean }>;

/** Every ELBv2 listener's full certificate list, read through the simulated API (its request rate applies: the test paces itself in simulated time). */
async function listenerCertificates(sim: SimulatedAccount): Promise<Map<string, Certs>> {
  const out = new Map<string, Certs>();
  for (const t of sim.targets().filter((x) => x.kind === 'elbv2')) {
    sim.clock.advance(1);
    const r = (await sim.handle('elbv2:DescribeListenerCertificates', { ListenerArn: t.id })) as {
      Certificates?: Array<{ CertificateArn?: string; IsDefault?: boolean }>;
    };
    out.set(
      t.key,
      (r.Certificates ?? []).map((c) => ({ arn: c.CertificateArn ?? '', isDefault: c.IsDefault === true })),
    );
  }
  return out;
}

async function canaryArn(sim: SimulatedAccount): Promise<string> {
  const r = (await sim.handle('elb:DescribeLoadBalancers', { LoadBalancerNames: ['apps-servers-elb-prod'] })) as {
    LoadBalancerDescriptions?: Array<{
      ListenerDescriptions?: Array<{ Listener?: { LoadBalancerPort?: number; SSLCertificateId?: string } }>;
    }>;
  };
  return (
    r.LoadBalancerDescriptions?.[0]?.ListenerDescriptions?.find((d) => d.Listener?.LoadBalancerPort === 6667)?.Listener?.SSLCertificateId ??
    ''
  );
}

/** Edge targets (listeners and distributions) that served the previous certificate over TLS at the start. */
const servedOld = (r: RehearsalReport) => r.targets.filter((t) => t.kind !== 'node' && t.before === r.certificate.previous.sha256);
const servedOther = (r: RehearsalReport) =>
  r.targets.filter((t) => t.kind !== 'node' && t.before !== null && t.before !== r.certificate.previous.sha256);

describe('edge rollout (workflow)', () => {
  test('the fleet file of the README command (test/fixtures/fleet-edge-mixed.json) is the mixed fleet these tests rehearse', () => {
    const file = join(__dirname, '..', 'fixtures', 'fleet-edge-mixed.json');
    expect(parseFleet(JSON.parse(readFileSync(file, 'utf8')), file)).toEqual(edgeFleet(MIXED_FLEET));
  });

  test('a mixed fleet (50 classic, 20 ELBv2 with SNI lists, 30 distributions) ends with every old-certificate target on the new one, the rest untouched', async () => {
    // Arrange
    let sim: SimulatedAccount | undefined;
    let startLists = new Map<string, Certs>();
    let oldArn = '';

    // Act
    const report = await rehearse({
      fleet: edgeFleet(MIXED_FLEET),
      beforeStart: async (s) => {
        sim = s;
        startLists = await listenerCertificates(s);
        oldArn = await canaryArn(s);
      },
    });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    const newSha = report.certificate.new?.sha256;
    expect(servedOld(report).length).toBeGreaterThan(90);
    for (const t of servedOld(report)) expect({ key: t.key, servedAfter: t.servedAfter }).toEqual({ key: t.key, servedAfter: newSha });
    expect(servedOther(report).length).toBeGreaterThan(5);
    for (const t of servedOther(report)) expect({ key: t.key, changed: t.changed }).toEqual({ key: t.key, changed: false });
    // SNI lists: the old certificate replaced by the new one, every other certificate kept, nothing else changed.
    const newArn = await canaryArn(sim!);
    const endLists = await listenerCertificates(sim!);
    const normalize = (certs: Certs) => certs.map((c) => `${c.isDefault ? 'default' : 'sni'}:${c.arn}`).sort();
    for (const [key, start] of startLists) {
      const expected = start.map((c) => ({ ...c, arn: c.arn === oldArn ? newArn : c.arn }));
      expect({ key, certs: normalize(endLists.get(key) ?? []) }).toEqual({ key, certs: normalize(expected) });
    }
    expect([...startLists.values()].some((l) => l.filter((c) => !c.isDefault).length >= 2)).toBe(true);
    // The phase waits for all distributions together: its time is near the slowest one's, not their sum.
    const edge = report.phases.find((p) => p.name === 'edge');
    expect(edge?.status).toBe('SUCCEEDED');
    expect(edge?.simulatedSeconds).toBeLessThanOrEqual(1.3 * 300);
    expect(report.maxStatePayloadBytes).toBeLessThan(64 * 1024);
    expect(report.approvals.map((a) => a.gate)).toContain('Approval 3: edge rollout OK, continue?');
    expect(report.secretScan.findings).toBe(0);
  });

  test('a rejection at the gate after the edge phase rolls every target back, verified over TLS', async () => {
    // Act
    const report = await rehearse({ fleet: edgeFleet(SMALL), approve: { mode: 'reject', gate: 'rollout' } });

    // Assert
    expect(report.status).toBe('REJECTED');
    expect(report.approvals.at(-1)).toMatchObject({
      gate: 'Approval 3: edge rollout OK, continue?',
      decision: 'rejected',
      approver: 'rehearsal',
    });
    expect(report.phases.find((p) => p.name === 'edge')?.status).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'rollback')?.status).toBe('SUCCEEDED');
    for (const t of report.targets) expect({ key: t.key, servedAfter: t.servedAfter }).toEqual({ key: t.key, servedAfter: t.before });
    for (const t of servedOld(report)) expect({ key: t.key, rolledBack: t.rolledBack }).toEqual({ key: t.key, rolledBack: true });
    for (const t of servedOther(report)) expect({ key: t.key, rolledBack: t.rolledBack }).toEqual({ key: t.key, rolledBack: false });
  });

  test('PreconditionFailed races and 20% throttling on every call still end with every target switched', async () => {
    // Act
    const report = await rehearse({
      fleet: edgeFleet(SMALL),
      faults: [
        { operation: 'cloudfront:UpdateDistribution', error: 'PreconditionFailed', count: 3 },
        { operation: '*', error: 'Throttling', rate: 0.2, seed: 7 },
      ],
    });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    for (const t of servedOld(report))
      expect({ key: t.key, servedAfter: t.servedAfter }).toEqual({ key: t.key, servedAfter: report.certificate.new?.sha256 });
    for (const t of servedOther(report)) expect({ key: t.key, changed: t.changed }).toEqual({ key: t.key, changed: false });
  });

  test('a crash in the middle of an edge batch (afterCalls) re-runs the batch without changing anything twice', async () => {
    // Act (IAM propagates at once, so every switch call counted below is one that took effect)
    const fleet = { ...edgeFleet(SMALL), iamPropagationSeconds: 0 };
    let sim: SimulatedAccount | undefined;
    const report = await rehearse({
      fleet,
      beforeStart: (s) => {
        sim = s;
      },
      faults: [
        { state: 'Edge: switch a batch of classic ELB listeners', fault: 'crash-after-side-effects', afterCalls: 5, count: 1 },
        { state: 'Edge: switch a batch of CloudFront distributions', fault: 'crash-after-side-effects', afterCalls: 4, count: 1 },
        { state: 'Edge: switch a batch of ELBv2 listeners', fault: 'crash-after-side-effects', afterCalls: 2, count: 1 },
      ],
    });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'edge')?.retries).toBeGreaterThanOrEqual(3);
    const old = servedOld(report);
    const classic = old.filter((t) => t.kind === 'elb').length; // the canary included: one call each
    const distributions = old.filter((t) => t.kind === 'cloudfront').length;
    // Calls that took effect (a call refused as throttled, or sent by a crashed invocation, changed nothing).
    const tookEffect = (op: string) => sim!.calls.filter((c) => c.operation === op && !c.error).length;
    expect(tookEffect('elb:SetLoadBalancerListenerSSLCertificate')).toBe(classic);
    expect(tookEffect('cloudfront:UpdateDistribution')).toBe(distributions);
    for (const t of old)
      expect({ key: t.key, servedAfter: t.servedAfter }).toEqual({ key: t.key, servedAfter: report.certificate.new?.sha256 });
  });

  test('serves-stale on one distribution fails the edge phase and rolls everything back', async () => {
    // Act
    const report = await rehearse({ fleet: edgeFleet(SMALL), faults: [{ target: 'cloudfront/EEDGE1', fault: 'serves-stale' }] });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toContain('EEDGE1');
    expect(report.phases.find((p) => p.name === 'edge')?.status).toBe('FAILED');
    expect(report.phases.find((p) => p.name === 'rollback')?.status).toBe('SUCCEEDED');
    for (const t of report.targets) expect({ key: t.key, servedAfter: t.servedAfter }).toEqual({ key: t.key, servedAfter: t.before });
    expect(report.targets.find((t) => t.key === 'cloudfront/EEDGE0')?.rolledBack).toBe(true);
  });
});
