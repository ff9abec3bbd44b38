import {
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  type HistoryEvent,
  type SFNClient,
} from '@aws-sdk/client-sfn';
import { awsErrorName } from '../shared/aws-errors';
import { APPROVAL_REJECTED } from '../shared/errors';
import type { DomainLogger } from '../shared/logger';
import { decisionPage, messagePage, SECURITY_HEADERS, summaryHtml } from './html';
import { APPROVAL_ID_RE, hashApprovalId, type ApprovalRecord, type ApprovalStore, type Decision } from './store';

/** An HTTP request as the page sees it (from a function URL event: see index.ts). */
export interface PageRequest {
  readonly method: string;
  readonly path: string;
  readonly contentType?: string;
  /** The decoded body. */
  readonly body?: string;
  /** Lambda's request id: the correlation id an error page shows. */
  readonly requestId: string;
}

export interface PageResponse {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

export interface PageParams {
  readonly approvals: ApprovalStore;
  readonly sfn: SFNClient;
  readonly logger: DomainLogger;
  readonly now: () => Date;
}

/** What the task output of an approved gate holds (`$.approvals.<gate>`), and what a rejection's cause says. */
export interface ApprovalOutput {
  readonly decision: 'approved';
  readonly approvedBy: string;
  readonly comment?: string;
  readonly at: string;
}

const MAX_NAME = 100;
const MAX_COMMENT = 1000;

function html(statusCode: number, body: string, extra: Record<string, string> = {}): PageResponse {
  return { statusCode, headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...extra }, body };
}

const unknownPage = () =>
  html(
    404,
    messagePage('Unknown approval link', [
      'This link does not belong to any approval request. Check that you opened the whole link from the email; a new request comes in a new email.',
    ]),
  );

const expiredPage = (r: ApprovalRecord) =>
  html(
    410,
    messagePage(
      'This approval request has expired',
      [
        `The gate "${r.summary.title}" waited until ${new Date(r.expiresAt * 1000).toISOString()} and nobody decided.`,
        r.summary.onTimeout === 'rollback'
          ? 'The rotation rolls back what it changed.'
          : 'The rotation stopped at this gate and kept what it had changed (no rollback): see its result email.',
      ],
      'warn',
    ),
  );

const decidedPage = (r: ApprovalRecord, status = 409) =>
  html(
    status,
    messagePage(
      'Already decided',
      [
        `Already ${r.decision ?? 'decided'} by ${r.decidedBy ?? 'someone'} at ${r.decidedAt ?? 'an earlier time'}.`,
        ...(r.comment ? [`Comment: ${r.comment}`] : []),
        'Nothing was changed by this request.',
      ],
      'note',
      summaryHtml(r.summary),
    ),
  );

const notWaitingPage = (r: ApprovalRecord, why: string) =>
  html(
    409,
    messagePage(
      'The rotation is no longer waiting here',
      [`${why} Your decision was recorded but changes nothing: the gate "${r.summary.title}" is no longer open.`],
      'warn',
    ),
  );

/** A short message and a correlation id; never the exception text. */
export function errorPage(requestId: string): PageResponse {
  return html(
    500,
    messagePage('Something went wrong', [
      'The decision could not be handled. Nothing was sent to the rotation. Try again in a minute; if it keeps failing, give this correlation id to whoever runs the rotation:',
      requestId,
    ]),
  );
}

/** Parses an application/x-www-form-urlencoded body. */
function form(body: string | undefined): URLSearchParams {
  return new URLSearchParams(body ?? '');
}

/** True when the last state event of the execution is this gate's TaskStateEntered (it waits for its token). */
async function waitingAt(params: PageParams, r: ApprovalRecord): Promise<{ waiting: true } | { waiting: false; why: string }> {
  const ex = await params.sfn.send(new DescribeExecutionCommand({ executionArn: r.executionArn }));
  if (ex.status !== 'RUNNING') return { waiting: false, why: `The execution is ${String(ex.status)}.` };
  const history = await params.sfn.send(
    new GetExecutionHistoryCommand({ executionArn: r.executionArn, reverseOrder: true, maxResults: 50, includeExecutionData: false }),
  );
  const last: HistoryEvent | undefined = (history.events ?? []).find(
    (e) => e.type?.endsWith('StateEntered') || e.type?.endsWith('StateExited'),
  );
  if (last?.type === 'TaskStateEntered' && last.stateEnteredEventDetails?.name === r.stateName) return { waiting: true };
  return { waiting: false, why: 'The execution has moved on from this gate.' };
}

async function decide(params: PageParams, req: PageRequest, r: ApprovalRecord): Promise<PageResponse> {
  if (!/^application\/x-www-form-urlencoded\b/i.test(req.contentType ?? '')) {
    return html(415, messagePage('Unsupported request', ['Decide with the buttons of the approval page.']));
  }
  const f = form(req.body);
  const decisionField = f.get('decision');
  const name = (f.get('name') ?? '').trim();
  const comment = (f.get('comment') ?? '').trim();
  const again = (error: string) =>
    html(400, decisionPage(r, { error, name: name.slice(0, MAX_NAME), comment: comment.slice(0, MAX_COMMENT) }));
  if (decisionField !== 'approve' && decisionField !== 'reject') return again('Press Approve or Reject.');
  if (name === '') return again('Your name is required: it is recorded with the decision.');
  if (name.length > MAX_NAME || [...name].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
    return again(`Your name must be at most ${MAX_NAME} printable characters.`);
  if (comment.length > MAX_COMMENT) return again(`The comment must be at most ${MAX_COMMENT} characters.`);
  const decision: Decision = decisionField === 'approve' ? 'approved' : 'rejected';
  const at = params.now();

  // 1. The decision is marked first, once (a conditional write): a replay or a race loses here.
  const marked = await params.approvals.markDecision(r.idHash, { decision, by: name, at, ...(comment ? { comment } : {}) });
  if (!marked) {
    const now = await params.approvals.get(r.idHash);
    if (now?.decision) return decidedPage(now);
    return now ? expiredPage(now) : unknownPage();
  }
  const ref = r.idHash.slice(0, 12);
  params.logger.info('decision recorded', { gate: r.gate, approvalRef: ref, decision });

  // 2. The execution must still be running and waiting at this gate.
  const state = await waitingAt(params, r);
  if (!state.waiting) {
    params.logger.warn('decision for a gate that is no longer waiting', { gate: r.gate, approvalRef: ref });
    return notWaitingPage(r, state.why);
  }

  // 3. Only then is the task answered.
  try {
    if (decision === 'approved') {
      const output: ApprovalOutput = { decision, approvedBy: name, ...(comment ? { comment } : {}), at: at.toISOString() };
      await params.sfn.send(new SendTaskSuccessCommand({ taskToken: r.taskToken, output: JSON.stringify(output) }));
    } else {
      await params.sfn.send(
        new SendTaskFailureCommand({
          taskToken: r.taskToken,
          error: APPROVAL_REJECTED,
          cause: `rejected by ${name} at ${at.toISOString()}${comment ? `: ${comment}` : ''}`.slice(0, 32768),
        }),
      );
    }
  } catch (error) {
    const code = awsErrorName(error);
    if (code === 'TaskTimedOut' || code === 'TaskDoesNotExist' || code === 'InvalidToken') {
      params.logger.warn('task no longer open', { gate: r.gate, approvalRef: ref, code });
      return notWaitingPage(r, 'The gate closed before your decision arrived (it timed out or was retried).');
    }
    throw error;
  }
  params.logger.info('task answered', { gate: r.gate, approvalRef: ref, decision });
  return html(
    200,
    messagePage(
      decision === 'approved' ? 'Approved' : 'Rejected',
      [
        `${decision === 'approved' ? 'Approved' : 'Rejected'} by ${name} at ${at.toISOString()}.`,
        decision === 'approved'
          ? `The rotation goes on: ${r.summary.next.description}.`
          : 'The rotation rolls back everything it changed, verifies the rollback and emails the result.',
      ],
      'ok',
    ),
  );
}

/**
 * The approval page. `GET /a/<id>` shows the summary and the two buttons; `HEAD` the same
 * headers. Neither writes anything (mail scanners fetch every link). `POST /a/<id>` decides:
 * the decision is marked with a conditional write first, then DescribeExecution and the
 * history must show the execution running and waiting at this gate, and only then is
 * SendTaskSuccess or SendTaskFailure (`ApprovalRejected`) called.
 */
export async function handlePage(req: PageRequest, params: PageParams): Promise<PageResponse> {
  const m = /^\/a\/([^/]+)$/.exec(req.path);
  const method = req.method.toUpperCase();
  if (!['GET', 'HEAD', 'POST'].includes(method)) {
    return html(405, messagePage('Method not allowed', ['Open the link from the email.']), { allow: 'GET, HEAD, POST' });
  }
  const respond = async (): Promise<PageResponse> => {
    if (!m || !APPROVAL_ID_RE.test(m[1])) return unknownPage();
    const r = await params.approvals.get(hashApprovalId(m[1]));
    if (!r) return unknownPage();
    if (r.decision) return decidedPage(r, method === 'POST' ? 409 : 200);
    if (r.expiresAt * 1000 <= params.now().getTime()) return expiredPage(r);
    if (method !== 'POST') return html(200, decisionPage(r));
    return decide(params, req, r);
  };
  const response = await respond();
  return method === 'HEAD' ? { ...response, body: '' } : response;
}
