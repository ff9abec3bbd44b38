import type { IAMClient } from '@aws-sdk/client-iam';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { APPROVAL_REJECTED } from '../shared/errors';
import { ArtifactStore } from '../shared/artifacts';
import type { ChangeLedger, LedgerEntry } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { notBackOf, withoutNotBack } from '../shared/not-back';
import { getCertificateBody } from '../shared/iam-certs';
import { targetLabel } from '../shared/targets';
import { maintenanceAccount, monitLines, writeMonitFingerprint, type MaintenanceState } from './after-rotation';
import { describeError, fitForSns, listed, LISTED, rollbackAccount, successFollowUp, type ConfigurationManagement } from './message';
import { reportCommon } from './report';
import { finishStopped, timeoutHeadline, timeoutReason, type GateTimeoutState } from './stopped';

/** ROLLBACK_INCOMPLETE: a rollback ran and some target is not proven back on its previous certificate. */
export type Outcome = 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'ROLLBACK_INCOMPLETE';

/** The parts of the execution state the report reads (all optional: a run can stop anywhere). */
export interface FinishState extends MaintenanceState {
  readonly certificate?: { readonly secretArn?: string };
  readonly current?: {
    readonly arn?: string;
    readonly name?: string;
    readonly sha256?: string;
    readonly md5?: string;
    readonly serial?: string;
    readonly notAfter?: string;
  };
  readonly validation?: {
    readonly summary?: {
      readonly sha256?: string;
      readonly md5?: string;
      readonly serial?: string;
      readonly notAfter?: string;
      readonly names?: string[];
    };
    readonly warnings?: string[];
  };
  readonly plan?: { readonly planKey?: string; readonly counts?: unknown };
  readonly uploaded?: { readonly arn?: string; readonly name?: string; readonly reused?: boolean };
  readonly canaryCheck?: { readonly matches?: boolean; readonly attempts?: number; readonly servedSha256?: string | null };
  /** The prune phase's result (after a successful rotation), or the error it failed with. */
  readonly prune?: {
    readonly pruned?: ReadonlyArray<{ readonly name?: string }>;
    readonly kept?: ReadonlyArray<{ readonly name?: string; readonly reason?: string }>;
    readonly recordKey?: string;
  };
  readonly pruneError?: { readonly Error?: string; readonly Cause?: string };
  readonly rollback?: unknown;
  readonly rollbackVerification?: unknown;
  readonly error?: { readonly Error?: string; readonly Cause?: string };
  /** Set when the rollback itself or its verification failed. */
  readonly rollbackError?: { readonly Error?: string; readonly Cause?: string };
  /** Set when an approval gate got no answer before its timeout: which gate, how long, and what the config says to do. */
  readonly approvalTimeout?: GateTimeoutState;
}

export interface FinishParams {
  readonly sns: SNSClient;
  /** Reads the uploaded certificate's public body back (the success email's PEM). */
  readonly iam: IAMClient;
  /** The SSM parameter monit's fingerprint lives in (config `monit`), named in the success email. */
  readonly monitParameter?: string;
  /** Writes monitParameter after a success. */
  readonly ssm: SSMClient;
  /** The Ansible role and vault the success email lists as the follow-up (config `configurationManagement`). */
  readonly configurationManagement?: ConfigurationManagement;
  readonly store: ArtifactStore;
  readonly ledger: ChangeLedger;
  readonly logger: DomainLogger;
  readonly topicArn: string;
  readonly domain: string;
  readonly executionName: string;
  readonly succeeded: boolean;
  readonly state: FinishState;
  readonly now: () => Date;
}

export interface FinishResult {
  readonly status: Outcome;
  readonly reportKey: string;
  /** The error that stopped the rotation (the one that started the rollback). */
  readonly error?: string;
  /** ROLLBACK_INCOMPLETE: the Cause of the execution's RollbackIncomplete error, naming every target not back. */
  readonly rollbackCause?: string;
  /** Set when pruning old IAM certificates failed after a successful rotation (the status stays SUCCEEDED). */
  readonly pruneWarning?: string;
  /** A gate timed out with `approvals.onTimeout: stop`: the Cause of the execution's GateTimedOut (what was kept, where the report is). */
  readonly stopCause?: string;
  /** Set when the PagerDuty maintenance window could not be closed (the status does not change). */
  readonly maintenanceWarning?: string;
  /** Set when monit's fingerprint parameter could not be written after a success (the status stays SUCCEEDED). */
  readonly monitWarning?: string;
}

/** Subjects longer than this are refused by SNS. */
const SUBJECT_MAX = 100;
/** At most this many targets are named in the execution's Cause (the report names all). */
const CAUSE_TARGETS = 50;

export { describeError } from './message';

/**
 * Rejected = an approver said no, or nobody answered a gate in time; any other stop is a failure.
 * Either way, a rollback that could not be verified makes it ROLLBACK_INCOMPLETE.
 */
export function outcomeOf(succeeded: boolean, error: FinishState['error'], gateTimedOut = false, rollbackIncomplete = false): Outcome {
  if (succeeded) return 'SUCCEEDED';
  if (rollbackIncomplete) return 'ROLLBACK_INCOMPLETE';
  if (error?.Error === APPROVAL_REJECTED || (gateTimedOut && error?.Error === 'States.Timeout')) return 'REJECTED';
  return 'FAILED';
}

/**
 * The ledger entries that a failed rotation's rollback did not prove back on their previous
 * certificate: the ones verify-rollback names, the ones rollback left alone, and (when the
 * rollback itself failed, so nothing was verified) every entry that may have been switched:
 * all but those rollback found never switched.
 */
export function entriesNotBack(ledger: readonly LedgerEntry[], state: FinishState): LedgerEntry[] {
  const named = new Set(notBackOf(describeError(state.rollbackError)) ?? []);
  const unverified = state.rollbackError !== undefined && named.size === 0;
  const neverSwitched = (e: LedgerEntry) => e.status === 'rolled-back' && e.note === 'was not switched';
  return ledger.filter((e) => named.has(e.key) || e.status === 'left-alone' || (unverified && !neverSwitched(e)));
}

/** Writes the execution report to S3 and tells the approvers how it ended. */
export async function finishRotation(params: FinishParams): Promise<FinishResult> {
  const { state } = params;
  const ledger = await params.ledger.entries();
  if (!params.succeeded && state.approvalTimeout?.onTimeout === 'stop') return finishStopped(params, ledger);
  const notBack = params.succeeded ? [] : entriesNotBack(ledger, state);
  // A failed rollback (or its verification) is incomplete even when no ledger entry can be named.
  const incomplete = !params.succeeded && (notBack.length > 0 || state.rollbackError !== undefined);
  const status = outcomeOf(params.succeeded, state.error, state.approvalTimeout?.gateTimedOut === true, incomplete);
  const timedOut = state.approvalTimeout?.gateTimedOut === true && state.error?.Error === 'States.Timeout';
  const error = params.succeeded ? undefined : timedOut ? timeoutReason(state.approvalTimeout ?? {}) : describeError(state.error);
  // A rollback-mode timeout that rolled back cleanly says so first (an incomplete one keeps ACTION NEEDED).
  const headline = timedOut && status === 'REJECTED' ? timeoutHeadline(params.domain, state.approvalTimeout ?? {}) : undefined;
  const timeoutLine = headline?.firstLine;
  const rollbackError = withoutNotBack(describeError(state.rollbackError));
  const notBackLabels = notBack.map((e) => `${targetLabel(e.target)} [${e.key}]`);
  // A pruning failure comes after the rotation completed: a warning, never a change of outcome.
  const pruneWarning = params.succeeded ? describeError(state.pruneError) : undefined;
  const pruned = (state.prune?.pruned ?? []).map((c) => c.name ?? '?');
  const pruneKept = (state.prune?.kept ?? []).map((k) => `${k.name ?? '?'}: ${k.reason ?? ''}`);
  const reportKey = `${ArtifactStore.executionPrefix(params.executionName)}report.json`;
  // Monit's parameter first (after a success only), then the window's account: the close state ran before finish.
  const monit =
    params.succeeded && params.monitParameter
      ? await writeMonitFingerprint({
          ssm: params.ssm,
          parameter: params.monitParameter,
          md5: state.validation?.summary?.md5,
          logger: params.logger,
        })
      : undefined;
  const maintenance = maintenanceAccount(state);
  const report = {
    status,
    ...(error ? { error } : {}),
    ...reportCommon(params, state, ledger),
    rollback: state.rollback ?? null,
    rollbackVerification: state.rollbackVerification ?? null,
    rollbackError: rollbackError ?? null,
    notBack: notBack.map((e) => e.key),
    prune: state.prune || pruneWarning ? { ...(state.prune ?? {}), pruned, ...(pruneWarning ? { error: pruneWarning } : {}) } : null,
    maintenanceWindow: maintenance.report,
    monit: monit ?? null,
  };
  await params.store.putJson(reportKey, report);

  // Public only: IAM returns the body and chain, never a key.
  const publicPem =
    params.succeeded && state.uploaded?.name ? await readPublicPem(params.iam, state.uploaded.name, params.logger) : undefined;
  const changed = ledger.filter((e) => e.status === 'applied').map((e) => targetLabel(e.target));
  const restored = ledger.filter((e) => e.status === 'rolled-back').map((e) => targetLabel(e.target));
  const leftAlone = ledger.filter((e) => e.status === 'left-alone').map((e) => `${targetLabel(e.target)}: ${e.note ?? ''}`);
  const lines = [
    ...(incomplete
      ? [
          'ACTION NEEDED: the rollback could not be verified. Not proven back on the previous certificate:',
          ...(notBackLabels.length
            ? listed(notBackLabels, 4 * LISTED)
            : ['  (unknown: the rollback failed before it could say; check every target of the plan)']),
          '',
        ]
      : []),
    timeoutLine ?? `Certificate rotation for ${params.domain}: ${status}`,
    `Execution: ${params.executionName}`,
    ...(error ? [`Reason: ${error}`] : []),
    ...(rollbackError ? [`ROLLBACK DID NOT COMPLETE: ${rollbackError}`] : []),
    '',
    `New certificate: ${state.validation?.summary?.sha256 ?? '(not validated)'} (expires ${state.validation?.summary?.notAfter ?? '?'})`,
    `Previous certificate: ${state.current?.sha256 ?? '?'} (expires ${state.current?.notAfter ?? '?'})`,
    ...(changed.length ? ['', 'Now serving the new certificate:', ...listed(changed)] : []),
    ...(restored.length && params.succeeded ? ['', 'Rolled back to the previous certificate:', ...listed(restored)] : []),
    ...(params.succeeded
      ? []
      : rollbackAccount({ ledger, verified: (state.rollbackVerification as { verified?: [] } | undefined)?.verified, notBack })),
    ...(leftAlone.length ? ['', 'LEFT ALONE (check by hand):', ...listed(leftAlone, 4 * LISTED)] : []),
    ...(pruneWarning
      ? ['', `WARNING: pruning old IAM certificates failed (the rotation itself succeeded; nothing was rolled back): ${pruneWarning}`]
      : []),
    // Before the follow-up and its PEM: a long email is cut at its end, never this.
    ...maintenance.lines,
    ...(state.prune ? ['', `Old IAM certificates pruned: ${pruned.length ? pruned.join(', ') : 'none'}`] : []),
    ...(pruneKept.length ? ['Kept in IAM:', ...listed(pruneKept)] : []),
    ...(params.succeeded
      ? successFollowUp({
          certificate: state.validation?.summary ?? {},
          ...(publicPem ? { publicPem } : {}),
          ...(state.uploaded?.name ? { iamName: state.uploaded.name } : {}),
          ...(state.certificate?.secretArn ? { secretArn: state.certificate.secretArn } : {}),
          ...(params.monitParameter ? { monitParameter: params.monitParameter } : {}),
          ...(monit ? { monitWrite: monitLines(monit) } : {}),
          ...(params.configurationManagement ? { configurationManagement: params.configurationManagement } : {}),
        })
      : []),
    '',
    `Report: ${reportKey}`,
  ];
  const warnings = [
    ...(maintenance.warning ? ['PagerDuty window not closed'] : []),
    ...(monit?.error ? ['monit parameter not written'] : []),
  ];
  await params.sns.send(
    new PublishCommand({
      TopicArn: params.topicArn,
      Subject: headline?.subject ?? subjectOf(params.domain, status, notBack.length, pruneWarning !== undefined, warnings),
      Message: fitForSns(lines, reportKey),
    }),
  );
  params.logger.info('rotation finished', { status });
  const rollbackCause = incomplete ? causeOf(notBackLabels, notBack.length, rollbackError, error, reportKey) : undefined;
  return {
    status,
    reportKey,
    ...(error ? { error } : {}),
    ...(rollbackCause ? { rollbackCause } : {}),
    ...(pruneWarning ? { pruneWarning } : {}),
    ...(maintenance.warning ? { maintenanceWarning: maintenance.warning } : {}),
    ...(monit?.error ? { monitWarning: monit.error } : {}),
  };
}

/** The email subject: "ACTION NEEDED ..." first when targets are not back; at most 100 characters (SNS). */
export function subjectOf(domain: string, status: Outcome, notBack: number, pruneFailed = false, warnings: readonly string[] = []): string {
  const base =
    status === 'ROLLBACK_INCOMPLETE'
      ? `ACTION NEEDED: [cert-rotation ${domain}] rollback incomplete, ${notBack || 'unknown'} target(s) not back`
      : `[cert-rotation ${domain}] Rotation ${status}${pruneFailed ? ' (pruning old IAM certificates failed)' : ''}`;
  const subject = warnings.length ? `${base} (${warnings.join(', ')})` : base;
  return subject.length <= SUBJECT_MAX ? subject : `${subject.slice(0, SUBJECT_MAX - 1)}…`;
}

/** The Cause of the execution's RollbackIncomplete: the targets not back, the rollback problem, the original error. */
function causeOf(labels: string[], count: number, rollbackError: string | undefined, error: string | undefined, reportKey: string): string {
  const sentence = (text: string) => `${text.trim().replace(/\.+$/, '')}.`;
  const named = labels.slice(0, CAUSE_TARGETS).join(', ');
  const more = count > CAUSE_TARGETS ? ` and ${count - CAUSE_TARGETS} more (see ${reportKey})` : '';
  return [
    count > 0
      ? `${count} target(s) not proven back on the previous certificate: ${named}${more}.`
      : 'the rollback failed before it could say which targets are back.',
    ...(rollbackError ? [sentence(`Rollback problem: ${rollbackError}`)] : []),
    sentence(`The rollback started because of: ${error ?? 'unknown'}`),
  ].join(' ');
}

/** The uploaded certificate and chain as IAM holds them (public), or undefined (logged) when it cannot be read. */
async function readPublicPem(iam: IAMClient, name: string, logger: DomainLogger): Promise<string | undefined> {
  try {
    const cert = await getCertificateBody(iam, name);
    return cert ? [cert.body.trim(), ...(cert.chain ? [cert.chain.trim()] : [])].join('\n') : undefined;
  } catch (error) {
    logger.warn('could not read the uploaded certificate back from IAM for the email', { name, error: String(error) });
    return undefined;
  }
}
