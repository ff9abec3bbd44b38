/**
 * `npm run approve -- <link or id> [--url BASE] [--approve | --reject] [--name NAME] [--comment TEXT]`
 *
 * The operator's path without email: it opens the approval page as a browser does (GET: shows
 * the summary, changes nothing), then sends the same POST as the page's buttons. The decision
 * goes through the page's logic (the conditional write, the execution check, then
 * SendTaskSuccess/SendTaskFailure); this command never sees a task token and needs no AWS
 * credentials. BASE is the stack output ApprovalPageUrl (or CERT_ROTATION_APPROVAL_URL), needed
 * only when you give the id alone.
 */
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { APPROVAL_ID_RE } from '../lambdas/approval-page/store';
import { openPage, postDecision } from './approval-client';

const USAGE = 'usage: npm run approve -- <link or id> [--url BASE] [--approve | --reject] [--name NAME] [--comment TEXT]';

/** The link of an argument: a whole link, or an id with the page's base URL. */
export function linkOf(arg: string, base: string | undefined): string {
  if (/^https?:\/\//.test(arg)) {
    const id = arg.slice(arg.lastIndexOf('/') + 1);
    if (!/\/a\/[^/]+$/.test(arg) || !APPROVAL_ID_RE.test(id)) throw new Error(`not an approval link: ${arg}`);
    return arg;
  }
  if (!APPROVAL_ID_RE.test(arg)) throw new Error('not an approval link or id (an id is 43 characters of A-Z, a-z, 0-9, - and _)');
  if (!base) throw new Error('an id alone needs the page: --url <ApprovalPageUrl> (stack output) or CERT_ROTATION_APPROVAL_URL');
  return `${base.replace(/\/?$/, '/')}a/${arg}`;
}

/** Where the pages' text goes (stdout; a test collects it). */
export interface ApproveIo {
  readonly out: (text: string) => void;
}

const STDOUT: ApproveIo = { out: (text) => void process.stdout.write(text) };

export async function main(argv: readonly string[], io: ApproveIo = STDOUT): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: {
        url: { type: 'string' },
        approve: { type: 'boolean', default: false },
        reject: { type: 'boolean', default: false },
        name: { type: 'string' },
        comment: { type: 'string' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1 || (values.approve && values.reject)) {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  let link: string;
  try {
    link = linkOf(positionals[0], values.url ?? process.env.CERT_ROTATION_APPROVAL_URL);
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 2;
  }

  const shown = await openPage(link);
  io.out(`${shown.text}\n\n`);
  if (shown.status !== 200 || !shown.html.includes('<form')) return 1;

  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  try {
    let decision: 'approve' | 'reject' | undefined = values.approve ? 'approve' : values.reject ? 'reject' : undefined;
    while (!decision) {
      const answer = (await rl.question('approve or reject? ')).trim().toLowerCase();
      if (['approve', 'a', 'y', 'yes'].includes(answer)) decision = 'approve';
      else if (['reject', 'r', 'n', 'no'].includes(answer)) decision = 'reject';
    }
    let name = values.name?.trim() ?? '';
    while (name === '') name = (await rl.question('your name (recorded with the decision): ')).trim();
    const comment = values.comment ?? (values.approve || values.reject ? '' : (await rl.question('comment (optional): ')).trim());
    const answered = await postDecision(link, { decision, name, ...(comment ? { comment } : {}) });
    io.out(`${answered.text}\n`);
    return answered.status === 200 ? 0 : 1;
  } finally {
    rl.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`approve failed: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(3);
    },
  );
}
