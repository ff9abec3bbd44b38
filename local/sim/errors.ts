/**
 * Errors of the simulated AWS account.
 *
 * Service code throws `SimServiceError(code, message)`; the account's dispatcher turns it into the
 * exception class the real SDK would have thrown (`toSdkException`), so handler code sees exactly
 * what it sees in production: `instanceof CertificateNotFoundException`, `err.name`, `$fault`,
 * `$metadata.httpStatusCode`, and throttling that the SDK's retry strategy classifies as throttling.
 */
import { randomUUID } from 'node:crypto';

/** A bad fleet file, faults file or option: the rehearsal exits 2 with this message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  /** Every problem found, each naming its field (`fleet.elbs[0].name: ...`). */
  readonly problems: readonly string[];
  constructor(message: string, problems?: readonly string[]) {
    super(message);
    this.problems = problems ?? [message];
  }
}

/** Thrown by the simulated services; converted to the real SDK exception by the dispatcher. */
export class SimServiceError extends Error {
  override readonly name = 'SimServiceError';
  constructor(
    /** The AWS error code (`CertificateNotFound`, `NoSuchKey`...). */
    readonly code: string,
    message: string,
    /** HTTP status the service answers with; default from {@link defaultHttpStatus}. */
    readonly httpStatusCode?: number,
  ) {
    super(message);
  }
}

/** Shorthand for `new SimServiceError(...)`. */
export function awsError(code: string, message: string, httpStatusCode?: number): SimServiceError {
  return new SimServiceError(code, message, httpStatusCode);
}

/** The operation is not one the simulated account implements (a bug in the caller or in the sim). */
export class NotSimulatedError extends Error {
  override readonly name = 'NotSimulated';
}

/** Error codes the SDK's retry strategy treats as throttling (a subset of its own list, plus EC2's). */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'SlowDown',
  'BandwidthLimitExceeded',
  'EC2ThrottledException',
  'PriorRequestNotComplete',
]);

const SERVER_CODES: Readonly<Record<string, number>> = {
  InternalFailure: 500,
  InternalError: 500,
  InternalErrorException: 500,
  InternalServerError: 500,
  InternalServiceError: 500,
  ServiceFailure: 500,
  ServiceUnavailable: 503,
  ServiceUnavailableException: 503,
};

const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  ...SERVER_CODES,
  AccessDenied: 403,
  AccessDeniedException: 403,
  PreconditionFailed: 412,
  NotFound: 404,
  NoSuchKey: 404,
  NoSuchBucket: 404,
  NoSuchEntity: 404,
  NoSuchDistribution: 404,
  ResourceNotFoundException: 400,
  ParameterNotFound: 400,
  EntityAlreadyExists: 409,
  DeleteConflict: 409,
  LimitExceeded: 409,
};

/** The HTTP status AWS answers an error code with (400 when unknown; throttling is 400 too). */
export function defaultHttpStatus(code: string): number {
  return STATUS_BY_CODE[code] ?? 400;
}

type ExceptionCtor = new (opts: Record<string, unknown>) => Error;

function errorClass(mod: Record<string, unknown>, name: string): ExceptionCtor | undefined {
  const value = mod[name];
  if (typeof value !== 'function') return undefined;
  const proto: unknown = (value as { prototype?: unknown }).prototype;
  return proto instanceof Error ? (value as ExceptionCtor) : undefined;
}

/** A service's SDK package (its exports) and the name of its `*ServiceException` base class. */
export interface SdkExceptions {
  readonly exports: object;
  readonly baseException: string;
}

/**
 * Builds the exception the real SDK would throw for `code` from a service's SDK package: its own
 * class (`${code}Exception`, then `${code}`), else the package's `*ServiceException` base with
 * `name = code`. Throttling codes get `$retryable: { throttling: true }`; 5xx codes `$fault: 'server'`.
 * (registry.ts `toSdkException` takes the service prefix instead.)
 */
export function toSdkExceptionOf(sdk: SdkExceptions, code: string, message: string, httpStatusCode?: number): Error {
  const status = httpStatusCode ?? defaultHttpStatus(code);
  const $metadata = { httpStatusCode: status, requestId: randomUUID(), attempts: 1, totalRetryDelay: 0 };
  const $fault = status >= 500 ? 'server' : 'client';
  const mod = sdk.exports as Record<string, unknown>;
  const specific = errorClass(mod, `${code}Exception`) ?? errorClass(mod, code);
  let error: Error;
  if (specific) {
    error = new specific({ message, Message: message, $metadata });
  } else {
    const base = errorClass(mod, sdk.baseException);
    if (base) {
      error = new base({ name: code, $fault, message, $metadata });
    } else {
      error = Object.assign(new Error(message), { $fault, $metadata });
      error.name = code;
    }
  }
  const e = error as Error & { $fault?: string; $retryable?: { throttling?: boolean } };
  if (status >= 500) e.$fault = 'server';
  if (THROTTLING_CODES.has(code)) e.$retryable = { throttling: true };
  return error;
}
