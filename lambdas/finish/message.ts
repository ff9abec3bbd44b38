/**
 * The parts of the result email an operator acts on: after a success, the monit fingerprint and
 * the configuration-management follow-up (with the new certificate's public PEM); after a
 * failure, what was reverted and what was verified. Public material only: never a key.
 */
import type { ChangeLedger, LedgerEntry } from '../shared/ledger';
import { targetLabel } from '../shared/targets';

type Entries = Awaited<ReturnType<ChangeLedger['entries']>>;

/** Targets named per list of a result email; the rest is "and N more" (the report names them all). */
export const LISTED = 50;
/** SNS takes at most 256 KB (262,144 bytes) per message; the email stays below this. */
export const EMAIL_MAX_BYTES = 250_000;

/** The first `max` items, indented, then "and N more" (a fleet of thousands would not fit in an email). */
export function listed(items: readonly string[], max = LISTED): string[] {
  const more = items.length - max;
  return [...items.slice(0, max).map((t) => `  ${t}`), ...(more > 0 ? [`  and ${more} more (the report names them all)`] : [])];
}

/** The email text, cut at a line end below {@link EMAIL_MAX_BYTES} when a long note would make it too long for SNS. */
export function fitForSns(lines: readonly string[], reportKey: string): string {
  const text = lines.join('\n');
  if (Buffer.byteLength(text, 'utf8') <= EMAIL_MAX_BYTES) return text;
  const tail = `\n... (cut: the whole account is in the report ${reportKey})`;
  let cut = text.slice(0, EMAIL_MAX_BYTES - tail.length);
  while (Buffer.byteLength(cut, 'utf8') > EMAIL_MAX_BYTES - tail.length) cut = cut.slice(0, -1000);
  return `${cut.slice(0, Math.max(0, cut.lastIndexOf('\n')))}${tail}`;
}

/** Where the Ansible role keeps the certificate and its key (config `configurationManagement`). */
export interface ConfigurationManagement {
  readonly role: string;
  readonly certificateFile: string;
  readonly vaultFile: string;
}

export interface NewCertificateFacts {
  readonly sha256?: string;
  readonly md5?: string;
  readonly serial?: string;
  readonly notAfter?: string;
}

/** The success email's follow-up: monit's MD5, the Ansible role and vault to update, the public PEM. */
export function successFollowUp(p: {
  readonly certificate: NewCertificateFacts;
  /** The uploaded certificate's public body (and chain) as IAM returns it; undefined when it could not be read. */
  readonly publicPem?: string;
  readonly iamName?: string;
  readonly secretArn?: string;
  readonly monitParameter?: string;
  /** What finish says about writing monitParameter (after-rotation.ts monitLines), in place of "set it". */
  readonly monitWrite?: readonly string[];
  readonly configurationManagement?: ConfigurationManagement;
}): string[] {
  const cm = p.configurationManagement;
  return [
    '',
    'New certificate:',
    `  serial  ${p.certificate.serial ?? '?'}`,
    `  SHA-256 ${p.certificate.sha256 ?? '?'}`,
    `  MD5     ${p.certificate.md5 ?? '?'}`,
    `  expires ${p.certificate.notAfter ?? '?'}`,
    ...(p.iamName ? [`  IAM     ${p.iamName}`] : []),
    '',
    `monit: the MD5 fingerprint it checks is now ${p.certificate.md5 ?? '?'} (openssl x509 -noout -fingerprint -md5 | tr -d :).`,
    ...(p.monitWrite ??
      (p.monitParameter ? [`  Set it in the SSM parameter ${p.monitParameter} if your monit configuration reads it from there.`] : [])),
    '',
    'Configuration management follow-up (a stale role reverts the nodes on its next run):',
    ...(cm
      ? [
          `  1. Ansible role ${cm.role}: replace ${cm.certificateFile} with the certificate below.`,
          `  2. Vault ${cm.vaultFile}: replace the private key with the new one, read from Secrets Manager`,
          `     (${p.secretArn ?? 'the rotation secret'}); it is never in an email.`,
        ]
      : ['  (no configurationManagement in the config: update wherever your nodes get the certificate from)']),
    '',
    'The new certificate (public PEM, leaf then chain):',
    ...(p.publicPem ? [p.publicPem.trim()] : ['  (could not be read back from IAM: see the report)']),
  ];
}

/** The failure email's account of the rollback: what it reverted, what it verified over TLS, what it did not. */
export function rollbackAccount(p: {
  readonly ledger: Entries;
  /** verify-rollback's result: each target it saw serve the previous certificate. */
  readonly verified?: ReadonlyArray<{ readonly target?: string; readonly servedSha256?: string }>;
  readonly notBack: readonly LedgerEntry[];
}): string[] {
  const reverted = p.ledger.filter((e) => e.status === 'rolled-back' && e.note !== 'was not switched').map((e) => targetLabel(e.target));
  const neverSwitched = p.ledger
    .filter((e) => e.status === 'rolled-back' && e.note === 'was not switched')
    .map((e) => targetLabel(e.target));
  const verified = p.verified ?? [];
  if (p.ledger.length === 0) return ['', 'Nothing had changed: no target was switched, so nothing needed reverting.'];
  return [
    '',
    `Reverted to the previous certificate (${reverted.length}):`,
    ...(reverted.length ? listed(reverted) : ['  none']),
    ...(neverSwitched.length ? ['Recorded but never switched (nothing to revert):', ...listed(neverSwitched)] : []),
    `Verified serving the previous certificate over TLS (${verified.length}):`,
    ...(verified.length ? listed(verified.map((v) => `${v.target ?? '?'}: ${v.servedSha256 ?? '?'}`)) : ['  none']),
    ...(p.notBack.length ? [`NOT verified back (${p.notBack.length}): see ACTION NEEDED above.`] : []),
  ];
}

/** Lambda errors reach Catch as `{"errorType","errorMessage","trace"}` JSON; other errors as text. */
export function describeError(error: { readonly Error?: string; readonly Cause?: string } | undefined): string | undefined {
  if (!error) return undefined;
  let message = error.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: string };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // plain text cause
  }
  return `${error.Error ?? 'Error'}: ${message}`.trim();
}
