import { checkInput, type CheckInputParams } from '../../../lambdas/check-input/domain';
import { InputInvalid } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';

function makeParams(overrides: Partial<CheckInputParams> = {}): CheckInputParams {
  return { input: { source: { secretId: 'cert-rotation/gitter.im/2026-11' } }, logger: silentLogger, ...overrides };
}

/** Runs the check and returns the InputInvalid it threw (fails the test when it did not). */
function refusal(input: unknown): InputInvalid {
  try {
    checkInput(makeParams({ input }));
  } catch (error) {
    expect(error).toBeInstanceOf(InputInvalid);
    expect((error as Error).name).toBe('InputInvalid');
    return error as InputInvalid;
  }
  throw new Error('expected the input to be refused');
}

describe('checkInput: the documented fields pass, validated and nothing else', () => {
  test.each([
    [{ source: { secretId: 'cert-rotation/gitter.im/2026-11' } }],
    [{ source: { s3: { prefix: '2026-11-27/' } } }],
    [{ source: { s3: { prefix: '2026-11-27/', bucket: 'my-staging-bucket' } } }],
    [{ source: { acme: {} } }],
    [{ source: { acm: {} } }],
  ])('%j is accepted as is', (input) => {
    // Act
    const checked = checkInput(makeParams({ input }));

    // Assert
    expect(checked).toEqual(input);
  });

  test('the result is a new object: nothing of the caller object is passed on by reference', () => {
    // Arrange
    const input = { source: { s3: { prefix: 'p/' } } };

    // Act
    const checked = checkInput(makeParams({ input }));

    // Assert
    expect(checked.source).not.toBe(input.source);
  });
});

describe('checkInput: refusals name the field', () => {
  test.each<[string, unknown, string]>([
    [
      'a forged "uploaded" (finding 1)',
      { source: { secretId: 'x' }, uploaded: { name: 'STAR.gitter.im_2025-11-15', reused: false } },
      'execution input field "uploaded" is not allowed; allowed: source',
    ],
    [
      'any unknown top-level field',
      { source: { secretId: 'x' }, plan: {} },
      'execution input field "plan" is not allowed; allowed: source',
    ],
    [
      'several unknown fields, each named',
      { source: { secretId: 'x' }, ledger: 1, rollback: 2 },
      'execution input fields "ledger", "rollback" are not allowed; allowed: source',
    ],
    ['an input that is not an object', ['source'], 'the execution input must be a JSON object, got an array'],
    ['a null input', null, 'the execution input must be a JSON object, got null'],
    ['no source', {}, 'execution input field "source" is required'],
    [
      'a source that is not an object',
      { source: 'cert-rotation/gitter.im/x' },
      'execution input field "source" must be an object, got string',
    ],
    [
      'an unknown kind of source',
      { source: { url: 'https://example.org/cert.pem' } },
      'execution input field "source.url" is not allowed; allowed: secretId, s3, acme',
    ],
    [
      'two kinds of source at once',
      { source: { secretId: 'x', s3: { prefix: 'p/' } } },
      'execution input field "source" must name exactly one of secretId, s3, acme, acm; got 2',
    ],
    ['an empty source', { source: {} }, 'execution input field "source" must name exactly one of secretId, s3, acme, acm; got 0'],
    ['an empty secretId', { source: { secretId: ' ' } }, 'execution input field "source.secretId" must be a non-empty string, got string'],
    [
      'a secretId that is not a string',
      { source: { secretId: 42 } },
      'execution input field "source.secretId" must be a non-empty string, got number',
    ],
    ['an s3 source that is not an object', { source: { s3: 'p/' } }, 'execution input field "source.s3" must be an object, got string'],
    [
      'an s3 source without prefix',
      { source: { s3: {} } },
      'execution input field "source.s3.prefix" must be a non-empty string, got undefined',
    ],
    [
      'an s3 bucket that is not a string',
      { source: { s3: { prefix: 'p/', bucket: 7 } } },
      'execution input field "source.s3.bucket" must be a non-empty string, got number',
    ],
    [
      'an unknown field inside s3',
      { source: { s3: { prefix: 'p/', versionId: 'v1' } } },
      'execution input field "source.s3.versionId" is not allowed; allowed: prefix, bucket',
    ],
    [
      'an acme source that is not an object',
      { source: { acme: true } },
      'execution input field "source.acme" must be an object, got boolean',
    ],
    [
      "a field inside acm (the certificate is the config's, never the caller's)",
      { source: { acm: { certificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/x' } } },
      'execution input field "source.acm.certificateArn" is not allowed; allowed: (none)',
    ],
    [
      'a field inside acme (none is defined yet)',
      { source: { acme: { directory: 'https://evil.example/acme' } } },
      'execution input field "source.acme.directory" is not allowed; allowed: (none)',
    ],
  ])('%s', (_name, input, message) => {
    // Act
    const error = refusal(input);

    // Assert
    expect(error.message.startsWith(message)).toBe(true);
  });

  test('a very long field name is cut short in the message (caller-written text in logs and reports)', () => {
    // Arrange
    const long = 'A'.repeat(500);

    // Act
    const error = refusal({ source: { secretId: 'x' }, [long]: 1 });

    // Assert
    expect(error.message).toContain(`"${'A'.repeat(40)}..."`);
    expect(error.message).not.toContain('A'.repeat(41));
  });
});
