/**
 * Which targets a rollback could not prove are back on their previous certificate, carried in
 * the message of verify-rollback's VerificationFailed. A Lambda error reaches the state machine
 * as `{"errorType","errorMessage","trace"}` only (no custom fields), so the machine-readable list
 * of ledger keys (`elb/NAME/PORT`, `elbv2/NAME/PORT/ROLE`, `cloudfront/ID`) ends the message.
 */
const MARKER = ' notBack=';

/** Appends the keys to a human message: `<message> notBack=["elb/x/443"]`. */
export function withNotBack(message: string, keys: readonly string[]): string {
  return `${message}${MARKER}${JSON.stringify(keys)}`;
}

/** The keys a {@link withNotBack} message names; undefined when the message carries none. */
export function notBackOf(message: string | undefined): string[] | undefined {
  if (!message) return undefined;
  const at = message.lastIndexOf(MARKER);
  if (at < 0) return undefined;
  try {
    const keys = JSON.parse(message.slice(at + MARKER.length)) as unknown;
    return Array.isArray(keys) && keys.every((k) => typeof k === 'string') ? keys : undefined;
  } catch {
    return undefined;
  }
}

/** The message without the machine-readable list (for people: emails, the report's text fields). */
export function withoutNotBack(message: string): string;
export function withoutNotBack(message: string | undefined): string | undefined;
export function withoutNotBack(message: string | undefined): string | undefined {
  if (message === undefined || notBackOf(message) === undefined) return message;
  return message.slice(0, message.lastIndexOf(MARKER));
}
