import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { MAX_NAMES } from '../approval-page/store';
import type { PlanDocument } from '../plan/domain';
import { ArtifactStore } from '../shared/artifacts';
import type { DomainLogger } from '../shared/logger';
import { targetLabel, type EdgeTarget, type NodeTarget } from '../shared/targets';
import { countsLine, nameLines, wrap } from '../request-approval/email';

/** A certificate as the state holds it (validation's summary, the current one): public facts only. */
export interface NoticeCertificate {
  readonly serial?: string;
  readonly sha256?: string;
  readonly notAfter?: string;
}

export interface StartNoticeParams {
  readonly sns: SNSClient;
  readonly artifacts: ArtifactStore;
  readonly logger: DomainLogger;
  readonly topicArn: string;
  readonly domain: string;
  readonly executionName: string;
  readonly certificates: { readonly new?: NoticeCertificate; readonly previous?: NoticeCertificate };
  /** The approval gate that follows (its state name). @default none: the rotation goes on without one */
  readonly approvalFollows?: string;
  /** The validation's warnings (shown as they are). */
  readonly warnings?: readonly string[];
  readonly now: () => Date;
}

export interface StartNoticeResult {
  readonly notifiedAt: string;
  /** Targets in the plan, counted per phase (canary, edge, each node phase). */
  readonly counts: Record<string, number>;
}

const KIND_LABEL: Record<EdgeTarget['kind'] | 'node', string> = {
  elb: 'classic ELB listeners',
  elbv2: 'ELBv2 listener certificates',
  cloudfront: 'CloudFront distributions',
  node: 'nodes',
};

function certificateLines(label: string, c: NoticeCertificate | undefined): string[] {
  return [label, `  serial:  ${c?.serial ?? '?'}`, `  SHA-256: ${c?.sha256 ?? '?'}`, `  expires: ${c?.notAfter ?? '?'}`];
}

/** One phase of the plan: its counts by kind, then the first names and "and N more". */
function phaseLines(title: string, targets: ReadonlyArray<EdgeTarget | NodeTarget>): string[] {
  const counts: Record<string, number> = {};
  for (const t of targets) counts[KIND_LABEL[t.kind]] = (counts[KIND_LABEL[t.kind]] ?? 0) + 1;
  const names = targets.slice(0, MAX_NAMES).map(targetLabel);
  return [`${title}: ${countsLine(counts)}`, ...nameLines(names, targets.length - names.length)];
}

/**
 * The start email (SNS, read on a phone): a rotation started and made its plan. It names the
 * domain and both certificates (serial, SHA-256, expiry), what each phase will touch (counts, the
 * first 20 names, "and N more", from the execution's own plan in S3), the nodes the plan skips,
 * and whether an approval follows. Public facts only: never key material, never a link that
 * decides anything.
 */
export async function notifyStart(params: StartNoticeParams): Promise<StartNoticeResult> {
  const plan = await params.artifacts.getJson<PlanDocument>(ArtifactStore.planKey(params.executionName));
  if (!plan) throw new Error(`the plan of ${params.executionName} is missing from the artifacts bucket`);
  const phases: Array<[string, ReadonlyArray<EdgeTarget | NodeTarget>]> = [
    ['Canary', [plan.canary]],
    ['Edge', plan.edge],
    ...plan.nodePhases.map((p): [string, NodeTarget[]] => [`Nodes ${p.name}`, p.nodes]),
  ];
  const skipped = plan.nodePhases.flatMap((p) => p.skipped);
  const total = phases.reduce((n, [, t]) => n + t.length, 0);
  const lines = [
    `A rotation of ${params.domain} started and made its plan.`,
    ...(params.approvalFollows
      ? wrap(`Next: "${params.approvalFollows}" (a separate email with the link). Nothing changes until someone approves it.`)
      : wrap('There is no approval gate before the first change: the rotation goes on now.')),
    '',
    ...certificateLines('New certificate', params.certificates.new),
    ...certificateLines('Previous certificate (in use now)', params.certificates.previous),
    '',
    `The plan: ${total} target(s)`,
    ...phases.flatMap(([title, targets]) => phaseLines(title, targets)),
    ...(skipped.length > 0
      ? [
          `Skipped nodes (SSM cannot run the command there): ${skipped.length}`,
          ...nameLines(
            skipped.slice(0, MAX_NAMES).map((n) => `${n.name} (${n.instanceId}, ${n.phase}): ${n.reason}`),
            Math.max(0, skipped.length - MAX_NAMES),
          ),
        ]
      : []),
    ...((params.warnings ?? []).length > 0
      ? ['', 'Validation warnings:', ...(params.warnings ?? []).flatMap((w) => wrap(w, 72, '  '))]
      : []),
    '',
    `Execution: ${params.executionName}`,
  ];
  const subject = `[cert-rotation ${params.domain}] Rotation started: the plan`.slice(0, 99);
  await params.sns.send(new PublishCommand({ TopicArn: params.topicArn, Subject: subject, Message: lines.join('\n') }));
  const counts = Object.fromEntries(phases.map(([title, targets]) => [title, targets.length]));
  params.logger.info('start notice sent', { counts });
  return { notifiedAt: params.now().toISOString(), counts };
}
