import { awsCallOf } from './aws-clients';
import { AwsTransient } from './errors';

/** Error names AWS uses for throttling and short-lived failures (across the services we call). */
const TRANSIENT_NAMES = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'InternalFailure',
  'InternalError',
  'InternalServerError',
  'ServiceFailure',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ECONNRESET',
  'ETIMEDOUT',
]);

interface SdkErrorShape {
  name?: string;
  code?: string;
  $fault?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

/** True for errors that a later attempt may not hit: throttling, 5xx, timeouts. */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as SdkErrorShape;
  const status = e.$metadata?.httpStatusCode;
  return (
    TRANSIENT_NAMES.has(e.name ?? '') ||
    TRANSIENT_NAMES.has(e.code ?? '') ||
    e.$retryable !== undefined ||
    status === 429 ||
    (status !== undefined && status >= 500) ||
    e.$fault === 'server'
  );
}

/** The SDK error's name, or '' when the value is not an SDK error. */
export function awsErrorName(error: unknown): string {
  return typeof error === 'object' && error !== null ? ((error as SdkErrorShape).name ?? '') : '';
}

/**
 * Wraps a handler body: a transient AWS error that survived the SDK's own retries becomes
 * `AwsTransient`, which every task state retries with backoff. Its message names the operation,
 * the resource and the attempts when a client of `awsClient` made the call, e.g.
 * `Throttling on elb:DescribeLoadBalancers (apps-servers-elb-prod) after 8 attempts: Rate exceeded`.
 * Everything else passes unchanged.
 */
export async function classifyAwsErrors<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (error) {
    if (isTransientAwsError(error)) {
      const name = awsErrorName(error) || 'transient error';
      const message = error instanceof Error ? error.message : String(error);
      const call = awsCallOf(error);
      const where = call ? ` on ${call.operation}${call.resource ? ` (${call.resource})` : ''}` : '';
      const attempts = (error as SdkErrorShape).$metadata?.attempts;
      const after = attempts ? ` after ${attempts} attempt${attempts === 1 ? '' : 's'}` : '';
      throw new AwsTransient(`${name}${where}${after}: ${message}`);
    }
    throw error;
  }
}
