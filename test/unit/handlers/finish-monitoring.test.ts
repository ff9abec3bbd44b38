/**
 * Finish and the monitoring around a rotation (lambdas/finish/after-rotation.ts through
 * finishRotation): monit's fingerprint parameter written after a success, in the form openssl
 * prints; the PagerDuty window's close reported, a failed close a warning that changes no outcome.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetServerCertificateCommand, IAMClient } from '@aws-sdk/client-iam';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { finishRotation, type FinishParams, type FinishState } from '../../../lambdas/finish/domain';
import { ArtifactStore } from '../../../lambdas/shared/artifacts';
import { ChangeLedger } from '../../../lambdas/shared/ledger';
import { silentLogger } from '../../../lambdas/shared/logger';
import { issueWithFreshPki } from '../../../local/certs';
import { createInMemoryS3 } from '../../support/handler-s3';
import { canaryTarget, md5Of, seedLedger, sha256Of } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const EXECUTION = 'rotate-2026-12-01';
const PARAMETER = '/gitter/monit/certificate-md5';
const IAM_NAME = 'STAR.gitter.im_2026-12-01';
const REPORT = `executions/${EXECUTION}/report.json`;

const s3 = createInMemoryS3();
const snsMock = mockClient(SNSClient);
const iamMock = mockClient(IAMClient);
const ssmMock = mockClient(SSMClient);
const ledger = () => new ChangeLedger(new ArtifactStore(s3.client, ARTIFACTS), EXECUTION);

let certPem: string;
let state: FinishState;

beforeAll(async () => {
  ({ certPem } = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] }));
  state = {
    current: { sha256: 'a'.repeat(64), md5: 'B'.repeat(32), serial: '01', notAfter: '2026-12-10T00:00:00.000Z' },
    validation: { summary: { sha256: sha256Of(certPem), md5: md5Of(certPem), serial: '02', notAfter: '2027-03-01T00:00:00.000Z' } },
    uploaded: { arn: `arn:aws:iam::123456789012:server-certificate/cloudfront/gitter-production/${IAM_NAME}`, name: IAM_NAME },
    maintenance: {
      windowId: 'PMW0001',
      serviceName: 'monit-prod-critical',
      services: ['PQ8QK9U'],
      endTime: '2026-12-06T10:00:00.000Z',
      reused: false,
    },
    maintenanceClose: { closed: ['PMW0001'] },
  };
});

beforeEach(() => {
  s3.reset();
  snsMock.reset();
  iamMock.reset();
  ssmMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  ssmMock.on(PutParameterCommand).resolves({ Version: 2 });
  iamMock.on(GetServerCertificateCommand).resolves({
    ServerCertificate: {
      CertificateBody: certPem,
      ServerCertificateMetadata: {
        Path: '/cloudfront/gitter-production/',
        ServerCertificateName: IAM_NAME,
        ServerCertificateId: 'A',
        Arn: 'arn',
      },
    },
  });
});

function makeParams(overrides: Partial<FinishParams> = {}): FinishParams {
  return {
    sns: new SNSClient({ region: 'eu-west-1' }),
    iam: new IAMClient({ region: 'us-east-1' }),
    ssm: new SSMClient({ region: 'eu-west-1' }),
    store: new ArtifactStore(s3.client, ARTIFACTS),
    ledger: ledger(),
    logger: silentLogger,
    topicArn: 'arn:aws:sns:eu-west-1:123456789012:cert-rotation',
    domain: 'gitter.im',
    executionName: EXECUTION,
    succeeded: true,
    state,
    now: () => new Date('2026-12-01T12:00:00.000Z'),
    monitParameter: PARAMETER,
    ...overrides,
  };
}

const email = () => snsMock.commandCalls(PublishCommand)[0].args[0].input;
const report = () => s3.json<Record<string, unknown>>(ARTIFACTS, REPORT);

/** What monit's runbook command prints for the certificate, `MD5 Fingerprint=` taken off. */
function opensslMd5(pem: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'finish-md5-'));
  writeFileSync(join(dir, 'cert.pem'), pem);
  const out = execFileSync('sh', ['-c', `openssl x509 -fingerprint -md5 -noout -in '${join(dir, 'cert.pem')}' | tr -d :`], {
    encoding: 'utf8',
  });
  return out.trim().replace(/^MD5 Fingerprint=/i, '');
}

describe("monit's fingerprint parameter", () => {
  test('after a success: the new MD5, as `openssl x509 -fingerprint -md5 -noout | tr -d :` prints it, into the parameter (String, overwritten)', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at: new Date('2026-12-01T11:00:00.000Z'), phase: 'canary', status: 'applied' });

    // Act
    const result = await finishRotation(makeParams());

    // Assert
    const puts = ssmMock.commandCalls(PutParameterCommand).map((c) => c.args[0].input);
    expect(puts).toEqual([{ Name: PARAMETER, Value: opensslMd5(certPem), Type: 'String', Overwrite: true }]);
    expect(result).toMatchObject({ status: 'SUCCEEDED' });
    expect(result).not.toHaveProperty('monitWarning');
    expect(email().Message).toContain(`Written to the SSM parameter ${PARAMETER} (String).`);
    expect(report()?.monit).toEqual({ parameter: PARAMETER, value: opensslMd5(certPem), written: true });
  });

  test('a failed write is a warning (email, subject, report, result) with the command to set it by hand; still SUCCEEDED', async () => {
    // Arrange
    ssmMock.on(PutParameterCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    // Act
    const result = await finishRotation(makeParams());

    // Assert
    expect(result).toMatchObject({ status: 'SUCCEEDED', monitWarning: 'AccessDeniedException: not authorized' });
    expect(email().Subject).toBe('[cert-rotation gitter.im] Rotation SUCCEEDED (monit parameter not written)');
    expect(email().Message).toContain(`aws ssm put-parameter --name ${PARAMETER} --type String --overwrite --value ${md5Of(certPem)}`);
    expect(report()?.monit).toMatchObject({ written: false, error: 'AccessDeniedException: not authorized' });
  });

  test('after a failure or rollback nothing is written (the previous certificate is back)', async () => {
    // Act
    await finishRotation(makeParams({ succeeded: false, state: { ...state, error: { Error: 'ApprovalRejected', Cause: 'no' } } }));

    // Assert
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
    expect(report()?.monit).toBeNull();
  });

  test('without monit in the config nothing is written', async () => {
    // Act
    await finishRotation(makeParams({ monitParameter: undefined }));

    // Assert
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
  });
});

describe('the PagerDuty window in the report and the email', () => {
  test('opened and closed: said, no warning', async () => {
    // Act
    const result = await finishRotation(makeParams());

    // Assert
    expect(result).not.toHaveProperty('maintenanceWarning');
    expect(email().Subject).toBe('[cert-rotation gitter.im] Rotation SUCCEEDED');
    expect(email().Message).toContain(
      'PagerDuty: maintenance window PMW0001 for monit-prod-critical was open from before the first change; closed at the end (PMW0001).',
    );
    expect(report()?.maintenanceWindow).toEqual({
      windowId: 'PMW0001',
      serviceName: 'monit-prod-critical',
      endTime: '2026-12-06T10:00:00.000Z',
      closed: ['PMW0001'],
    });
  });

  test('a failed close after a success: a warning naming the window and when it ends by itself; still SUCCEEDED', async () => {
    // Arrange
    const closeFailed: FinishState = {
      ...state,
      maintenanceClose: undefined,
      maintenanceCloseError: {
        Error: 'MaintenanceWindowNotClosed',
        Cause: JSON.stringify({
          errorType: 'MaintenanceWindowNotClosed',
          errorMessage: 'the PagerDuty maintenance window ... could not be closed (PagerDutyError: HTTP 503)',
        }),
      },
    };

    // Act
    const result = await finishRotation(makeParams({ state: closeFailed }));

    // Assert
    expect(result.status).toBe('SUCCEEDED');
    expect(result.maintenanceWarning).toContain('MaintenanceWindowNotClosed: the PagerDuty maintenance window');
    expect(email().Subject).toBe('[cert-rotation gitter.im] Rotation SUCCEEDED (PagerDuty window not closed)');
    expect(email().Message).toContain('WARNING: the PagerDuty maintenance window PMW0001 for monit-prod-critical could not be closed');
    expect(email().Message).toContain('It ends by itself at 2026-12-06T10:00:00.000Z. End it now in PagerDuty');
    expect(report()?.maintenanceWindow).toMatchObject({
      windowId: 'PMW0001',
      closed: [],
      error: expect.stringContaining('HTTP 503') as string,
    });
  });

  test('a failed close after a rollback: the outcome stays REJECTED, the warning is there', async () => {
    // Arrange
    const rejected: FinishState = {
      ...state,
      error: { Error: 'ApprovalRejected', Cause: 'not now' },
      maintenanceClose: undefined,
      maintenanceCloseError: { Error: 'States.Timeout', Cause: 'the task timed out' },
    };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state: rejected }));

    // Assert
    expect(result.status).toBe('REJECTED');
    expect(email().Subject).toBe('[cert-rotation gitter.im] Rotation REJECTED (PagerDuty window not closed)');
  });

  test('a failed close before the stop report (onTimeout: stop): the stop email warns too', async () => {
    // Arrange
    const stopped: FinishState = {
      ...state,
      approvalTimeout: {
        gateTimedOut: true,
        gate: 'edge',
        stateName: 'Approval 3: edge rollout OK, continue?',
        timeoutSeconds: 3600,
        onTimeout: 'stop',
        stateMachineArn: 'arn:aws:states:eu-west-1:123456789012:stateMachine:CertRotation-gitter-im',
      },
      error: { Error: 'States.Timeout', Cause: 'no answer' },
      maintenanceClose: undefined,
      maintenanceCloseError: { Error: 'MaintenanceWindowNotClosed', Cause: 'HTTP 503' },
    };

    // Act
    const result = await finishRotation(makeParams({ succeeded: false, state: stopped }));

    // Assert
    expect(result.status).toBe('FAILED');
    expect(result.maintenanceWarning).toBe('MaintenanceWindowNotClosed: HTTP 503');
    expect(email().Subject).toMatch(/\(PagerDuty window not closed\)$/);
    expect(email().Message).toContain('WARNING: the PagerDuty maintenance window PMW0001 for monit-prod-critical could not be closed');
    expect(report()?.maintenanceWindow).toMatchObject({ windowId: 'PMW0001', error: 'MaintenanceWindowNotClosed: HTTP 503' });
    expect(ssmMock.commandCalls(PutParameterCommand)).toHaveLength(0);
  });

  test('a workflow without PagerDuty says nothing about it', async () => {
    // Act
    await finishRotation(makeParams({ state: { ...state, maintenance: undefined, maintenanceClose: undefined } }));

    // Assert
    expect(email().Message).not.toContain('PagerDuty');
    expect(report()?.maintenanceWindow).toBeNull();
  });
});
