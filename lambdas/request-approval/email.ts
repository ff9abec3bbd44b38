import { MAX_NAMES, type ApprovalSummary, type CertificateLine } from '../approval-page/store';

/** Renders the gate's details (what was just done and verified) as short `key: value` lines. */
export function describeDetails(details: unknown, indent = ''): string[] {
  if (details === null || details === undefined) return [];
  if (typeof details !== 'object') return [`${indent}${typeof details === 'string' ? details : JSON.stringify(details)}`];
  return Object.entries(details as Record<string, unknown>).flatMap(([k, v]) =>
    Array.isArray(v)
      ? [`${indent}${k}: ${v.length === 0 ? '(none)' : v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(', ')}`]
      : typeof v === 'object' && v !== null
        ? [`${indent}${k}:`, ...describeDetails(v, `${indent}  `)]
        : [`${indent}${k}: ${String(v)}`],
  );
}

function certificateLines(label: string, c: CertificateLine | undefined): string[] {
  if (!c) return [];
  return [label, `  serial:  ${c.serial}`, `  SHA-256: ${c.sha256}`, `  expires: ${c.notAfter}`];
}

/** "3 ELB listeners, 1 CloudFront distribution". */
export function countsLine(counts: Readonly<Record<string, number>>): string {
  const parts = Object.entries(counts).map(([kind, n]) => `${n} ${kind}`);
  return parts.length === 0 ? 'nothing' : parts.join(', ');
}

/** The names, then "and N more". */
export function nameLines(names: readonly string[], more: number): string[] {
  return [...names.slice(0, MAX_NAMES).map((n) => `  - ${n}`), ...(more > 0 ? [`  and ${more} more`] : [])];
}

/** What the timeout does, in words. */
export function onTimeoutText(onTimeout: ApprovalSummary['onTimeout']): string {
  return onTimeout === 'rollback'
    ? 'everything changed so far is rolled back'
    : 'the rotation stops here and keeps what it changed (no rollback)';
}

/** Wraps prose at `width` characters (a phone shows about that many), keeping an indent on every line. */
export function wrap(text: string, width = 72, indent = ''): string[] {
  const lines: string[] = [];
  let line = indent;
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line.trim() !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `${indent}  ${word}`;
    } else line = line.trim() === '' ? `${indent}${word}` : `${line} ${word}`;
  }
  if (line.trim() !== '') lines.push(line);
  return lines;
}

/**
 * The approval email: plain text with short lines (it is read on a phone), the link first. It
 * names the rotation (domain, both certificates), what was just done and verified, and what the
 * next phase will touch. Never the task token; the link carries only the approval id.
 */
export function approvalEmail(summary: ApprovalSummary, link: string, expiresAt: Date): { subject: string; message: string } {
  const subject = `[cert-rotation ${summary.domain}] Approval needed: ${summary.title}`.slice(0, 99);
  const lines = [
    `Rotation of ${summary.domain} is waiting for you at:`,
    ...wrap(summary.title),
    '',
    'Review and decide on this page (nothing changes',
    'until you press Approve or Reject):',
    link,
    '',
    ...certificateLines('New certificate', summary.certificates.new),
    ...certificateLines('Previous certificate', summary.certificates.previous),
    '',
    'Just done and verified:',
    ...(summary.done.length > 0 ? summary.done.flatMap((l) => wrap(l, 72, '  ')) : ['  (nothing changed yet)']),
    '',
    ...wrap(`Next: ${summary.next.description}`),
    ...wrap(`It will touch: ${countsLine(summary.next.counts)}`),
    ...nameLines(summary.next.names, summary.next.more),
    '',
    `The link expires at ${expiresAt.toISOString()}.`,
    ...wrap(`No answer by then: ${onTimeoutText(summary.onTimeout)}.`),
    'Rejecting rolls back everything changed so far.',
    '',
    `Execution: ${summary.executionName}`,
    'No browser? In the project checkout run:',
    '  npm run approve -- <the link above>',
  ];
  return { subject, message: lines.join('\n') };
}
