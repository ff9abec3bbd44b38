import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { ArtifactStore } from '../shared/artifacts';
import type { DomainLogger } from '../shared/logger';

export interface ApprovalRequestParams {
  readonly sns: SNSClient;
  readonly store: ArtifactStore;
  readonly logger: DomainLogger;
  readonly topicArn: string;
  readonly bucket: string;
  readonly domain: string;
  readonly gate: string;
  readonly title: string;
  readonly taskToken: string;
  readonly executionName: string;
  readonly executionArn: string;
  /** What the approver decides on: counts, names, fingerprints. Never key material. */
  readonly details: unknown;
  readonly now: () => Date;
}

export interface ApprovalRequest {
  readonly gate: string;
  readonly title: string;
  readonly executionArn: string;
  readonly requestedAt: string;
  readonly taskToken: string;
}

export interface ApprovalRequestResult {
  readonly gate: string;
  readonly requestKey: string;
  readonly requestedAt: string;
}

export function approvalKey(executionName: string, gate: string): string {
  return `${ArtifactStore.executionPrefix(executionName)}approvals/${gate}.json`;
}

/** Renders the gate's details as the indented text of the approval email. */
export function describeDetails(details: unknown, indent = ''): string {
  if (details === null || details === undefined) return '';
  if (typeof details !== 'object') return typeof details === 'string' ? details : JSON.stringify(details);
  return Object.entries(details as Record<string, unknown>)
    .map(([k, v]) =>
      Array.isArray(v)
        ? `${indent}${k}: ${v.length === 0 ? '(none)' : v.join(', ')}`
        : typeof v === 'object' && v !== null
          ? `${indent}${k}:\n${describeDetails(v, `${indent}  `)}`
          : `${indent}${k}: ${String(v)}`,
    )
    .join('\n');
}

/**
 * A gate of the rotation: stores the callback token where only approvers can read it (the
 * encrypted artifacts bucket; the token never goes to logs or the email), and emails the
 * approvers what they are deciding on and how to answer.
 */
export async function requestApproval(params: ApprovalRequestParams): Promise<ApprovalRequestResult> {
  const key = approvalKey(params.executionName, params.gate);
  const request: ApprovalRequest = {
    gate: params.gate,
    title: params.title,
    executionArn: params.executionArn,
    requestedAt: params.now().toISOString(),
    taskToken: params.taskToken,
  };
  await params.store.putJson(key, request);

  const tokenCmd = `"$(aws s3 cp s3://${params.bucket}/${key} - | jq -r .taskToken)"`;
  const message = [
    `Certificate rotation for ${params.domain} is waiting for your decision.`,
    '',
    `Gate: ${params.title}`,
    `Execution: ${params.executionArn}`,
    '',
    describeDetails(params.details),
    '',
    'To approve:',
    `  aws stepfunctions send-task-success --task-token ${tokenCmd} --task-output '{"approvedBy":"'"$USER"'"}'`,
    'To reject (everything changed so far is rolled back):',
    `  aws stepfunctions send-task-failure --task-token ${tokenCmd} --error ApprovalRejected --cause "rejected by $USER"`,
    '',
    'No answer before the gate times out counts as a rejection.',
  ].join('\n');
  await params.sns.send(
    new PublishCommand({
      TopicArn: params.topicArn,
      Subject: `[cert-rotation ${params.domain}] Approval needed: ${params.title}`.slice(0, 99),
      Message: message,
    }),
  );
  params.logger.info('approval requested', { gate: params.gate });
  return { gate: params.gate, requestKey: key, requestedAt: request.requestedAt };
}
