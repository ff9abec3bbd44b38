import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { APPROVAL_REJECTED } from '../shared/errors';
import { ArtifactStore } from '../shared/artifacts';
import type { ChangeLedger } from '../shared/ledger';
import type { DomainLogger } from '../shared/logger';
import { targetLabel } from '../shared/targets';

export type Outcome = 'SUCCEEDED' | 'FAILED' | 'REJECTED';

/** The parts of the execution state the report reads (all optional: a run can stop anywhere). */
export interface FinishState {
  readonly certificate?: { readonly secretArn?: string };
  readonly current?: {
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
  readonly rollback?: unknown;
  readonly rollbackVerification?: unknown;
  readonly error?: { readonly Error?: string; readonly Cause?: string };
  /** Set when the rollback itself or its verification failed. */
  readonly rollbackError?: { readonly Error?: string; readonly Cause?: string };
  /** Set when an approval gate got no answer before its timeout. */
  readonly approvalTimeout?: { readonly gateTimedOut?: boolean };
}

export interface FinishParams {
  readonly sns: SNSClient;
  readonly store: ArtifactStore;
  readonly ledger: ChangeLedger;
  readonly logger: DomainLogger;
  readonly topicArn: string;
  readonly domain: string;
  readonly executionName: string;
  readonly succeeded: boolean;
  readonly state: FinishState;
  readonly now: Date;
}

export interface FinishResult {
  readonly status: Outcome;
  readonly reportKey: string;
  readonly error?: string;
}

/** Lambda errors reach Catch as `{"errorType","errorMessage","trace"}` JSON; other errors as text. */
export function describeError(error: FinishState['error']): string | undefined {
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

/** Rejected = an approver said no, or nobody answered a gate in time; any other stop is a failure. */
export function outcomeOf(succeeded: boolean, error: FinishState['error'], gateTimedOut = false): Outcome {
  if (succeeded) return 'SUCCEEDED';
  if (error?.Error === APPROVAL_REJECTED || (gateTimedOut && error?.Error === 'States.Timeout')) return 'REJECTED';
  return 'FAILED';
}

/** Writes the execution report to S3 and tells the approvers how it ended. */
export async function finishRotation(params: FinishParams): Promise<FinishResult> {
  const { state } = params;
  const status = outcomeOf(params.succeeded, state.error, state.approvalTimeout?.gateTimedOut === true);
  const error = params.succeeded ? undefined : describeError(state.error);
  const ledger = await params.ledger.entries();
  const reportKey = `${ArtifactStore.executionPrefix(params.executionName)}report.json`;
  const report = {
    status,
    ...(error ? { error } : {}),
    domain: params.domain,
    execution: params.executionName,
    finishedAt: params.now.toISOString(),
    certificate: { new: state.validation?.summary ?? null, previous: state.current ?? null },
    uploaded: state.uploaded ?? null,
    plan: state.plan ?? null,
    canaryCheck: state.canaryCheck ?? null,
    changes: ledger.map((e) => ({ target: targetLabel(e.target), phase: e.phase, status: e.status, note: e.note ?? null })),
    rollback: state.rollback ?? null,
    rollbackVerification: state.rollbackVerification ?? null,
    rollbackError: describeError(state.rollbackError) ?? null,
  };
  await params.store.putJson(reportKey, report);

  const changed = ledger.filter((e) => e.status === 'applied').map((e) => targetLabel(e.target));
  const restored = ledger.filter((e) => e.status === 'rolled-back').map((e) => targetLabel(e.target));
  const leftAlone = ledger.filter((e) => e.status === 'left-alone').map((e) => `${targetLabel(e.target)}: ${e.note ?? ''}`);
  const lines = [
    `Certificate rotation for ${params.domain}: ${status}`,
    `Execution: ${params.executionName}`,
    ...(error ? [`Reason: ${error}`] : []),
    ...(state.rollbackError ? [`ROLLBACK DID NOT COMPLETE: ${describeError(state.rollbackError) ?? ''}`] : []),
    '',
    `New certificate: ${state.validation?.summary?.sha256 ?? '(not validated)'} (expires ${state.validation?.summary?.notAfter ?? '?'})`,
    `Previous certificate: ${state.current?.sha256 ?? '?'} (expires ${state.current?.notAfter ?? '?'})`,
    ...(changed.length ? ['', 'Now serving the new certificate:', ...changed.map((t) => `  ${t}`)] : []),
    ...(restored.length ? ['', 'Rolled back to the previous certificate:', ...restored.map((t) => `  ${t}`)] : []),
    ...(leftAlone.length ? ['', 'LEFT ALONE (check by hand):', ...leftAlone.map((t) => `  ${t}`)] : []),
    '',
    `Report: ${reportKey}`,
  ];
  await params.sns.send(
    new PublishCommand({
      TopicArn: params.topicArn,
      Subject: `[cert-rotation ${params.domain}] Rotation ${status}`,
      Message: lines.join('\n'),
    }),
  );
  params.logger.info('rotation finished', { status });
  return { status, reportKey, ...(error ? { error } : {}) };
}
