/** How a rehearsal's execution starts: the certificate staged, the execution chosen (console or schedule), and how it ended. */
import type { AutomaticSource } from '../lib/schedule-source';
import { APPROVAL_REJECTED } from '../lambdas/shared/errors';
import type { prepareCertificates } from './certificates';
import type { Outcome } from './report';
import { runScheduleTrigger, type TriggerReport } from './schedule-trigger';
import type { SimulatedAccount } from './sim';
import { SIM_ACCOUNT, SIM_REGION, type SynthesizedWorkflow } from './template';

export type Certificates = Awaited<ReturnType<typeof prepareCertificates>>;

/** Stages the new certificate as an operator would: a secret under the prefix (default), or files in the staging bucket. */
export async function stageCertificate(
  sim: SimulatedAccount,
  params: { readonly via?: 'secret' | 's3'; readonly stagingBucket: string; readonly domain: string; readonly executionName: string },
  certs: Certificates,
): Promise<{ source: Record<string, unknown> }> {
  if (params.via === 's3') {
    // As an operator would: cert.pem, key.pem (and chain.pem) under a prefix of the staging bucket.
    const prefix = `staged/${params.executionName}/`;
    const files: Array<[string, string | undefined]> = [
      ['cert.pem', certs.staged.certificate],
      ['key.pem', certs.staged.privateKey || undefined],
      ['chain.pem', certs.staged.chain],
    ];
    for (const [file, body] of files) {
      if (body !== undefined) await sim.handle('s3:PutObject', { Bucket: params.stagingBucket, Key: `${prefix}${file}`, Body: body });
    }
    return { source: { s3: { prefix } } };
  }
  const secretName = `cert-rotation/${params.domain}/staged-${params.executionName}`;
  sim.putSecret(secretName, JSON.stringify(certs.staged));
  return { source: { secretId: secretName } };
}

/** How the execution ended: its status and error, from the engine's result (the engine wraps the execution's error). */
export function outcomeOf(e: unknown, gateTimedOut: boolean): Outcome & { error: string } {
  // The engine wraps the execution's error (ExecutionError); its cause carries the name
  // and cause the Fail state reported (the original error, through ErrorPath/CausePath).
  const wrapped = e as { cause?: unknown };
  const err = (wrapped.cause instanceof Error ? wrapped.cause : e) as { name?: string; message?: string };
  const name = err.name ?? 'Error';
  const status = name === APPROVAL_REJECTED || (name === 'States.Timeout' && gateTimedOut) ? 'REJECTED' : 'FAILED';
  return { status, error: `${name}: ${err.message ?? ''}` };
}

/** The execution a rehearsal runs: its ARN, name, input and start. */
export interface RehearsalRun {
  readonly executionArn: string;
  readonly name: string;
  readonly input: Record<string, unknown>;
  readonly startTime: Date;
}

export interface ChooseExecutionParams {
  readonly sim: SimulatedAccount;
  readonly workflow: SynthesizedWorkflow;
  readonly progress: (line: string) => void;
  /** The console execution's name. */
  readonly executionName: string;
  /** The staged (or automatic) source's execution input. */
  readonly staged: { readonly source: Record<string, unknown> };
  readonly trigger?: 'console' | 'schedule';
  readonly automaticSource?: (staged: Readonly<Record<string, unknown>>) => AutomaticSource;
  readonly input?: Readonly<Record<string, unknown>>;
}

/**
 * The execution to run: the one the expiry check started (`schedule`; none when it rightly started
 * nothing), or the operator's (`console`, registered in the simulated Step Functions as running).
 */
export async function chooseExecution(
  params: ChooseExecutionParams,
): Promise<{ readonly trigger: TriggerReport; readonly run: RehearsalRun | undefined }> {
  const { sim, workflow, executionName } = params;
  const scheduled =
    params.trigger === 'schedule'
      ? await runScheduleTrigger({
          sim,
          workflow,
          progress: params.progress,
          ...(params.automaticSource ? { automaticSource: params.automaticSource(params.staged.source) } : {}),
        })
      : undefined;
  const trigger: TriggerReport = scheduled?.report ?? { kind: 'console' };
  const run = scheduled
    ? scheduled.execution && {
        executionArn: scheduled.execution.executionArn,
        name: scheduled.execution.name,
        input: JSON.parse(scheduled.execution.input ?? '{}') as Record<string, unknown>,
        startTime: scheduled.execution.startDate,
      }
    : {
        executionArn: `arn:aws:states:${SIM_REGION}:${SIM_ACCOUNT}:execution:${workflow.stateMachineName}:${executionName}`,
        name: executionName,
        input: { ...params.staged, ...(params.input ?? {}) },
        startTime: new Date(),
      };
  if (run && !scheduled) {
    sim.sfn.registerExecution({
      executionArn: run.executionArn,
      stateMachineArn: workflow.stateMachineArn,
      name: run.name,
      status: 'RUNNING',
      startDate: run.startTime,
      input: JSON.stringify(run.input),
    });
  }
  return { trigger, run: run || undefined };
}
