import { NoSuchEntityException } from '@aws-sdk/client-iam';
import { awsErrorName, classifyAwsErrors, isTransientAwsError } from '../../../lambdas/shared/aws-errors';
import { AwsTransient, CertificateInvalid, TargetNotFound } from '../../../lambdas/shared/errors';
import { awsError, caught } from '../../support/handler-support';

describe('classifyAwsErrors', () => {
  test('returns the body result unchanged when nothing fails', async () => {
    // Arrange
    const body = () => Promise.resolve({ secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' });

    // Act
    const result = await classifyAwsErrors(body);

    // Assert
    expect(result).toEqual({ secretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:x' });
  });

  test.each([
    ['Throttling', awsError('Throttling', { message: 'Rate exceeded' })],
    ['ThrottlingException', awsError('ThrottlingException', { message: 'Rate exceeded' })],
    ['RequestLimitExceeded (EC2)', awsError('RequestLimitExceeded', { message: 'Request limit exceeded.' })],
    ['SlowDown (S3 503)', awsError('SlowDown', { status: 503, message: 'Please reduce your request rate.' })],
    ['an unknown 500', awsError('SomethingBroke', { status: 500, message: 'We encountered an internal error.' })],
    ['an unknown 503 with $fault server', awsError('Unavailable', { status: 503, fault: 'server', message: 'try later' })],
    ['429 Too Many Requests', awsError('TooManyRequests', { status: 429, message: 'slow down' })],
    ['$retryable set by the SDK', awsError('OddError', { status: 400, retryable: true, message: 'retry me' })],
  ])('%s becomes AwsTransient naming the error', async (_label, error) => {
    // Arrange
    const body = () => Promise.reject(error);

    // Act
    const thrown = await caught(() => classifyAwsErrors(body));

    // Assert
    expect(thrown).toBeInstanceOf(AwsTransient);
    expect(thrown.name).toBe('AwsTransient');
    expect(thrown.message).toBe(`${error.name}: ${error.message}`);
  });

  test('a network reset (Node error with code ECONNRESET) becomes AwsTransient', async () => {
    // Arrange
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

    // Act
    const thrown = await caught(() => classifyAwsErrors(() => Promise.reject(reset)));

    // Assert
    expect(thrown).toBeInstanceOf(AwsTransient);
    expect(thrown.message).toContain('socket hang up');
  });

  test.each([
    [
      'a permanent SDK error (NoSuchEntity, 404)',
      new NoSuchEntityException({ message: 'The Server Certificate with name x cannot be found.', $metadata: { httpStatusCode: 404 } }),
    ],
    ['an AccessDenied (403)', awsError('AccessDenied', { status: 403, message: 'not authorized' })],
    ['a domain error (CertificateInvalid)', new CertificateInvalid('expired', 'the certificate expired')],
    ['a domain error (TargetNotFound)', new TargetNotFound('classic load balancer x does not exist')],
    ['a plain Error', new Error('boom')],
  ])('%s passes through unchanged (same object)', async (_label, error) => {
    // Arrange
    const body = () => Promise.reject(error);

    // Act
    const thrown = await caught(() => classifyAwsErrors(body));

    // Assert
    expect(thrown).toBe(error);
  });

  test('a thrown non-object passes through unchanged', async () => {
    // Arrange / Act
    let thrown: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the point: a non-Error rejection
      await classifyAwsErrors(() => Promise.reject('just a string'));
    } catch (e) {
      thrown = e;
    }

    // Assert
    expect(thrown).toBe('just a string');
  });
});

describe('isTransientAwsError / awsErrorName', () => {
  test('only error-shaped values can be transient; a 4xx client error is not', () => {
    // Arrange / Act / Assert
    expect(isTransientAwsError(undefined)).toBe(false);
    expect(isTransientAwsError('ThrottlingException')).toBe(false);
    expect(isTransientAwsError(awsError('ValidationError', { status: 400 }))).toBe(false);
    expect(isTransientAwsError(awsError('ThrottlingException', { status: 400 }))).toBe(true);
  });

  test('awsErrorName reads the SDK error name, or "" for non-errors', () => {
    // Arrange / Act / Assert
    expect(awsErrorName(awsError('NoSuchEntity'))).toBe('NoSuchEntity');
    expect(awsErrorName(null)).toBe('');
    expect(awsErrorName(42)).toBe('');
  });
});
