/**
 * The registry of simulated services: one line per service. Everything that used to repeat the
 * service list (the dispatch table, the operation list the faults file is checked against, the
 * hooked SDK clients, the SDK exception classes, throttling codes, default request rates, the
 * account's properties) is derived from here. To add a service: write its file (ending in a
 * `defineService({...})`, see service.ts) and add it below.
 */
import { acmService } from './acm';
import { cloudfrontService } from './cloudfront';
import { cloudwatchService } from './cloudwatch';
import { dynamodbService } from './dynamodb';
import { ec2Service } from './ec2';
import { elbService } from './elb';
import { elbv2Service } from './elbv2';
import { toSdkExceptionOf } from './errors';
import { iamService } from './iam';
import { route53Service } from './route53';
import { s3Service } from './s3';
import { secretsManagerService } from './secrets';
import { sfnService } from './sfn';
import { snsService } from './sns';
import { ssmService } from './ssm';
import type { ClientClass } from './service';

/** Every simulated service, in the order the account builds, seeds and lists them (IAM first: the others use it). */
export const SIMULATED_SERVICES = [
  iamService,
  elbService,
  elbv2Service,
  cloudfrontService,
  ec2Service,
  ssmService,
  secretsManagerService,
  snsService,
  s3Service,
  sfnService,
  cloudwatchService,
  dynamodbService,
  route53Service,
  acmService,
] as const;

type Service = (typeof SIMULATED_SERVICES)[number];

/** The service prefixes used in operation names (`elb:SetLoadBalancerListenerSSLCertificate`). */
export type ServicePrefix = Service['prefix'];

/** Every service prefix, in registry order. */
export const SERVICE_PREFIXES: readonly ServicePrefix[] = SIMULATED_SERVICES.map((s) => s.prefix);

/** The service class of a prefix. */
type ServiceOf<P extends ServicePrefix> = ReturnType<Extract<Service, { prefix: P }>['create']>;

/** The account's service properties: `account.iam`, `account.secretsManager`... */
export type SimulatedServices = { readonly [S in Service as S['property']]: ReturnType<S['create']> };

type OperationsByPrefix = { [P in ServicePrefix]: ServiceOf<P>['operations'] };

/** A simulated operation name, `service:Operation`. */
export type SimOperationName = { [P in ServicePrefix]: `${P}:${Extract<Service, { prefix: P }>['operations'][number]}` }[ServicePrefix];

/** Every simulated operation with its SDK input and output types. */
export type SimOperationTable = {
  [K in SimOperationName]: K extends `${infer P extends ServicePrefix}:${infer O}`
    ? OperationsByPrefix[P][O & keyof OperationsByPrefix[P]]
    : never;
};

/** The SDK command input of an operation. */
export type SimInput<K extends SimOperationName> = Parameters<SimOperationTable[K]>[0];
/** The SDK command output (without $metadata) of an operation. */
export type SimOutput<K extends SimOperationName> = Awaited<ReturnType<SimOperationTable[K]>>;

/** Every operation the simulated account answers, `service:Operation`, in registry order. The faults file may name only these. */
export const SIMULATED_OPERATIONS: readonly SimOperationName[] = SIMULATED_SERVICES.flatMap((s) =>
  s.operations.map((o) => `${s.prefix}:${o}` as SimOperationName),
);

/** The client classes hooked, with the service prefix used in operation names. */
export const SIMULATED_CLIENTS: ReadonlyArray<readonly [ClientClass, ServicePrefix]> = SIMULATED_SERVICES.map(
  (s) => [s.client, s.prefix] as const,
);

/** Requests per second per operation when the fleet does not say (each service's published figures or estimates). */
export const DEFAULT_API_RATES: Readonly<Record<string, number>> = Object.assign(
  {},
  ...SIMULATED_SERVICES.map((s) => s.defaultRates ?? {}),
) as Record<string, number>;

/** The service of a prefix. */
export function serviceByPrefix(prefix: string): Service | undefined {
  return SIMULATED_SERVICES.find((s) => s.prefix === prefix);
}

/** The error code a service throttles with (`Throttling` when unknown). */
export function throttlingCodeOf(prefix: string): string {
  return serviceByPrefix(prefix)?.throttlingCode ?? 'Throttling';
}

/**
 * Builds the exception the real SDK would throw for `code` from `service`: the client package's
 * own class (`${code}Exception`, then `${code}`), else the package's `*ServiceException` base with
 * `name = code`. Throttling codes get `$retryable: { throttling: true }`; 5xx codes `$fault: 'server'`.
 */
export function toSdkException(service: ServicePrefix, code: string, message: string, httpStatusCode?: number): Error {
  const s = serviceByPrefix(service);
  if (!s) throw new Error(`internal: no simulated service "${service}"`);
  return toSdkExceptionOf(s.sdk, code, message, httpStatusCode);
}
