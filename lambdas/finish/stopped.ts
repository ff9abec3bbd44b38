/**
 * The end of a rotation stopped at a gate by its timeout with `approvals.onTimeout: stop`: nothing
 * is rolled back. Every change was verified by its phase before the gate was reached (the canary's
 * TLS check, the edge's API and TLS verification, each node's own report), so every target serves
 * a valid certificate, the new one or the previous one. The report and the email say which, and
 * what the operator does next. Public material only: never a key.
 */
import { PublishCommand } from '@aws-sdk/client-sns';
import { ArtifactStore } from '../shared/artifacts';
import type { LedgerEntry } from '../shared/ledger';
import { targetLabel } from '../shared/targets';
import { wrap } from '../request-approval/email';
import type { FinishParams, FinishResult, Outcome } from './domain';
import { maintenanceAccount } from './after-rotation';
import { reportCommon } from './report';

/** What a gate's timeout path recorded at `$.approvalTimeout` (lib/workflow/gate.ts). */
export interface GateTimeoutState {
  readonly gateTimedOut?: boolean;
  readonly gate?: string;
  readonly stateName?: string;
  readonly timeoutSeconds?: number;
  readonly onTimeout?: 'rollback' | 'stop';
  readonly stateMachineArn?: string;
}

/** The reason a rollback-mode timeout gives in the report and email: which gate, how long (the engine's own error says only States.Timeout). */
export function timeoutReason(timeout: GateTimeoutState): string {
  return `States.Timeout: no answer at "${timeout.stateName ?? timeout.gate ?? 'an approval gate'}" within ${timeout.timeoutSeconds ?? '?'} s (approvals.onTimeout: ${timeout.onTimeout ?? 'rollback'})`;
}

/**
 * A rollback-mode timeout, as its email says it: the status stays REJECTED (REHEARSAL.md's statuses;
 * no approver said yes in time), but the subject and first line say that nobody answered, not that
 * somebody rejected: `Rotation ROLLED BACK: Approval 3 timed out after 86400 s`.
 */
export function timeoutHeadline(domain: string, timeout: GateTimeoutState): { subject: string; firstLine: string } {
  const name = timeout.stateName ?? timeout.gate ?? 'an approval gate';
  const short = name.includes(':') ? name.slice(0, name.indexOf(':')) : name;
  const seconds = timeout.timeoutSeconds ?? '?';
  const subject = `[cert-rotation ${domain}] Rotation ROLLED BACK: ${short} timed out after ${seconds} s`;
  return {
    subject: subject.length <= 100 ? subject : `${subject.slice(0, 99)}…`,
    firstLine: `Certificate rotation for ${domain}: ROLLED BACK because nobody answered "${name}" within ${seconds} s (reported as REJECTED)`,
  };
}

/** The report's `stopped`: where and why it stopped, and what was kept on the new certificate. */
export interface StoppedReport {
  readonly gate: string;
  readonly stateName: string;
  readonly timeoutSeconds: number;
  /** Always true: a stop keeps every change (nothing was rolled back). */
  readonly changesKept: true;
  /** Ledger keys of the targets the rotation switched (applied): they serve the new certificate. */
  readonly keptOnNew: string[];
  /** Ledger keys recorded but not confirmed switched (a change was under way): check them. */
  readonly unconfirmed: string[];
}

/** At most this many targets are named in the email and the execution's Cause (the report names all). */
const LISTED = 20;

function listed(labels: readonly string[]): string[] {
  return [
    ...labels.slice(0, LISTED).map((l) => `  ${l}`),
    ...(labels.length > LISTED ? [`  and ${labels.length - LISTED} more (see the report)`] : []),
  ];
}

/** The report part, the email's subject and lines, and the execution's Cause. */
export function stopAccount(p: {
  readonly domain: string;
  readonly executionName: string;
  readonly timeout: GateTimeoutState;
  readonly ledger: readonly LedgerEntry[];
  readonly previous:
    | { readonly arn?: string; readonly name?: string; readonly serial?: string; readonly sha256?: string; readonly notAfter?: string }
    | undefined;
  readonly next: { readonly serial?: string; readonly sha256?: string; readonly notAfter?: string } | undefined;
  readonly reportKey: string;
}): { report: StoppedReport; error: string; subject: string; lines: string[]; cause: string } {
  const stateName = p.timeout.stateName ?? p.timeout.gate ?? 'an approval gate';
  const seconds = p.timeout.timeoutSeconds ?? 0;
  const applied = p.ledger.filter((e) => e.status === 'applied');
  const unconfirmed = p.ledger.filter((e) => e.status === 'intended');
  const kept = applied.map((e) => targetLabel(e.target));
  const canaryTarget = applied.find((e) => e.phase === 'canary')?.target;
  const canary = canaryTarget?.kind === 'elb' ? canaryTarget : undefined;
  const canaryChanged = canary !== undefined;
  const report: StoppedReport = {
    gate: p.timeout.gate ?? '?',
    stateName,
    timeoutSeconds: seconds,
    changesKept: true,
    keptOnNew: applied.map((e) => e.key),
    unconfirmed: unconfirmed.map((e) => e.key),
  };
  const where = `stopped at "${stateName}" after no answer for ${seconds} s (approvals.onTimeout: stop)`;
  const error = `GateTimedOut: ${where}; nothing was rolled back: ${
    applied.length === 0 ? 'nothing had changed' : `${applied.length} target(s) kept on the new certificate`
  }`;
  const sm = p.timeout.stateMachineArn ?? '<state machine ARN>';
  const nothingChanged = applied.length === 0 && unconfirmed.length === 0;
  const prose = (...text: string[]) => wrap(text.join(' '));
  const start = `  aws stepfunctions start-execution \\\n    --state-machine-arn ${sm} \\\n    --input '<the input of ${p.executionName}>'`;
  const lines = [
    ...prose(`Rotation of ${p.domain} ${where}.`),
    ...prose('Nothing was rolled back. Every target serves a valid certificate: the new one or the previous one.'),
    '',
    ...(nothingChanged
      ? [
          ...prose('Nothing had changed yet: every target still serves the previous certificate.'),
          '',
          ...prose('To rotate: start a new rotation with the same input when someone can approve it:'),
          start,
        ]
      : [
          ...prose(`Kept on the NEW certificate (${kept.length}), each verified by its phase before this gate:`),
          ...listed(kept),
          ...(unconfirmed.length
            ? ['Recorded but not confirmed switched (check these by hand):', ...listed(unconfirmed.map((e) => targetLabel(e.target)))]
            : []),
          ...prose(`Every other target of the plan still serves the PREVIOUS certificate (expires ${p.previous?.notAfter ?? '?'}).`),
          '',
          ...prose(
            'Two certificates are in use now. A later rotation finds the certificate in use on the canary listener',
            canaryChanged ? '(now the new one), so it would not see the targets still on the previous one.' : '.',
            `Finish or undo before ${p.previous?.notAfter ?? 'the previous certificate expires'}:`,
          ),
          '',
          ...(canary
            ? [
                ...prose(
                  'To finish: switch the canary back to the previous certificate, then start a new rotation with the same input',
                  `(the input of ${p.executionName}); its plan finds every target still on the previous certificate, and the ones`,
                  'kept above (already done) are left alone:',
                ),
                `  aws elb set-load-balancer-listener-ssl-certificate \\\n    --load-balancer-name ${canary.loadBalancerName} --load-balancer-port ${canary.port} \\\n    --ssl-certificate-id ${p.previous?.arn ?? '<previous certificate ARN>'}`,
                start,
              ]
            : [...prose(`To finish: start a new rotation with the same input (the input of ${p.executionName}):`), start]),
          '',
          ...prose(
            'To undo: switch each target kept above back to the previous certificate',
            `(IAM ${p.previous?.name ?? '?'}: ${p.previous?.arn ?? '?'});`,
            `the change ledger executions/${p.executionName}/ledger/ in the artifacts bucket holds each one's configuration`,
            "before the change; for nodes, run the deploy document's rollback action on them.",
          ),
        ]),
    '',
    'New certificate:',
    `  serial:  ${p.next?.serial ?? '?'}`,
    `  SHA-256: ${p.next?.sha256 ?? '?'}`,
    `  expires: ${p.next?.notAfter ?? '?'}`,
    'Previous certificate:',
    `  serial:  ${p.previous?.serial ?? '?'}`,
    `  SHA-256: ${p.previous?.sha256 ?? '?'}`,
    `  expires: ${p.previous?.notAfter ?? '?'}`,
    ...prose('Old IAM certificates were not pruned (pruning runs only after a complete rotation).'),
  ];
  const subject = nothingChanged
    ? `[cert-rotation ${p.domain}] Rotation STOPPED at a gate (timeout): nothing changed`
    : `ACTION NEEDED: [cert-rotation ${p.domain}] STOPPED at a gate (timeout), ${applied.length} target(s) kept on new`;
  const named = kept.slice(0, 50).join(', ');
  const cause = [
    `Stopped at "${stateName}" after no answer for ${seconds} s (approvals.onTimeout: stop); nothing was rolled back.`,
    applied.length
      ? `Kept on the new certificate: ${named}${kept.length > 50 ? ` and ${kept.length - 50} more (see ${p.reportKey})` : ''}; every other target still serves the previous certificate.`
      : 'Nothing had changed.',
    `Report: ${p.reportKey}.`,
  ].join(' ');
  return { report, error, subject: subject.length <= 100 ? subject : `${subject.slice(0, 99)}…`, lines, cause };
}

/** A gate timed out and the config says stop: report and email what was kept where (./stopped.ts); nothing is rolled back. */
export async function finishStopped(params: FinishParams, ledger: LedgerEntry[]): Promise<FinishResult> {
  const { state } = params;
  const reportKey = `${ArtifactStore.executionPrefix(params.executionName)}report.json`;
  const stop = stopAccount({
    domain: params.domain,
    executionName: params.executionName,
    timeout: state.approvalTimeout ?? {},
    ledger,
    previous: state.current,
    next: state.validation?.summary,
    reportKey,
  });
  // The PagerDuty window closed before this report (after-rotation.ts): said here too, a failed close a warning.
  const maintenance = maintenanceAccount(state);
  await params.store.putJson(reportKey, {
    status: 'FAILED' satisfies Outcome,
    error: stop.error,
    ...reportCommon(params, state, ledger),
    stopped: stop.report,
    rollback: null,
    notBack: [],
    maintenanceWindow: maintenance.report,
  });
  await params.sns.send(
    new PublishCommand({
      TopicArn: params.topicArn,
      Subject: maintenance.warning ? withWarning(stop.subject, 'PagerDuty window not closed') : stop.subject,
      Message: [...stop.lines, ...maintenance.lines, '', `Report: ${reportKey}`].join('\n'),
    }),
  );
  params.logger.info('rotation stopped at a gate after a timeout; changes kept', {
    gate: stop.report.gate,
    kept: stop.report.keptOnNew.length,
  });
  return {
    status: 'FAILED',
    reportKey,
    error: stop.error,
    stopCause: stop.cause,
    ...(maintenance.warning ? { maintenanceWarning: maintenance.warning } : {}),
  };
}

/** The subject with a warning in brackets, at most 100 characters (SNS): the subject is cut, never the warning. */
function withWarning(subject: string, warning: string): string {
  const suffix = ` (${warning})`;
  return subject.length + suffix.length <= 100 ? `${subject}${suffix}` : `${subject.slice(0, 99 - suffix.length)}…${suffix}`;
}
