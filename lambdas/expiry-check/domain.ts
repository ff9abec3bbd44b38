import { PutMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { IAMClient } from '@aws-sdk/client-iam';
import { paginateListExecutions, StartExecutionCommand, ListExecutionsCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { MAX_PAGE_SIZE, pages } from '../shared/aws-clients';
import { awsErrorName } from '../shared/aws-errors';
import type { DomainLogger } from '../shared/logger';
import type { TlsProbe } from '../shared/tls-probe';
import { renewalDueMessage, scheduleProblemMessage, type StagingHelp } from './messages';
import { readCertificateInUse, type CertificateInUse } from './read-certificate';

/** The CloudWatch namespace and metric the check publishes (one data point per domain and run). */
export const DAYS_TO_EXPIRY = { namespace: 'CertRotation', metricName: 'DaysToExpiry', dimension: 'Domain' } as const;

/**
 * A source the workflow obtains a certificate from with no operator (ACME, ACM): the schedule
 * starts rotations with it. `input` is the execution input's `source` field, as the workflow's
 * input check accepts it.
 */
export interface AutomaticSource {
  readonly kind: string;
  readonly input: Readonly<Record<string, unknown>>;
}

/** What the check decided, in its log, its result and the rehearsal's report (`trigger`). */
export type ExpiryDecision =
  /** Days left at or over the threshold: nothing to do. */
  | 'not-due'
  /** Due, and a rotation is running already: nothing started. */
  | 'already-running'
  /** Due, and today's scheduled execution exists already (it ran and ended): nothing started again. */
  | 'already-started'
  /** Due, and the last rotation failed: not retried unattended; the operator is told. */
  | 'last-rotation-failed'
  /** Due, automatic source: a rotation was started. */
  | 'started'
  /** Due, no automatic source: the operator was emailed the steps. */
  | 'renewal-due-email';

export interface ExpiryCheckResult {
  readonly domain: string;
  readonly daysLeft: number;
  readonly daysBeforeExpiry: number;
  readonly due: boolean;
  readonly started: boolean;
  readonly decision: ExpiryDecision;
  /** The scheduled execution's name (`scheduled-<date>`), or the running / failed one the decision is about. */
  readonly execution?: string;
  readonly certificate: CertificateInUse;
}

export interface ExpiryCheckParams {
  readonly elb: ElasticLoadBalancingClient;
  readonly iam: IAMClient;
  readonly sfn: SFNClient;
  readonly sns: SNSClient;
  readonly cloudwatch: CloudWatchClient;
  readonly probe: TlsProbe;
  readonly logger: DomainLogger;
  readonly now: () => Date;
  readonly domain: string;
  readonly canary: { readonly loadBalancerName: string; readonly port: number };
  readonly endpoint: { readonly host: string; readonly port: number };
  readonly stateMachineArn: string;
  readonly topicArn: string;
  /** Start a rotation when fewer days than this are left. */
  readonly daysBeforeExpiry: number;
  /** @default none: the operator is emailed the steps instead */
  readonly automaticSource?: AutomaticSource;
  /** For the email's steps. */
  readonly staging: StagingHelp;
  /** When the schedule fired (the EventBridge event's `time`); names the execution. @default now() */
  readonly scheduledAt?: string;
}

const FAILED_STATUSES = new Set(['FAILED', 'TIMED_OUT', 'ABORTED']);
const DAY_MS = 86_400_000;

/** `scheduled-<yyyy-mm-dd>`: one scheduled rotation per day, whatever retries or duplicate events do. */
export function scheduledExecutionName(at: Date): string {
  return `scheduled-${at.toISOString().slice(0, 10)}`;
}

/**
 * The daily expiry check. It reads the certificate in use (IAM and TLS), publishes `DaysToExpiry`,
 * and, when fewer than `daysBeforeExpiry` days are left:
 *  - a rotation is running: does nothing, and says so in its log;
 *  - an automatic source is configured: starts a rotation named `scheduled-<date>` (a second start
 *    the same day is refused by Step Functions as `ExecutionAlreadyExists`, or is the same running
 *    execution), unless the last rotation failed: that is not retried unattended, the operator is
 *    told instead;
 *  - no automatic source: emails "renewal due in N days" with the exact steps.
 * A start that fails is emailed (never silent) and rethrown.
 */
export async function checkExpiry(params: ExpiryCheckParams): Promise<ExpiryCheckResult> {
  const { logger, domain, daysBeforeExpiry } = params;
  const now = params.now();
  const certificate = await readCertificateInUse(params);
  // Whole days, rounded up: "expires in 60 days" while 59.9 are left; 0 or less once expired.
  const daysLeft = Math.ceil((Date.parse(certificate.notAfter) - now.getTime()) / DAY_MS);
  await params.cloudwatch.send(
    new PutMetricDataCommand({
      Namespace: DAYS_TO_EXPIRY.namespace,
      MetricData: [
        {
          MetricName: DAYS_TO_EXPIRY.metricName,
          Dimensions: [{ Name: DAYS_TO_EXPIRY.dimension, Value: domain }],
          Value: daysLeft,
          Unit: 'None',
          Timestamp: now,
        },
      ],
    }),
  );
  const due = daysLeft < daysBeforeExpiry;
  const base = { domain, daysLeft, daysBeforeExpiry, due, certificate };
  logger.info('certificate in use read', { daysLeft, daysBeforeExpiry, due, notAfter: certificate.notAfter });
  if (!due) {
    logger.info(`not due: ${daysLeft} days left, the threshold is ${daysBeforeExpiry}; nothing to do`);
    return { ...base, started: false, decision: 'not-due' };
  }

  const running = await runningExecutions(params);
  if (running.length > 0) {
    logger.info(`a rotation is already running (${running.join(', ')}); the expiry check does nothing`, { running });
    return { ...base, started: false, decision: 'already-running', execution: running[0] };
  }

  if (!params.automaticSource) {
    const { subject, message } = renewalDueMessage({ domain, daysLeft, certificate, staging: params.staging, now });
    await params.sns.send(new PublishCommand({ TopicArn: params.topicArn, Subject: subject, Message: message }));
    logger.info(`renewal due in ${daysLeft} days and no automatic source is configured: emailed the operator the steps`);
    return { ...base, started: false, decision: 'renewal-due-email' };
  }

  const last = await lastExecution(params);
  if (last && FAILED_STATUSES.has(last.status)) {
    const { subject, message } = scheduleProblemMessage({
      domain,
      daysLeft,
      what: `the last rotation, ${last.name}, ended ${last.status}`,
      why: 'A failed rotation is not retried unattended: read its report and email, fix the cause, then start the rotation from the console (or wait for the next check once a rotation has succeeded).',
      stateMachineArn: params.stateMachineArn,
    });
    await params.sns.send(new PublishCommand({ TopicArn: params.topicArn, Subject: subject, Message: message }));
    logger.warn(`renewal due in ${daysLeft} days but the last rotation (${last.name}) ended ${last.status}: not starting another`);
    return { ...base, started: false, decision: 'last-rotation-failed', execution: last.name };
  }

  const name = scheduledExecutionName(new Date(params.scheduledAt ?? now.toISOString()));
  try {
    const out = await params.sfn.send(
      new StartExecutionCommand({
        stateMachineArn: params.stateMachineArn,
        name,
        input: JSON.stringify({ source: params.automaticSource.input }),
      }),
    );
    logger.info(`renewal due in ${daysLeft} days: started rotation ${name} with the ${params.automaticSource.kind} source`, {
      executionArn: out.executionArn,
    });
    return { ...base, started: true, decision: 'started', execution: name };
  } catch (error) {
    if (awsErrorName(error) === 'ExecutionAlreadyExists') {
      logger.info(`rotation ${name} exists already (today's scheduled rotation ran); not starting it again`);
      return { ...base, started: false, decision: 'already-started', execution: name };
    }
    const input = JSON.stringify({ source: params.automaticSource.input });
    const { subject, message } = scheduleProblemMessage({
      domain,
      daysLeft,
      what: `the scheduled rotation ${name} did not start: ${awsErrorName(error) || 'Error'}: ${error instanceof Error ? error.message : String(error)}`,
      why: [
        'Nothing was started and nothing changed. The check fails (its errors alarm fires); the next daily check tries again.',
        '',
        'Steps:',
        "1. Fix the cause named above (for example: the check's role may not start the state machine, the state machine",
        '   was deleted or is being updated, Step Functions throttled the call).',
        '2. Start the rotation yourself (the same name: a second start today is refused, never run twice):',
        `     aws stepfunctions start-execution --state-machine-arn ${params.stateMachineArn} \\`,
        `       --name ${name} --input '${input}'`,
        '3. Approve each gate from its email once you have checked what it shows.',
      ].join('\n'),
      stateMachineArn: params.stateMachineArn,
    });
    await params.sns.send(new PublishCommand({ TopicArn: params.topicArn, Subject: subject, Message: message }));
    throw error;
  }
}

async function runningExecutions(params: ExpiryCheckParams): Promise<string[]> {
  const names: string[] = [];
  const paging = pages(params.sfn, MAX_PAGE_SIZE.sfnListExecutions);
  for await (const out of paginateListExecutions(paging, { stateMachineArn: params.stateMachineArn, statusFilter: 'RUNNING' })) {
    names.push(...(out.executions ?? []).map((e) => e.name ?? e.executionArn ?? '?'));
  }
  return names;
}

/** The most recent execution of the state machine (ListExecutions lists newest first). */
async function lastExecution(params: ExpiryCheckParams): Promise<{ name: string; status: string } | undefined> {
  const out = await params.sfn.send(new ListExecutionsCommand({ stateMachineArn: params.stateMachineArn, maxResults: 1 }));
  const e = out.executions?.[0];
  return e ? { name: e.name ?? '?', status: e.status ?? '?' } : undefined;
}
