/**
 * The start email in the real synthesized state machine (local engine, simulated account): sent
 * once the plan is made, before Approval 1's email, naming both certificates and each phase's
 * targets from the execution's own plan; no key material, no link.
 */
import { STATE } from '../../lib/cert-rotation';
import type { SimulatedAccount } from '../../local/sim';
import { rehearse } from '../support/rehearsal';

jest.setTimeout(180_000);

test('the first email is the plan: both certificates, the canary, the edge and each node phase by name, then Approval 1', async () => {
  // Arrange
  let sim: SimulatedAccount | undefined;

  // Act
  const report = await rehearse({
    approve: { mode: 'reject', gate: 'start' },
    beforeStart: (s) => {
      sim = s;
    },
  });

  // Assert
  expect(report.notifications.map((n) => n.subject).slice(0, 2)).toEqual([
    '[cert-rotation gitter.im] Rotation started: the plan',
    `[cert-rotation gitter.im] Approval needed: ${STATE.gateStart}`,
  ]);
  const email = sim!.sns.messages[0].message;
  expect(email).toContain(`  SHA-256: ${report.certificate.new!.sha256}`);
  expect(email).toContain(`  SHA-256: ${report.certificate.previous.sha256}`);
  expect(email).toContain('Canary: 1 classic ELB listeners\n  - ELB apps-servers-elb-prod:6667');
  expect(email).toContain('  - CloudFront E1GITTERCDN (cdn.gitter.im)');
  expect(email).not.toContain('E3OTHER');
  expect(email).toMatch(/Nodes beta: 1 nodes\n {2}- node gitter-beta \(i-0beta\)/);
  expect(email).toContain('Nodes prod-canary: 1 nodes');
  expect(email.replace(/\n\s*/g, ' ')).toContain(`Next: "${STATE.gateStart}" (a separate email with the link).`);
  expect(email).not.toMatch(/https?:\/\//);
  expect(report.phases.find((p) => p.name === 'plan')?.status).toBe('SUCCEEDED');
  expect(report.secretScan.findings).toBe(0);
});
