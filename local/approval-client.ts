/**
 * The operator's side of the approval page, over HTTP: what a browser does (GET the link, POST
 * the form), used by the rehearsal's approvers and by `npm run approve`. Every decision goes
 * through the page's POST, never around it.
 */

/** The approval links of a message (the page's `/a/<id>` links). */
export function approvalLinksIn(text: string): string[] {
  return [...text.matchAll(/https?:\/\/[^\s"'<>]+\/a\/[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/g)].map((m) => m[0]);
}

export interface PageResult {
  readonly status: number;
  readonly html: string;
  /** The page's text: its title and paragraphs, without markup. */
  readonly text: string;
  readonly headers: Headers;
}

/** The visible text of a page, one block per line. */
export function pageText(html: string): string {
  return html
    .replace(/<style[\s\S]*?<\/style>/gi, '')
    .replace(/<title[\s\S]*?<\/title>/gi, '')
    .replace(/<(br|\/p|\/h1|\/h2|\/li|\/dd|\/div|\/form|\/ul|\/dl)>/gi, '\n')
    .replace(/<li>/gi, '- ')
    .replace(/<dt>/gi, '')
    .replace(/<\/dt>/gi, ': ')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, '&')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join('\n');
}

async function asResult(res: Response): Promise<PageResult> {
  const html = await res.text();
  return { status: res.status, html, text: pageText(html), headers: res.headers };
}

/** GET the page (what a mail scanner, a browser or this client does: it changes nothing). */
export async function openPage(link: string): Promise<PageResult> {
  return asResult(await fetch(link, { method: 'GET', redirect: 'error' }));
}

export interface DecisionForm {
  readonly decision: 'approve' | 'reject';
  readonly name: string;
  readonly comment?: string;
}

/** POST the page's form, as its Approve or Reject button does. */
export async function postDecision(link: string, form: DecisionForm): Promise<PageResult> {
  const body = new URLSearchParams({ decision: form.decision, name: form.name, ...(form.comment ? { comment: form.comment } : {}) });
  return asResult(
    await fetch(link, {
      method: 'POST',
      redirect: 'error',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    }),
  );
}
