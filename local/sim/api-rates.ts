/**
 * Request rates of the simulated account (fleet field `apiRates`): each `service:Operation` has a
 * token bucket in simulated time, refilled at its rate (requests per second) and holding at most
 * {@link BURST_SECONDS} seconds of it (ELB documents a bucket of 40 refilled at 10 per second for
 * its Describe calls). A call that finds the bucket empty is throttled with the service's own
 * throttling error, as AWS does.
 */
import type { SimClock } from './clock';
import type { ServicePrefix } from './errors';

/** How many seconds of its rate a bucket holds (its burst). */
export const BURST_SECONDS = 4;

/**
 * Requests per second per operation when the fleet does not say. Published figures where AWS
 * publishes them (ELB/ELBv2 Describe* 10/s, EC2 non-mutating 20/s, S3 3,500 writes and 5,500 reads
 * per prefix, SNS Publish 30,000/s in us-east-1, Secrets Manager GetSecretValue 10,000/s and
 * 50/s for its other calls, Step Functions ListExecutions 2/s); the others are conservative
 * estimates (AWS publishes no figure for IAM's or CloudFront's control-plane calls).
 */
export const DEFAULT_API_RATES: Readonly<Record<string, number>> = {
  'elb:*': 5,
  'elb:DescribeLoadBalancers': 10,
  'elbv2:*': 5,
  'elbv2:DescribeLoadBalancers': 10,
  'elbv2:DescribeListeners': 10,
  'elbv2:DescribeListenerCertificates': 10,
  'ec2:*': 20,
  'iam:*': 10,
  'cloudfront:*': 5,
  'cloudfront:ListDistributions': 10,
  'cloudfront:GetDistribution': 10,
  'cloudfront:GetDistributionConfig': 10,
  's3:*': 5500,
  's3:PutObject': 3500,
  's3:DeleteObject': 3500,
  'sns:*': 30000,
  'secretsmanager:*': 50,
  'secretsmanager:GetSecretValue': 10000,
  'sfn:*': 100,
  'sfn:ListExecutions': 2,
  'ssm:*': 40,
  'ssm:PutParameter': 3,
};

/** The throttling error code each service answers with. */
const THROTTLE_CODE: Readonly<Record<ServicePrefix, string>> = {
  iam: 'Throttling',
  elb: 'Throttling',
  elbv2: 'Throttling',
  cloudfront: 'Throttling',
  ec2: 'RequestLimitExceeded',
  s3: 'SlowDown',
  sns: 'ThrottledException',
  sfn: 'ThrottlingException',
  secretsmanager: 'ThrottlingException',
  ssm: 'ThrottlingException',
};

/** The rate of an operation: its own entry, else its service's `service:*`, else `*`, else unlimited. */
export function rateFor(rates: Readonly<Record<string, number>>, operation: string): number | undefined {
  return rates[operation] ?? rates[`${operation.split(':')[0]}:*`] ?? rates['*'];
}

/** Token buckets per operation in simulated time. */
export class ApiRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly rates: Readonly<Record<string, number>>;

  /** `overrides` (the fleet's `apiRates`) replace the defaults they name. */
  constructor(
    private readonly clock: SimClock,
    overrides: Readonly<Record<string, number>> = {},
  ) {
    this.rates = { ...DEFAULT_API_RATES, ...overrides };
  }

  /** Requests per second allowed for `operation` (Infinity when unlimited). */
  rateOf(operation: string): number {
    return rateFor(this.rates, operation) ?? Number.POSITIVE_INFINITY;
  }

  /** Takes a token for one call: undefined when it may go ahead, else the throttling error code to answer with. */
  take(operation: string): string | undefined {
    const rate = this.rateOf(operation);
    if (!Number.isFinite(rate)) return undefined;
    const now = this.clock.nowMs();
    const capacity = Math.max(1, rate * BURST_SECONDS);
    const bucket = this.buckets.get(operation) ?? { tokens: capacity, atMs: now };
    bucket.tokens = Math.min(capacity, bucket.tokens + ((now - bucket.atMs) / 1000) * rate);
    bucket.atMs = now;
    this.buckets.set(operation, bucket);
    if (bucket.tokens < 1) return THROTTLE_CODE[operation.split(':')[0] as ServicePrefix] ?? 'Throttling';
    bucket.tokens -= 1;
    return undefined;
  }
}
