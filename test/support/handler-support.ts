import { createHash, X509Certificate } from 'node:crypto';
import { ServiceException } from '@smithy/smithy-client';
import { apply, observe } from '../../lambdas/shared/edge-ops';
import type { ChangeLedger, LedgerEntry, LedgerStatus } from '../../lambdas/shared/ledger';
import type { DomainLogger } from '../../lambdas/shared/logger';
import type { EdgeClients, TargetState } from '../../lambdas/shared/target-ops';
import type { DistributionTarget, EdgeTarget, ElbListenerTarget, ElbV2ListenerTarget } from '../../lambdas/shared/targets';

/** A DomainLogger that keeps every call, so tests can assert what was (never) logged. */
export interface RecordingLogger {
  readonly logger: DomainLogger;
  readonly entries: Array<{ level: string; args: unknown[] }>;
  /** Everything logged, as one JSON text (for "never contains" assertions). */
  text(): string;
}

export function recordingLogger(): RecordingLogger {
  const entries: Array<{ level: string; args: unknown[] }> = [];
  const record =
    (level: string) =>
    (...args: unknown[]): void => {
      entries.push({ level, args });
    };
  const logger = {
    debug: record('debug'),
    info: record('info'),
    warn: record('warn'),
    error: record('error'),
  } as unknown as DomainLogger;
  return { logger, entries, text: () => JSON.stringify(entries) };
}

/**
 * An error shaped like one the AWS SDK throws (a smithy ServiceException): `name` is the AWS
 * error code, `$fault` and `$metadata.httpStatusCode` as the SDK fills them.
 */
export function awsError(
  name: string,
  options: { readonly message?: string; readonly status?: number; readonly fault?: 'client' | 'server'; readonly retryable?: boolean } = {},
): ServiceException {
  const status = options.status ?? 400;
  const error = new ServiceException({
    name,
    message: options.message ?? `${name} (simulated)`,
    $fault: options.fault ?? (status >= 500 ? 'server' : 'client'),
    $metadata: { httpStatusCode: status, requestId: 'req-test' },
  });
  // The base class does not copy $retryable; the SDK's modelled exceptions set it themselves.
  if (options.retryable !== undefined) error.$retryable = { throttling: options.retryable };
  return error;
}

/** Lowercase hex SHA-256 of the DER, computed independently of the product code. */
export function sha256Of(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** Uppercase hex MD5 of the DER (what `openssl x509 -fingerprint -md5 | tr -d :` prints). */
export function md5Of(certPem: string): string {
  return createHash('md5').update(new X509Certificate(certPem).raw).digest('hex').toUpperCase();
}

/** The base64 body lines of a PEM private key: none of them may appear in messages or logs. */
export function keyBodyLines(keyPem: string): string[] {
  return keyPem
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('-----'));
}

/** Asserts that `text` holds no line of the private key and no PEM key header. */
export function expectNoKeyMaterial(text: string, keyPem: string): void {
  expect(text).not.toContain('PRIVATE KEY');
  for (const line of keyBodyLines(keyPem)) expect(text).not.toContain(line);
}

/**
 * Wraps a synchronous fake of an SDK operation so that it behaves like `Client#send`: it always
 * returns a promise, and a throw becomes a rejection (for aws-sdk-client-mock's `callsFake`).
 */
export function settle<I, O>(fake: (input: I) => O): (input: I) => Promise<O> {
  return (input) => new Promise<O>((resolve) => resolve(fake(input)));
}

/**
 * A classic ELB DescribeLoadBalancers fake over a map of SSL listeners ("name:port" -> certificate
 * ARN), read at each call so the test can switch what is served.
 */
export function describeClassicFrom(serves: ReadonlyMap<string, string>) {
  return settle((input: { LoadBalancerNames?: string[] }) => {
    // One description per name asked for (DescribeLoadBalancers takes several names per call).
    const names = input.LoadBalancerNames ?? [];
    const describe = (name: string) => {
      const listeners = [...serves.entries()]
        .filter(([k]) => k.startsWith(`${name}:`))
        .map(([k, arn]) => ({
          Listener: {
            Protocol: 'SSL',
            LoadBalancerPort: Number(k.split(':')[1]),
            InstanceProtocol: 'TCP',
            InstancePort: 1,
            SSLCertificateId: arn,
          },
        }));
      return { LoadBalancerName: name, ListenerDescriptions: listeners };
    };
    return { LoadBalancerDescriptions: names.map(describe) };
  });
}

/** Runs `act` and returns what it threw (fails the test when it does not throw). */
export async function caught(act: () => Promise<unknown>): Promise<Error> {
  try {
    await act();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to throw, it resolved');
}

// ------------------------------------------------------------------------------------------------
// Targets and ledger entries used by the ledger-based handlers (switch-canary, rollback, verify, finish)
// ------------------------------------------------------------------------------------------------

export const OLD_ARN = 'arn:aws:iam::123456789012:server-certificate/cloudfront/gitter-production/STAR.gitter.im_2025-11-15';
export const NEW_ARN = 'arn:aws:iam::123456789012:server-certificate/cloudfront/gitter-production/STAR.gitter.im_2026-11-14';
export const THIRD_ARN = 'arn:aws:iam::123456789012:server-certificate/someone-else/STAR.gitter.im_manual';
export const OLD_ID = 'ASCAOLDOLDOLDOLDOLD01';
export const NEW_ID = 'ASCANEWNEWNEWNEWNEW02';
export const THIRD_ID = 'ASCATHIRDTHIRDTHIRD03';

export const canaryTarget: ElbListenerTarget = {
  kind: 'elb',
  loadBalancerName: 'apps-servers-elb-prod',
  port: 6667,
  dnsName: 'apps-servers-elb-prod-1.eu-west-1.elb.amazonaws.com',
};
export const webappTarget: ElbListenerTarget = {
  kind: 'elb',
  loadBalancerName: 'webapp-elb-prod',
  port: 443,
  dnsName: 'webapp-elb-prod-2.eu-west-1.elb.amazonaws.com',
};
export const albDefaultTarget: ElbV2ListenerTarget = {
  kind: 'elbv2',
  loadBalancerName: 'api-alb',
  listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api-alb/50dc6c495c0c9188/f2f7dc8efc522ab2',
  port: 443,
  dnsName: 'api-alb-123.eu-west-1.elb.amazonaws.com',
  role: 'default',
};
export const albSniTarget: ElbV2ListenerTarget = {
  kind: 'elbv2',
  loadBalancerName: 'api-alb',
  listenerArn: 'arn:aws:elasticloadbalancing:eu-west-1:123456789012:listener/app/api-alb/50dc6c495c0c9188/0467ef3c8400ae65',
  port: 8443,
  dnsName: 'api-alb-123.eu-west-1.elb.amazonaws.com',
  role: 'sni',
};
export const distributionTarget: DistributionTarget = {
  kind: 'cloudfront',
  distributionId: 'E2QWRUHAPOMQZL',
  domainName: 'd111111abcdef8.cloudfront.net',
  aliases: ['cdn.gitter.im'],
};

/** Where the target stands between `before` and `after` (observe's state and the value it compared). */
export async function targetState(
  clients: EdgeClients,
  target: EdgeTarget,
  before: string,
  after: string,
): Promise<{ state: TargetState; value: string }> {
  const { state, value } = await observe(clients, target, before, after);
  return { state, value };
}

/** Observes the target, then switches what it saw from `from` to `to`: as the canary, the edge rollout and rollback do. */
export async function switchTarget(clients: EdgeClients, target: EdgeTarget, from: string, to: string): Promise<void> {
  await apply(clients, target, await observe(clients, target, from, to), from, to);
}

/** Writes a ledger entry as the switching phases do (intent, then optionally a status), at `at`. */
export async function seedLedger(
  ledger: ChangeLedger,
  target: EdgeTarget,
  options: {
    readonly at: Date;
    readonly status?: LedgerStatus;
    readonly phase?: string;
    readonly before?: string;
    readonly after?: string;
    readonly beforeSha256?: string;
    readonly afterSha256?: string;
    readonly note?: string;
  },
): Promise<LedgerEntry> {
  const isCloudFront = target.kind === 'cloudfront';
  const entry = await ledger.recordIntent(
    target,
    options.phase ?? 'edge',
    options.before ?? (isCloudFront ? OLD_ID : OLD_ARN),
    options.after ?? (isCloudFront ? NEW_ID : NEW_ARN),
    options.at,
    { beforeSha256: options.beforeSha256 ?? 'a'.repeat(64), afterSha256: options.afterSha256 ?? 'b'.repeat(64) },
  );
  const status = options.status ?? 'applied';
  return status === 'intended' ? entry : ledger.update(entry, status, options.at, options.note);
}
