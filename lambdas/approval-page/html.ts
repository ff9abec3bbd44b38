import { createHash } from 'node:crypto';
import type { ApprovalRecord, ApprovalSummary, CertificateLine } from './store';

/** The page's only style: inline, allowed by its hash in the CSP (no other source is). */
export const STYLE = [
  'body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1b1b;background:#fff}',
  'main{max-width:40rem;margin:0 auto;padding:1rem}',
  'h1{font-size:1.35rem;line-height:1.3;margin:.25rem 0 1rem}',
  'h2{font-size:1.05rem;margin:1.25rem 0 .4rem}',
  'p,ul,dl{margin:.4rem 0}',
  // Long fingerprints and names wrap instead of widening the page past a phone's width.
  'p,li,dd,h1,h2{overflow-wrap:anywhere}',
  'ul{padding-left:1.2rem}',
  'dl{display:grid;grid-template-columns:auto 1fr;gap:.1rem .6rem}',
  'dt{font-weight:600}',
  'dd{margin:0;min-width:0}',
  'code{font:.9rem/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}',
  '.note{background:#f3f4f6;border-left:4px solid #6b7280;padding:.5rem .75rem}',
  '.warn{background:#fff4e5;border-left:4px solid #b45309;padding:.5rem .75rem}',
  '.ok{background:#ecfdf3;border-left:4px solid #047857;padding:.5rem .75rem}',
  'label{display:block;font-weight:600;margin:.9rem 0 .25rem}',
  'input,textarea{box-sizing:border-box;width:100%;font:inherit;padding:.6rem;border:1px solid #6b7280;border-radius:.35rem}',
  '.buttons{display:flex;gap:.75rem;margin:1.25rem 0 .5rem}',
  'button{flex:1;min-height:3rem;font:inherit;font-weight:700;border:0;border-radius:.4rem;color:#fff;background:#047857;cursor:pointer}',
  'button.reject{background:#b91c1c}',
  'button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #1d4ed8;outline-offset:2px}',
  '.small{font-size:.875rem;color:#4b5563}',
].join('');

const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');

/** The headers of every response: a strict CSP (no script at all), no referrer, no framing, no caching. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'strict-transport-security': 'max-age=63072000',
  'x-robots-tag': 'noindex, nofollow',
};

/** Escapes text for HTML element content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

function layout(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${esc(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    '<main>',
    body,
    '</main>',
    '</body>',
    '</html>',
  ].join('\n');
}

function certificate(label: string, c: CertificateLine | undefined): string {
  if (!c) return '';
  return [
    `<h2>${esc(label)}</h2>`,
    '<dl>',
    `<dt>Serial</dt><dd><code>${esc(c.serial)}</code></dd>`,
    `<dt>SHA-256</dt><dd><code>${esc(c.sha256)}</code></dd>`,
    `<dt>Expires</dt><dd>${esc(c.notAfter)}</dd>`,
    '</dl>',
  ].join('\n');
}

function list(items: readonly string[], more = 0): string {
  if (items.length === 0 && more === 0) return '<p>Nothing.</p>';
  return `<ul>${items.map((i) => `<li>${esc(i)}</li>`).join('')}${more > 0 ? `<li>and ${more} more</li>` : ''}</ul>`;
}

/** What the approver decides on: the rotation, both certificates, what was done, what comes next. */
export function summaryHtml(s: ApprovalSummary): string {
  const counts = Object.entries(s.next.counts).map(([kind, n]) => `${n} ${kind}`);
  return [
    `<p>Rotation of <strong>${esc(s.domain)}</strong>, execution <code>${esc(s.executionName)}</code>.</p>`,
    certificate('New certificate', s.certificates.new),
    certificate('Previous certificate', s.certificates.previous),
    '<h2>Just done and verified</h2>',
    list(s.done),
    `<h2>Next: ${esc(s.next.description)}</h2>`,
    `<p>It will touch: ${counts.length === 0 ? 'nothing' : esc(counts.join(', '))}</p>`,
    s.next.names.length > 0 || s.next.more > 0 ? list(s.next.names, s.next.more) : '',
  ].join('\n');
}

/** GET of a pending request: the summary and a plain form with two buttons (no script; nothing submits on its own). */
export function decisionPage(
  r: ApprovalRecord,
  o: { readonly error?: string; readonly name?: string; readonly comment?: string } = {},
): string {
  const expires = new Date(r.expiresAt * 1000).toISOString();
  const timeout =
    r.summary.onTimeout === 'rollback'
      ? 'everything changed so far is rolled back'
      : 'the rotation stops here and keeps what it changed (no rollback)';
  return layout(
    `Approve? ${r.summary.title}`,
    [
      `<h1>${esc(r.summary.title)}</h1>`,
      o.error ? `<p class="warn" role="alert">${esc(o.error)}</p>` : '',
      summaryHtml(r.summary),
      '<h2>Your decision</h2>',
      `<p class="note">Approve lets the rotation go on to the next phase. Reject rolls back everything changed so far. Without an answer by ${esc(expires)}, ${timeout}.</p>`,
      '<form method="post">',
      '<label for="name">Your name (required, recorded)</label>',
      `<input id="name" name="name" required maxlength="100" autocomplete="name" value="${esc(o.name ?? '')}">`,
      '<label for="comment">Comment (optional, recorded)</label>',
      `<textarea id="comment" name="comment" maxlength="1000" rows="3">${esc(o.comment ?? '')}</textarea>`,
      '<div class="buttons">',
      '<button type="submit" name="decision" value="approve">Approve</button>',
      '<button type="submit" name="decision" value="reject" class="reject">Reject</button>',
      '</div>',
      '</form>',
    ].join('\n'),
  );
}

/** Any page that only tells something: already decided, expired, unknown, not waiting, done, an error. */
export function messagePage(title: string, paragraphs: readonly string[], kind: 'note' | 'warn' | 'ok' = 'note', extra = ''): string {
  return layout(title, [`<h1>${esc(title)}</h1>`, ...paragraphs.map((p) => `<p class="${kind}">${esc(p)}</p>`), extra].join('\n'));
}
