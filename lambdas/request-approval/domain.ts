import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import {
  hashApprovalId,
  MAX_NAMES,
  newApprovalId,
  type ApprovalStore,
  type ApprovalSummary,
  type CertificateLine,
} from '../approval-page/store';
import type { PlanDocument } from '../plan/domain';
import { ArtifactStore } from '../shared/artifacts';
import type { DomainLogger } from '../shared/logger';
import { targetLabel, type EdgeTarget, type NodeTarget } from '../shared/targets';
import { approvalEmail, describeDetails } from './email';

/** Which planned targets the next phase touches (read from the plan in S3). */
export interface GateTouches {
  /** The canary listener. */
  readonly canary?: boolean;
  /** Every other edge target (ELB, ELBv2, CloudFront). */
  readonly edge?: boolean;
  /** The nodes of these node phases. */
  readonly nodePhases?: readonly string[];
}

export interface GateNext {
  /** One line: what the next phase does. */
  readonly description: string;
  readonly touches?: GateTouches;
}

export interface ApprovalRequestParams {
  readonly sns: SNSClient;
  readonly approvals: ApprovalStore;
  readonly artifacts: ArtifactStore;
  readonly logger: DomainLogger;
  readonly topicArn: string;
  readonly domain: string;
  /** The approval page's base URL (the function URL), ending in `/`. */
  readonly pageUrl: string;
  /** This gate's timeout (its state's TimeoutSeconds): the link expires then. */
  readonly timeoutSeconds: number;
  readonly onTimeout: 'rollback' | 'stop';
  readonly gate: string;
  readonly title: string;
  readonly taskToken: string;
  readonly executionName: string;
  readonly executionArn: string;
  /** What was just done and verified: counts, names, fingerprints. Never key material. */
  readonly details: unknown;
  readonly certificates?: { readonly new?: Partial<CertificateLine>; readonly previous?: Partial<CertificateLine> };
  readonly next?: GateNext;
  readonly now: () => Date;
  /** @default 256 random bits */
  readonly mintId?: () => string;
}

export interface ApprovalRequestResult {
  readonly gate: string;
  readonly requestedAt: string;
  readonly expiresAt: string;
  /** First 12 hex digits of the id's SHA-256: enough to find the item, useless to decide. */
  readonly approvalRef: string;
}

function certificateLine(c: Partial<CertificateLine> | undefined): CertificateLine | undefined {
  if (!c?.sha256) return undefined;
  return { serial: c.serial ?? '?', sha256: c.sha256, notAfter: c.notAfter ?? '?' };
}

const KIND_LABEL: Record<EdgeTarget['kind'] | 'node', string> = {
  elb: 'classic ELB listeners',
  elbv2: 'ELBv2 listener certificates',
  cloudfront: 'CloudFront distributions',
  node: 'nodes',
};

/** Counts and names of what the next phase touches, from the execution's own plan. */
async function nextTargets(params: ApprovalRequestParams): Promise<ApprovalSummary['next']> {
  const touches = params.next?.touches ?? {};
  const description = params.next?.description ?? 'the next phase of the rotation';
  const wanted = touches.canary || touches.edge || (touches.nodePhases?.length ?? 0) > 0;
  if (!wanted) return { description, counts: {}, names: [], more: 0 };
  const plan = await params.artifacts.getJson<PlanDocument>(ArtifactStore.planKey(params.executionName));
  if (!plan) throw new Error(`the plan of ${params.executionName} is missing from the artifacts bucket`);
  const targets: Array<EdgeTarget | NodeTarget> = [
    ...(touches.canary ? [plan.canary] : []),
    ...(touches.edge ? plan.edge : []),
    ...(touches.nodePhases ?? []).flatMap((p) => plan.nodePhases.find((x) => x.name === p)?.nodes ?? []),
  ];
  const counts: Record<string, number> = {};
  for (const t of targets) counts[KIND_LABEL[t.kind]] = (counts[KIND_LABEL[t.kind]] ?? 0) + 1;
  const names = targets.slice(0, MAX_NAMES).map(targetLabel);
  return { description, counts, names, more: targets.length - names.length };
}

/**
 * A gate of the rotation: mints an approval id (256 random bits), stores its SHA-256 with the
 * task token, execution, gate and expiry in the approval store (the only place the token goes:
 * never a log, the email, S3 or the result), then emails the approvers the summary and a link
 * to the approval page that carries only the id.
 */
export async function requestApproval(params: ApprovalRequestParams): Promise<ApprovalRequestResult> {
  const now = params.now();
  const expires = new Date(now.getTime() + params.timeoutSeconds * 1000);
  const id = (params.mintId ?? newApprovalId)();
  const idHash = hashApprovalId(id);
  const summary: ApprovalSummary = {
    domain: params.domain,
    title: params.title,
    executionName: params.executionName,
    certificates: {
      ...(certificateLine(params.certificates?.new) ? { new: certificateLine(params.certificates?.new) } : {}),
      ...(certificateLine(params.certificates?.previous) ? { previous: certificateLine(params.certificates?.previous) } : {}),
    },
    done: describeDetails(params.details),
    next: await nextTargets(params),
    onTimeout: params.onTimeout,
  };
  await params.approvals.create({
    idHash,
    taskToken: params.taskToken,
    executionArn: params.executionArn,
    executionName: params.executionName,
    gate: params.gate,
    stateName: params.title,
    summary,
    requestedAt: now.toISOString(),
    expiresAt: Math.floor(expires.getTime() / 1000),
  });
  const link = `${params.pageUrl.replace(/\/?$/, '/')}a/${id}`;
  const { subject, message } = approvalEmail(summary, link, expires);
  await params.sns.send(new PublishCommand({ TopicArn: params.topicArn, Subject: subject, Message: message }));
  const approvalRef = idHash.slice(0, 12);
  params.logger.info('approval requested', { gate: params.gate, approvalRef, expiresAt: expires.toISOString() });
  return { gate: params.gate, requestedAt: now.toISOString(), expiresAt: expires.toISOString(), approvalRef };
}
