import { createIntermediateCa, createRootCa, issueCertificate, issueWithFreshPki } from '../../local/certs';
import { defaultFleet, parseFleet } from '../../local/sim';
import { canaryOf, certificateDir, mutatingCalls, rehearse } from '../support/rehearsal';

/**
 * The real synthesized state machine, run by the local ASL engine against the simulated account,
 * with the real handlers and real TLS handshakes on 127.0.0.1.
 */
describe('rehearsal of a rotation (workflow)', () => {
  test('happy path: the canary serves the new certificate, unrelated listeners are untouched, no key leaks', async () => {
    // Act
    const report = await rehearse();

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    const newSha = report.certificate.new?.sha256;
    expect(newSha).toMatch(/^[0-9a-f]{64}$/);
    const canary = canaryOf(report);
    expect(canary).toMatchObject({ changed: true, rolledBack: false, after: newSha, servedAfter: newSha });
    // Every edge target that served the previous certificate serves the new one (the edge phase),
    // and so does every node (the node phases); the ones on an unrelated certificate serve what they served.
    const previous = report.certificate.previous.sha256;
    const edgeOld = report.targets.filter((x) => x !== canary && x.kind !== 'node' && x.before === previous);
    expect(edgeOld.map((t) => t.key).sort()).toEqual([
      'cloudfront/E1GITTERCDN',
      'cloudfront/E2GITTERAVATARS',
      'elb/apps-servers-elb-prod/443',
      'elb/webapp-elb-prod/443',
      'elb/ws-elb-prod/443',
      'elbv2/api-alb-prod/443',
    ]);
    const nodes = report.targets.filter((x) => x.kind === 'node');
    expect(nodes.map((t) => t.key).sort()).toEqual(['node/i-0beta', 'node/i-0webapp01', 'node/i-0ws01', 'node/i-0ws02', 'node/i-0ws03']);
    for (const t of [...edgeOld, ...nodes])
      expect({ key: t.key, changed: t.changed, servedAfter: t.servedAfter }).toEqual({ key: t.key, changed: true, servedAfter: newSha });
    for (const t of report.targets.filter((x) => x !== canary && !edgeOld.includes(x) && !nodes.includes(x))) {
      expect({ id: t.id, port: t.port, changed: t.changed, servedAfter: t.servedAfter }).toEqual({
        id: t.id,
        port: t.port,
        changed: false,
        servedAfter: t.before,
      });
    }
    const other = report.targets.find((t) => t.id === 'legacy-elb');
    expect(other?.before).not.toBe(report.certificate.previous.sha256);
    expect(report.approvals.map((a) => a.decision)).toEqual(['approved', 'approved', 'approved', 'approved', 'approved']);
    expect(report.apiCalls['iam:UploadServerCertificate']).toBe(1);
    expect(report.notifications.map((n) => n.subject)).toEqual(
      expect.arrayContaining([expect.stringContaining('Approval needed'), expect.stringContaining('Rotation SUCCEEDED')]),
    );
    expect(report.secretScan).toMatchObject({ findings: 0 });
    // The scan really read the handlers' logs, the history, the emails and the S3 documents.
    for (const place of ['execution history', 'logs', 'notifications', 's3 objects', 'report'] as const) {
      expect(report.secretScan.searched[place]).toBeGreaterThan(0);
    }
    // places lists what was read (this workflow writes no SSM parameter and runs no command yet).
    expect(report.secretScan.places).toEqual(
      expect.arrayContaining(['execution history', 'logs', 'notifications', 's3 objects', 'report']),
    );
    expect(report.maxStatePayloadBytes).toBeLessThan(256 * 1024);
    expect(report.stateTransitions).toBeGreaterThan(10);
    expect(report.phases.map((p) => p.name)).toEqual(
      expect.arrayContaining(['guard', 'obtain', 'validate', 'plan', 'upload', 'canary edge', 'edge', 'approval: edge', 'finish']),
    );
    expect(report.phases.find((p) => p.name === 'edge')?.status).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'canary edge')?.status).toBe('SUCCEEDED');
    expect(report.phases.find((p) => p.name === 'rollback')?.status).toBe('NOT_RUN');
  });

  test('rejection at the gate after the canary rolls the canary back and verifies it', async () => {
    // Act
    // (IAM propagates at once here, so that every switch call counted below succeeds.)
    const report = await rehearse({ approve: { mode: 'reject', gate: 'canary' }, fleet: { ...defaultFleet(), iamPropagationSeconds: 0 } });

    // Assert
    expect(report.status).toBe('REJECTED');
    expect(report.error).toMatch(/^ApprovalRejected/);
    // As the approval store recorded them: decision, approver and comment (through the page's POST).
    expect(report.approvals).toEqual([
      {
        gate: expect.stringContaining('start'),
        decision: 'approved',
        approver: 'rehearsal',
        comment: '--approve reject:canary',
        decidedAt: expect.any(String),
      },
      {
        gate: expect.stringContaining('canary'),
        decision: 'rejected',
        approver: 'rehearsal',
        comment: '--approve reject:canary',
        decidedAt: expect.any(String),
      },
    ]);
    for (const t of report.targets)
      expect({ id: t.id, port: t.port, served: t.servedAfter }).toEqual({ id: t.id, port: t.port, served: t.before });
    expect(canaryOf(report)).toMatchObject({ changed: false, rolledBack: true });
    // Switched twice (forward, back) and the rollback verified over the API and TLS.
    expect(report.apiCalls['elb:SetLoadBalancerListenerSSLCertificate']).toBe(2);
    expect(report.apiCalls['iam:DeleteServerCertificate']).toBe(1);
    expect(report.phases.find((p) => p.name === 'rollback')?.status).toBe('SUCCEEDED');
    expect(report.notifications.map((n) => n.subject)).toContainEqual(expect.stringContaining('Rotation REJECTED'));
    expect(report.secretScan.findings).toBe(0);
  });

  test('staged as files in the S3 staging bucket: imported into a secret, the staged key deleted, the rotation succeeds', async () => {
    // Act
    const report = await rehearse({ stageVia: 's3' });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.apiCalls['secretsmanager:CreateSecret']).toBe(1);
    expect(report.apiCalls['s3:DeleteObject']).toBe(1);
    // The scan covers every S3 object left (cert.pem and chain.pem are still there, key.pem is not).
    expect(report.secretScan.searched['s3 objects']).toBeGreaterThan(0);
    expect(report.secretScan.findings).toBe(0);
  });

  test('rejection at the first gate changes nothing', async () => {
    const report = await rehearse({ approve: { mode: 'reject', gate: 'start' } });

    expect(report.status).toBe('REJECTED');
    expect(mutatingCalls(report)).toEqual([]);
    for (const t of report.targets) expect(t.changed).toBe(false);
  });

  test('CertificateNotFound x3 and 20% throttling are retried: the rotation still succeeds', async () => {
    // Arrange
    const faults = [
      { operation: 'elb:SetLoadBalancerListenerSSLCertificate', error: 'CertificateNotFound', count: 3 },
      { operation: '*', error: 'Throttling', rate: 0.2, seed: 7 },
    ] as const;

    // Act
    const report = await rehearse({ faults: faults });

    // Assert
    expect(report.error).toBeUndefined();
    expect(report.status).toBe('SUCCEEDED');
    expect(canaryOf(report).servedAfter).toBe(report.certificate.new?.sha256);
    expect(report.apiCalls['elb:SetLoadBalancerListenerSSLCertificate']).toBeGreaterThanOrEqual(4);
    // Simulated retry pauses are counted (5 + 10 + 20 s of backoff at least).
    expect(report.simulatedSeconds).toBeGreaterThan(35);
    // Retried states that then succeeded leave their phase SUCCEEDED.
    for (const phase of report.phases.filter((p) => p.status !== 'NOT_RUN')) expect(phase).toMatchObject({ status: 'SUCCEEDED' });
    expect(report.secretScan.findings).toBe(0);
  });

  test('a crash after the canary switch took effect is retried without losing the ledger', async () => {
    const report = await rehearse({
      faults: [{ state: 'Canary: switch', fault: 'crash-after-side-effects', count: 1 }] as never,
      approve: { mode: 'reject', gate: 'canary' },
      fleet: { ...defaultFleet(), iamPropagationSeconds: 0 },
    });

    // The retried switch found the listener switched already; rollback still knew the old certificate.
    expect(report.status).toBe('REJECTED');
    expect(report.apiCalls['elb:SetLoadBalancerListenerSSLCertificate']).toBe(2);
    expect(canaryOf(report)).toMatchObject({ rolledBack: true, servedAfter: canaryOf(report).before });
  });

  test('a crash after the IAM upload is retried: the certificate is reused, not uploaded twice', async () => {
    const report = await rehearse({ faults: [{ state: 'Upload', fault: 'crash-after-side-effects', count: 1 }] as never });

    expect(report.status).toBe('SUCCEEDED');
    expect(report.apiCalls['iam:UploadServerCertificate']).toBe(1);
  });
});

describe('fleet files', () => {
  test('a fleet of its own: listeners without TLS are reported untouched, "other" certificates are left alone', async () => {
    // Arrange
    const fleet = parseFleet(
      {
        domain: 'gitter.im',
        currentCertDaysLeft: 10,
        elbs: [
          {
            name: 'apps-servers-elb-prod',
            listeners: [
              { port: 6667, protocol: 'SSL' },
              { port: 80, protocol: 'HTTP' },
              { port: 443, protocol: 'HTTPS', certificate: 'other' },
            ],
          },
        ],
        albs: [
          { name: 'api', listeners: [{ port: 443, sni: ['other', 'current'] }] },
          // Default "other", SNI "current": clients of the domain get the SNI one, before and after.
          { name: 'api2', listeners: [{ port: 443, certificate: 'other', sni: ['current'] }] },
        ],
        distributions: [{ id: 'E2EXAMPLE', aliases: ['cdn.gitter.im'], deploySeconds: 30 }],
        instances: [{ id: 'i-0beta', tags: { Name: 'gitter-beta', Env: 'beta' }, nginx: true }],
      },
      'test fleet',
    );

    // Act
    const report = await rehearse({ fleet });

    // Assert
    expect(report.status).toBe('SUCCEEDED');
    expect(report.targets.find((t) => t.port === 80)).toEqual({
      key: 'elb/apps-servers-elb-prod/80',
      kind: 'elb',
      id: 'apps-servers-elb-prod',
      port: 80,
      before: null,
      apiBefore: null,
      after: null,
      servedAfter: null,
      changed: false,
      rolledBack: false,
    });
    const other = report.targets.find((t) => t.kind === 'elb' && t.port === 443);
    expect(other).toMatchObject({ changed: false });
    expect(other?.servedAfter).toBe(other?.before);
    expect(report.targets.map((t) => t.kind).sort()).toEqual(['cloudfront', 'elb', 'elb', 'elb', 'elbv2', 'elbv2', 'node']);
    // Both ELBv2 listeners served the current certificate to the domain (default or SNI): now the new one.
    for (const t of report.targets.filter((x) => x.kind === 'elbv2')) {
      expect({ before: t.before, after: t.after, servedAfter: t.servedAfter }).toEqual({
        before: report.certificate.previous.sha256,
        after: report.certificate.new?.sha256,
        servedAfter: report.certificate.new?.sha256,
      });
    }
  });
});

describe('current certificate age', () => {
  test.each([120, -5])('the fleet says the current certificate has %i days left: the generated one still outlives it', async (days) => {
    const fleet = parseFleet(
      {
        domain: 'gitter.im',
        currentCertDaysLeft: days,
        elbs: [{ name: 'apps-servers-elb-prod', listeners: [{ port: 6667, protocol: 'SSL' }] }],
        albs: [],
        distributions: [],
        instances: [],
      },
      'test fleet',
    );

    const report = await rehearse({ fleet });

    expect(report.status).toBe('SUCCEEDED');
    expect(Date.parse(report.certificate.new?.notAfter ?? '')).toBeGreaterThan(Date.parse(report.certificate.previous.notAfter));
  });
});

describe('the workflow stops safely', () => {
  test('another rotation of the same domain is running: refused before any change', async () => {
    // Arrange: an execution of the same state machine started a minute ago and still runs.
    const report = await rehearse({
      beforeStart: (sim, { stateMachineArn }) =>
        sim.sfn.registerExecution({
          executionArn: `${stateMachineArn.replace(':stateMachine:', ':execution:')}:earlier`,
          stateMachineArn,
          name: 'earlier',
          status: 'RUNNING',
          startDate: new Date(Date.now() - 60_000),
        }),
    });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^ConcurrentRotation: rotation "earlier"/);
    expect(mutatingCalls(report)).toEqual([]);
    expect(report.approvals).toEqual([]);
  });

  test('the canary never serves the new certificate: verification gives up, the canary is rolled back', async () => {
    // Arrange: irc.gitter.im resolves to another load balancer (a DNS mistake), so the handshake never sees the new certificate.
    const report = await rehearse({
      beforeStart: (sim) => {
        const legacy = sim.targets().find((t) => t.id === 'legacy-elb');
        if (!legacy) throw new Error('fleet has no legacy-elb');
        sim.addDnsAlias('irc.gitter.im', { host: legacy.host });
      },
    });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(/^VerificationFailed: irc\.gitter\.im:6667 still does not serve the new certificate/);
    expect(canaryOf(report)).toMatchObject({ rolledBack: true, changed: false });
    for (const t of report.targets) expect(t.servedAfter).toBe(t.before);
    // Only the first gate was reached.
    expect(report.approvals).toHaveLength(1);
  });
});

describe('bad certificates are refused before any change', () => {
  const names = ['*.gitter.im', 'gitter.im'];
  const DAY = 86_400_000;

  async function expectRefused(files: Record<string, string>, problem: RegExp) {
    // Act
    const report = await rehearse({ certificateDir: certificateDir(files) });

    // Assert
    expect(report.status).toBe('FAILED');
    expect(report.error).toMatch(problem);
    expect(mutatingCalls(report)).toEqual([]);
    for (const t of report.targets) expect(t.servedAfter).toBe(t.before);
    expect(report.secretScan.findings).toBe(0);
    return report;
  }

  test('expired', async () => {
    const pki = await issueWithFreshPki({ names, notBefore: new Date(Date.now() - 100 * DAY), notAfter: new Date(Date.now() - DAY) });
    await expectRefused(
      { 'cert.pem': pki.certPem, 'key.pem': pki.keyPem, 'chain.pem': pki.chainPem, 'root.pem': pki.rootPem },
      /CertificateInvalid: .*expired/i,
    );
  });

  test('key does not match the certificate', async () => {
    const a = await issueWithFreshPki({ names });
    const b = await issueWithFreshPki({ names });
    await expectRefused(
      { 'cert.pem': a.certPem, 'key.pem': b.keyPem, 'chain.pem': a.chainPem, 'root.pem': a.rootPem },
      /CertificateInvalid: .*key/i,
    );
  });

  test('does not cover the domain', async () => {
    const pki = await issueWithFreshPki({ names: ['www.example.org'] });
    await expectRefused(
      { 'cert.pem': pki.certPem, 'key.pem': pki.keyPem, 'chain.pem': pki.chainPem, 'root.pem': pki.rootPem },
      /CertificateInvalid: .*gitter\.im/,
    );
  });

  test('chain holds the root (CloudFront rejects it)', async () => {
    const pki = await issueWithFreshPki({ names });
    await expectRefused(
      { 'cert.pem': pki.certPem, 'key.pem': pki.keyPem, 'chain.pem': `${pki.chainPem}\n${pki.rootPem}`, 'root.pem': pki.rootPem },
      /CertificateInvalid: .*root/i,
    );
  });

  test('issued by an untrusted CA', async () => {
    const root = await createRootCa({ name: 'Unknown Root' });
    const intermediate = await createIntermediateCa(root);
    const leaf = await issueCertificate({ names, issuer: intermediate, chain: [intermediate], root });
    await expectRefused(
      { 'cert.pem': leaf.certPem, 'key.pem': leaf.keyPem, 'chain.pem': leaf.chainPem },
      /CertificateInvalid: .*(trust|root)/i,
    );
  });

  test('no cert.pem at all: refused by the workflow, not the command line', async () => {
    const pki = await issueWithFreshPki({ names });
    await expectRefused({ 'key.pem': pki.keyPem, 'chain.pem': pki.chainPem, 'root.pem': pki.rootPem }, /InputInvalid: .*certificate/);
  });

  test('no private key staged', async () => {
    const pki = await issueWithFreshPki({ names });
    await expectRefused({ 'cert.pem': pki.certPem, 'chain.pem': pki.chainPem, 'root.pem': pki.rootPem }, /InputInvalid: .*privateKey/);
  });

  test('not a certificate at all', async () => {
    await expectRefused({ 'cert.pem': 'hello', 'key.pem': 'world' }, /CertificateInvalid/);
  });
});
