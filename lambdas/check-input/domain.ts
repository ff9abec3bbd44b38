import { InputInvalid } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import type { CertificateSource } from '../obtain/domain';

/**
 * The trust boundary at the door. The execution input is written by whoever may call
 * StartExecution: only its documented fields enter the state, each validated; anything else is
 * refused by name before any other state runs. The checked input replaces the state, so later
 * states read handler results only.
 *
 * Documented input (README "Run a rotation"):
 *   { "source": { "secretId": "<name or ARN>" } }
 *   { "source": { "s3": { "prefix": "<folder>", "bucket"?: "<staging bucket>" } } }
 *   { "source": { "acme": {} } }   (issued over ACME DNS-01 as configured: certificateSource.acme)
 *   { "source": { "acm": {} } }    (exported from the configured ACM certificate: certificateSource.acm)
 */
export interface CheckedInput {
  readonly source: CertificateSource;
}

export interface CheckInputParams {
  readonly input: unknown;
  readonly logger: DomainLogger;
}

/** Top-level fields of the execution input, in the order the messages list them. */
export const INPUT_FIELDS = ['source'] as const;
const SOURCE_KINDS = ['secretId', 's3', 'acme', 'acm'] as const;
const S3_FIELDS = ['prefix', 'bucket'] as const;
/** No fields: what to issue and from which CA or certificate is the deployment's config, not the caller's. */
const AUTOMATIC_FIELDS: readonly string[] = [];

/** A caller-written field name, quoted and cut short: it goes into an error message. */
function quote(name: string): string {
  return JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}...` : name);
}

function kindOf(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Refuses every field of `value` not in `allowed`, naming each one (as `path.field`). */
function refuseUnknown(value: Record<string, unknown>, allowed: readonly string[], path: string): void {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  const names = unknown.map((k) => quote(`${path}${k}`)).join(', ');
  const allowedText = allowed.length > 0 ? allowed.join(', ') : '(none)';
  throw new InputInvalid(
    unknown.length === 1
      ? `execution input field ${names} is not allowed; allowed: ${allowedText}`
      : `execution input fields ${names} are not allowed; allowed: ${allowedText}`,
  );
}

function checkSource(source: unknown): CertificateSource {
  if (source === undefined) {
    throw new InputInvalid(
      'execution input field "source" is required: {"secretId": "<secret under the staging prefix>"} or {"s3": {"prefix": "<folder in the staging bucket>"}}',
    );
  }
  if (!isObject(source)) throw new InputInvalid(`execution input field "source" must be an object, got ${kindOf(source)}`);
  refuseUnknown(source, SOURCE_KINDS, 'source.');
  const kinds = Object.keys(source);
  if (kinds.length !== 1) {
    throw new InputInvalid(`execution input field "source" must name exactly one of ${SOURCE_KINDS.join(', ')}; got ${kinds.length}`);
  }
  if ('secretId' in source) {
    const id = source.secretId;
    if (typeof id !== 'string' || id.trim() === '') {
      throw new InputInvalid(`execution input field "source.secretId" must be a non-empty string, got ${kindOf(id)}`);
    }
    return { secretId: id };
  }
  if ('s3' in source) {
    const s3 = source.s3;
    if (!isObject(s3)) throw new InputInvalid(`execution input field "source.s3" must be an object, got ${kindOf(s3)}`);
    refuseUnknown(s3, S3_FIELDS, 'source.s3.');
    if (typeof s3.prefix !== 'string' || s3.prefix.trim() === '') {
      throw new InputInvalid(`execution input field "source.s3.prefix" must be a non-empty string, got ${kindOf(s3.prefix)}`);
    }
    if (s3.bucket !== undefined && (typeof s3.bucket !== 'string' || s3.bucket === '')) {
      throw new InputInvalid(`execution input field "source.s3.bucket" must be a non-empty string, got ${kindOf(s3.bucket)}`);
    }
    return { s3: { prefix: s3.prefix, ...(typeof s3.bucket === 'string' ? { bucket: s3.bucket } : {}) } };
  }
  const kind = 'acme' in source ? 'acme' : 'acm';
  const automatic = source[kind];
  if (!isObject(automatic)) throw new InputInvalid(`execution input field "source.${kind}" must be an object, got ${kindOf(automatic)}`);
  refuseUnknown(automatic, AUTOMATIC_FIELDS, `source.${kind}.`);
  return kind === 'acme' ? { acme: {} } : { acm: {} };
}

/** Returns the documented fields of the execution input, validated; throws InputInvalid naming the first bad field. */
export function checkInput(params: CheckInputParams): CheckedInput {
  const { input } = params;
  if (!isObject(input)) throw new InputInvalid(`the execution input must be a JSON object, got ${kindOf(input)}`);
  refuseUnknown(input, INPUT_FIELDS, '');
  const checked: CheckedInput = { source: checkSource(input.source) };
  params.logger.info('execution input accepted', { source: Object.keys(checked.source)[0] });
  return checked;
}
