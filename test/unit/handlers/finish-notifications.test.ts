/** The operator's result emails (lambdas/finish/message.ts through finishRotation): what they must say, and never hold. */
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
import { canaryTarget, expectNoKeyMaterial, md5Of, seedLedger, sha256Of, webappTarget } from '../../support/handler-support';

const ARTIFACTS = 'cert-rotation-artifacts-123456789012';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:cert-rotation';
const EXECUTION = 'rotate-2026-11-27';
const SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:cert-rotation/gitter.im/rotate-2026-11-27-AbCdEf';
const IAM_NAME = 'STAR.gitter.im_2026-11-27';
const CM = { role: 'nginx', certificateFile: 'roles/nginx/files/STAR.gitter.im.crt', vaultFile: 'group_vars/prod/vault.yml' };

const s3 = createInMemoryS3();
const snsMock = mockClient(SNSClient);
const ssmMock = mockClient(SSMClient);
const iamMock = mockClient(IAMClient);
const at = (minute: number) => new Date(Date.UTC(2026, 10, 27, 12, minute, 0));
const ledger = () => new ChangeLedger(new ArtifactStore(s3.client, ARTIFACTS), EXECUTION);

let certPem: string;
let chainPem: string;
let keyPem: string;
let state: FinishState;

beforeAll(async () => {
  ({ certPem, chainPem, keyPem } = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] }));
  state = {
    certificate: { secretArn: SECRET_ARN },
    current: { sha256: 'a'.repeat(64), md5: 'OLDMD5', serial: '01', notAfter: '2026-12-10T00:00:00.000Z' },
    validation: { summary: { sha256: sha256Of(certPem), md5: md5Of(certPem), serial: '02', notAfter: '2027-02-25T00:00:00.000Z' } },
    uploaded: { arn: `arn:aws:iam::123456789012:server-certificate/cloudfront/gitter-production/${IAM_NAME}`, name: IAM_NAME },
  };
});

beforeEach(() => {
  s3.reset();
  snsMock.reset();
  ssmMock.reset();
  ssmMock.on(PutParameterCommand).resolves({ Version: 1 });
  iamMock.reset();
  snsMock.on(PublishCommand).resolves({ MessageId: 'm-1' });
  iamMock.on(GetServerCertificateCommand, { ServerCertificateName: IAM_NAME }).resolves({
    ServerCertificate: {
      CertificateBody: certPem,
      CertificateChain: chainPem,
      ServerCertificateMetadata: {
        Path: '/cloudfront/gitter-production/',
        ServerCertificateName: IAM_NAME,
        ServerCertificateId: 'ASCA1',
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
    topicArn: TOPIC,
    domain: 'gitter.im',
    executionName: EXECUTION,
    succeeded: true,
    state,
    now: () => at(30),
    monitParameter: '/gitter/monit/certificate-md5',
    configurationManagement: CM,
    ...overrides,
  };
}

const message = (): string => String(snsMock.commandCalls(PublishCommand)[0].args[0].input.Message);

describe('the success email', () => {
  test("gives monit's new MD5, the Ansible role's certificate file and vault, and the new certificate's public PEM and fingerprints", async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary', status: 'applied' });

    // Act
    await finishRotation(makeParams());

    // Assert
    const text = message();
    expect(text).toContain(`monit: the MD5 fingerprint it checks is now ${md5Of(certPem)}`);
    expect(text).toContain('SSM parameter /gitter/monit/certificate-md5');
    expect(text).toContain(`Ansible role nginx: replace ${CM.certificateFile} with the certificate below`);
    expect(text).toContain(`Vault ${CM.vaultFile}: replace the private key`);
    expect(text).toContain(SECRET_ARN);
    expect(text).toContain(`SHA-256 ${sha256Of(certPem)}`);
    expect(text).toContain(certPem.trim());
    expect(text).toContain(chainPem.trim());
    expectNoKeyMaterial(text, keyPem);
  });

  test('without configurationManagement it says so, and a PEM IAM cannot give is said, not invented', async () => {
    // Arrange
    iamMock.on(GetServerCertificateCommand).rejects(new Error('AccessDenied'));

    // Act
    await finishRotation(makeParams({ configurationManagement: undefined }));

    // Assert
    const text = message();
    expect(text).toContain('no configurationManagement in the config');
    expect(text).toContain('could not be read back from IAM');
    expect(text).not.toContain('BEGIN CERTIFICATE');
  });
});

describe('the failure email', () => {
  test('says what was reverted and what was verified over TLS, and no follow-up or PEM', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, { at: at(1), phase: 'canary', status: 'rolled-back' });
    await seedLedger(ledger(), webappTarget, { at: at(2), status: 'rolled-back', note: 'was not switched' });
    const failed: FinishState = {
      ...state,
      error: { Error: 'VerificationFailed', Cause: 'irc.gitter.im:6667 still does not serve the new certificate' },
      rollbackVerification: { verified: [{ target: 'ELB apps-servers-elb-prod:6667', servedSha256: 'a'.repeat(64) }] },
    };

    // Act
    await finishRotation(makeParams({ succeeded: false, state: failed }));

    // Assert
    const text = message();
    expect(text).toContain('Reverted to the previous certificate (1):\n  ELB apps-servers-elb-prod:6667');
    expect(text).toContain('Recorded but never switched (nothing to revert):\n  ELB webapp-elb-prod:443');
    expect(text).toContain(`Verified serving the previous certificate over TLS (1):\n  ELB apps-servers-elb-prod:6667: ${'a'.repeat(64)}`);
    expect(text).not.toContain('Configuration management follow-up');
    expect(text).not.toContain('BEGIN CERTIFICATE');
    expect(iamMock.commandCalls(GetServerCertificateCommand)).toHaveLength(0);
  });

  test('nothing changed: says nothing needed reverting', async () => {
    // Act
    await finishRotation(makeParams({ succeeded: false, state: { ...state, error: { Error: 'CertificateInvalid', Cause: 'expired' } } }));

    // Assert
    expect(message()).toContain('Nothing had changed: no target was switched, so nothing needed reverting.');
  });

  test('an incomplete rollback is ACTION NEEDED, in the subject and first in the email, naming what is not back', async () => {
    // Arrange
    await seedLedger(ledger(), canaryTarget, {
      at: at(1),
      phase: 'canary',
      status: 'left-alone',
      note: 'listener now serves a third certificate',
    });

    // Act
    await finishRotation(makeParams({ succeeded: false, state: { ...state, error: { Error: 'VerificationFailed', Cause: 'x' } } }));

    // Assert
    const input = snsMock.commandCalls(PublishCommand)[0].args[0].input;
    expect(input.Subject).toMatch(/^ACTION NEEDED: /);
    expect(message().split('\n')[0]).toContain('ACTION NEEDED: the rollback could not be verified');
    expect(message()).toContain('NOT verified back (1)');
  });
});
