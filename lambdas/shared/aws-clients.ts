/**
 * The one way handlers build AWS SDK clients, so that every call survives transient errors on its
 * own (DESIGN §4 "Retry the smallest unit"):
 *  - retry mode `adaptive` (client-side rate limiting after throttling) with {@link MAX_ATTEMPTS}
 *    attempts per call instead of the SDK's default 3;
 *  - nothing else is set, so the SDK's standard settings still decide region and endpoint
 *    (`AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`, shared config files);
 *  - a middleware outside the retries annotates the error a call finally fails with: which
 *    operation, on which resource, after how many attempts (read by `classifyAwsErrors`).
 */

/** Attempts per AWS call (first try + retries), for every client the handlers build. */
export const MAX_ATTEMPTS = 8;

/** The SDK retry mode of every client the handlers build. */
export const RETRY_MODE = 'adaptive';

/** What the factory passes to every client constructor. */
export interface AwsClientConfig {
  readonly retryMode: typeof RETRY_MODE;
  readonly maxAttempts: number;
}

/** The client configuration: retries only; region and endpoint are left to the SDK's standard settings. */
export function awsClientConfig(): AwsClientConfig {
  return { retryMode: RETRY_MODE, maxAttempts: MAX_ATTEMPTS };
}

/** What an annotated error carries (set by the middleware; read by `classifyAwsErrors`). */
export interface AwsCallContext {
  /** `service:Operation`, e.g. `elb:DescribeLoadBalancers`. */
  readonly operation: string;
  /** The resource the call named (load balancer, listener, distribution, bucket/key...), when it named one. */
  readonly resource?: string;
}

/** The property an annotated error carries its {@link AwsCallContext} in. */
export const AWS_CALL = '$awsCall';

/** Service prefixes as IAM and the rehearsal name them, by the SDK's `serviceId`. */
const SERVICE_PREFIX: Readonly<Record<string, string>> = {
  'Elastic Load Balancing': 'elb',
  'Elastic Load Balancing v2': 'elbv2',
  CloudFront: 'cloudfront',
  CloudWatch: 'cloudwatch',
  IAM: 'iam',
  EC2: 'ec2',
  S3: 's3',
  'Secrets Manager': 'secretsmanager',
  SNS: 'sns',
  SFN: 'sfn',
  SSM: 'ssm',
};

/** Input fields that name the resource of a call, most specific first. */
const RESOURCE_FIELDS = [
  'ListenerArn',
  'LoadBalancerName',
  'LoadBalancerArn',
  'ServerCertificateName',
  'SecretId',
  'Name',
  'TopicArn',
  'stateMachineArn',
  'executionArn',
  'Id',
  'LoadBalancerNames',
  'ListenerArns',
  'LoadBalancerArns',
  'Names',
  'InstanceIds',
] as const;

/** The resource a command input names: `apps-servers-elb-prod:6667`, `bucket/key`, a distribution id... */
export function resourceOf(input: unknown): string | undefined {
  if (typeof input !== 'object' || input === null) return undefined;
  const i = input as Record<string, unknown>;
  if (typeof i.Bucket === 'string') {
    const key = typeof i.Key === 'string' ? i.Key : typeof i.Prefix === 'string' ? i.Prefix : '';
    return key ? `${i.Bucket}/${key}` : i.Bucket;
  }
  for (const field of RESOURCE_FIELDS) {
    const value = i[field];
    if (typeof value === 'string' && value !== '') {
      return field === 'LoadBalancerName' && typeof i.LoadBalancerPort === 'number' ? `${value}:${i.LoadBalancerPort}` : value;
    }
    if (Array.isArray(value) && value.length > 0) {
      const shown = value.slice(0, 3).map(String).join(', ');
      return value.length > 3 ? `${shown} and ${value.length - 3} more` : shown;
    }
  }
  return undefined;
}

interface Annotatable {
  readonly config: { readonly serviceId?: string };
  readonly middlewareStack: {
    add(
      middleware: (
        next: (args: { input: unknown }) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: { input: unknown }) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high'; override: true },
    ): void;
  };
}

/** Adds the error-annotating middleware to a client (outermost step, so it sees the error after every retry). */
function annotateErrors(client: Annotatable): void {
  const service = SERVICE_PREFIX[client.config.serviceId ?? ''] ?? (client.config.serviceId ?? 'aws').toLowerCase().replace(/\s+/g, '');
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (typeof error === 'object' && error !== null && !(AWS_CALL in error)) {
          const operation = `${service}:${(context.commandName ?? 'Unknown').replace(/Command$/, '')}`;
          const resource = resourceOf(args.input);
          const call: AwsCallContext = resource ? { operation, resource } : { operation };
          Object.defineProperty(error, AWS_CALL, { value: call, enumerable: false, configurable: true });
        }
        throw error;
      }
    },
    { step: 'initialize', name: 'annotateAwsCallErrors', priority: 'high', override: true },
  );
}

/**
 * Builds an SDK client the way every handler must: `awsClient(ElasticLoadBalancingClient)`.
 * Takes the client class (not an instance) so that no handler writes `new XClient(...)`.
 */
export function awsClient<C extends object>(ClientClass: new (config: AwsClientConfig) => C): C {
  const client = new ClientClass(awsClientConfig());
  annotateErrors(client as unknown as Annotatable);
  return client;
}

/** The call an error was annotated with by a client of {@link awsClient}, if any. */
export function awsCallOf(error: unknown): AwsCallContext | undefined {
  return typeof error === 'object' && error !== null ? (error as Record<string, AwsCallContext | undefined>)[AWS_CALL] : undefined;
}

/**
 * The largest page each list/describe call accepts (fewest calls, so the fewest chances of
 * throttling). Each is the documented maximum of that parameter.
 */
export const MAX_PAGE_SIZE = {
  /** ELB DescribeLoadBalancers `PageSize`: 1..400. */
  elbDescribeLoadBalancers: 400,
  /** ELBv2 DescribeLoadBalancers / DescribeListeners / DescribeListenerCertificates `PageSize`: 1..400. */
  elbv2: 400,
  /** CloudFront ListDistributions `MaxItems`: at most 100. */
  cloudfrontListDistributions: 100,
  /** EC2 DescribeInstances `MaxResults`: 5..1000, and not allowed together with `InstanceIds`. */
  ec2DescribeInstances: 1000,
  /** IAM ListServerCertificates `MaxItems`: 1..1000. */
  iamListServerCertificates: 1000,
  /** Step Functions ListExecutions `maxResults`: 1..1000. */
  sfnListExecutions: 1000,
  /** S3 ListObjectsV2 `MaxKeys`: at most 1000 (S3 returns no more per page). */
  s3ListObjectsV2: 1000,
} as const;

/**
 * The configuration of an SDK paginator (`paginateX(pages(client, MAX_PAGE_SIZE.x), input)`): the
 * page size, and a command per page that keeps its own copy of the input. The SDK's paginators
 * write each page's token into the one input object they were given, so without the copy every
 * command sent (and whatever recorded it: tests, middleware) would show the last page's token.
 */
export function pages<C>(
  client: C,
  pageSize?: number,
): { client: C; pageSize?: number; withCommand: <T extends { input: object }>(command: T) => T } {
  return {
    client,
    ...(pageSize === undefined ? {} : { pageSize }),
    withCommand: (command) => {
      Object.defineProperty(command, 'input', { value: { ...command.input }, writable: false, enumerable: true, configurable: true });
      return command;
    },
  };
}
