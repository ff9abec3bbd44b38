import type { CertificateInUse } from './read-certificate';

/** Where an operator stages a certificate and starts the rotation: the email's exact steps use these. */
export interface StagingHelp {
  /** Secrets Manager name prefix the rotation may read, e.g. `cert-rotation/gitter.im/`. */
  readonly secretPrefix: string;
  readonly stagingBucket: string;
  readonly stateMachineArn: string;
}

/** SNS subjects: ASCII, one line, under 100 characters. */
function subjectOf(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length < 100 ? ascii : `${ascii.slice(0, 96)}...`;
}

function certificateLines(certificate: CertificateInUse): string[] {
  return [
    `  expires:  ${certificate.notAfter}`,
    ...(certificate.iam
      ? [`  IAM (canary listener): ${certificate.iam.name ?? '?'}, serial ${certificate.iam.serial}, SHA-256 ${certificate.iam.sha256}`]
      : [`  IAM (canary listener): not read (${certificate.iamError ?? '?'})`]),
    ...(certificate.tls
      ? [`  served (TLS handshake to the canary endpoint): serial ${certificate.tls.serial}, SHA-256 ${certificate.tls.sha256}`]
      : [`  served (TLS handshake to the canary endpoint): not read (${certificate.tlsError ?? '?'})`]),
  ];
}

/** "Renewal due in N days": the schedule found the certificate close to expiry and no automatic source to renew it. */
export function renewalDueMessage(p: {
  readonly domain: string;
  readonly daysLeft: number;
  readonly certificate: CertificateInUse;
  readonly staging: StagingHelp;
  readonly now: Date;
}): { subject: string; message: string } {
  const date = p.now.toISOString().slice(0, 10);
  const secretName = `${p.staging.secretPrefix}${date}`;
  const prefix = `${date}/`;
  const message = [
    `The ${p.domain} certificate in use expires in ${p.daysLeft} days: stage the certificate and start the rotation.`,
    '',
    'Certificate in use:',
    ...certificateLines(p.certificate),
    '',
    'No automatic source (ACME, ACM) is configured, so the daily expiry check does not start the rotation itself.',
    '',
    'Steps:',
    `1. Get the renewed certificate for ${p.domain} from your CA: cert.pem, key.pem and chain.pem (intermediates in order, no root).`,
    '2. Stage it, either as a secret:',
    `     jq -n --rawfile c cert.pem --rawfile k key.pem --rawfile ch chain.pem '{certificate: $c, privateKey: $k, chain: $ch}' > bundle.json`,
    `     aws secretsmanager create-secret --name ${secretName} --secret-string file://bundle.json`,
    '     shred -u bundle.json key.pem',
    '   or as files in the staging bucket:',
    `     aws s3 cp cert.pem  s3://${p.staging.stagingBucket}/${prefix}cert.pem`,
    `     aws s3 cp key.pem   s3://${p.staging.stagingBucket}/${prefix}key.pem`,
    `     aws s3 cp chain.pem s3://${p.staging.stagingBucket}/${prefix}chain.pem`,
    '3. Start the rotation with the matching input:',
    `     aws stepfunctions start-execution --state-machine-arn ${p.staging.stateMachineArn} --name rotate-${date} \\`,
    `       --input '{"source":{"secretId":"${secretName}"}}'`,
    `   or  --input '{"source":{"s3":{"prefix":"${prefix}"}}}'`,
    '4. Approve each gate from its email once you have checked what it shows.',
    '',
    'You get this email from every daily check until the certificate in use has more days left than the threshold.',
  ].join('\n');
  return { subject: subjectOf(`Certificate renewal due in ${p.daysLeft} days: ${p.domain}`), message };
}

/** The schedule could not get a rotation going: it says what happened and what to do. */
export function scheduleProblemMessage(p: {
  readonly domain: string;
  readonly daysLeft: number;
  readonly what: string;
  readonly why: string;
  readonly stateMachineArn: string;
}): { subject: string; message: string } {
  const message = [
    `The ${p.domain} certificate in use expires in ${p.daysLeft} days, and ${p.what}.`,
    '',
    p.why,
    '',
    `State machine: ${p.stateMachineArn}`,
  ].join('\n');
  return { subject: subjectOf(`ACTION NEEDED: scheduled rotation not started: ${p.domain}, ${p.daysLeft} days left`), message };
}
