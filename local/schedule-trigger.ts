/**
 * `--trigger schedule`: before any execution, the rehearsal runs the real expiry-check handler,
 * as the EventBridge rule would, against the simulated account. The handler decides; the
 * rehearsal then looks at what the simulated Step Functions holds (StartExecution's executions),
 * never at what the handler says it did, and runs that execution, if any.
 */
import {
  DAYS_TO_EXPIRY,
  type AutomaticSource,
  type ExpiryCheckEvent,
  type ExpiryCheckResult,
  type ExpiryDecision,
} from '../lambdas/expiry-check';
import type { Outcome } from './report';
import { invokeHandler } from './invoke';
import type { SimulatedAccount } from './sim';
import type { SimExecution } from './sim/sfn';
import type { SynthesizedWorkflow } from './template';

/** The report's `trigger` (REHEARSAL.md). */
export type TriggerReport =
  | { readonly kind: 'console' }
  | {
      readonly kind: 'schedule';
      /** What the check read: days left on the certificate in use, and its threshold. */
      readonly daysLeft: number | null;
      readonly daysBeforeExpiry: number;
      readonly due: boolean;
      /** Observed: the simulated Step Functions holds an execution the check started. */
      readonly started: boolean;
      /** What the check decided (its result), beside what was observed; `check-failed` when it threw. */
      readonly decision: ExpiryDecision | 'check-failed';
      /** The executions StartExecution created (at most one). */
      readonly executions: string[];
      /** Subjects of the emails the check sent. */
      readonly notified: string[];
      /** The automatic source the check was given (kind only), if any. */
      readonly automaticSource?: string;
      /**
       * The check itself failed (its invocation threw, which Lambda counts in the Errors metric the
       * check-errors alarm watches): the error, e.g. StartExecution refused. Then `decision` is
       * `check-failed`, and `daysLeft` is what the check published as DaysToExpiry (null when it
       * published none).
       */
      readonly error?: string;
    };

export interface ScheduleTriggerOptions {
  readonly sim: SimulatedAccount;
  readonly workflow: SynthesizedWorkflow;
  /**
   * Given to the check as the deployment would give it (its AUTOMATIC_SOURCE variable) when the
   * synthesized function has none. @default the synthesized function's own (none for the staged source)
   */
  readonly automaticSource?: AutomaticSource;
  readonly progress: (line: string) => void;
}

/** Runs the expiry check once; returns what it decided and the execution it started, if any. */
export async function runScheduleTrigger(
  options: ScheduleTriggerOptions,
): Promise<{ readonly report: TriggerReport; readonly execution?: SimExecution }> {
  const { sim, workflow, progress } = options;
  const fn = [...workflow.functions.values()].find((f) => f.handler === 'expiry-check');
  if (!fn) throw new Error('the synthesized app has no expiry-check function');
  const environment = {
    ...fn.environment,
    ...(options.automaticSource && JSON.parse(fn.environment.AUTOMATIC_SOURCE ?? 'null') === null
      ? { AUTOMATIC_SOURCE: JSON.stringify(options.automaticSource) }
      : {}),
  };
  sim.sfn.registerStateMachine(workflow.stateMachineArn);
  const startedBefore = sim.sfn.started.length;
  const emailsBefore = sim.sns.messages.length;
  const event: ExpiryCheckEvent = { executionName: 'expiry-check', time: sim.clock.now().toISOString() };
  progress('schedule: running the expiry check');
  let result: ExpiryCheckResult | undefined;
  let error: string | undefined;
  try {
    result = (await invokeHandler(fn.entry, environment, event)) as ExpiryCheckResult;
  } catch (e) {
    // As Lambda: the invocation failed (its Errors metric counts it). Reported, not a crash of the rehearsal.
    error = `${e instanceof Error ? e.name : 'Error'}: ${e instanceof Error ? e.message : String(e)}`;
  }
  const started = sim.sfn.started.slice(startedBefore);
  const notified = sim.sns.messages.slice(emailsBefore).map((m) => m.subject ?? '');
  const automatic = (JSON.parse(environment.AUTOMATIC_SOURCE ?? 'null') as AutomaticSource | null)?.kind;
  if (!result) {
    const published = sim.cloudwatch
      .datapoints(DAYS_TO_EXPIRY.namespace, DAYS_TO_EXPIRY.metricName, { [DAYS_TO_EXPIRY.dimension]: fn.environment.DOMAIN ?? '' })
      .at(-1)?.value;
    const daysLeft = published ?? null;
    const daysBeforeExpiry = Number(fn.environment.DAYS_BEFORE_EXPIRY);
    progress(`schedule: the expiry check failed: ${error ?? '?'}${started.length > 0 ? '' : '; nothing started'}`);
    return {
      report: {
        kind: 'schedule',
        daysLeft,
        daysBeforeExpiry,
        due: daysLeft !== null && daysLeft < daysBeforeExpiry,
        started: started.length > 0,
        decision: 'check-failed',
        executions: started.map((e) => e.name),
        notified,
        ...(automatic ? { automaticSource: automatic } : {}),
        error: error ?? 'unknown',
      },
      ...(started[0] ? { execution: started[0] } : {}),
    };
  }
  progress(
    `schedule: ${result.daysLeft} days left (threshold ${result.daysBeforeExpiry}): ${result.due ? 'due' : 'not due'}; ${result.decision}` +
      (started.length > 0 ? `: started ${started.map((e) => e.name).join(', ')}` : ''),
  );
  return {
    report: {
      kind: 'schedule',
      daysLeft: result.daysLeft,
      daysBeforeExpiry: result.daysBeforeExpiry,
      due: result.due,
      started: started.length > 0,
      decision: result.decision,
      executions: started.map((e) => e.name),
      notified,
      ...(automatic ? { automaticSource: automatic } : {}),
    },
    ...(started[0] ? { execution: started[0] } : {}),
  };
}

/**
 * How a rehearsal that ran no execution ended: NOT_STARTED when the schedule rightly started
 * nothing (exit 0), FAILED when the check itself failed (a StartExecution refused: nothing started,
 * nothing changed, exit 1, as the contract's FAILED with every target as before).
 */
export function notStartedOutcome(trigger: TriggerReport): Outcome {
  if (trigger.kind === 'schedule' && trigger.error !== undefined) {
    return { status: 'FAILED', error: `ScheduledStartFailed: the expiry check failed, no rotation started: ${trigger.error}` };
  }
  return { status: 'NOT_STARTED' };
}
