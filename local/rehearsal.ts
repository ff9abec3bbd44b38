import './polyfill';
import { randomUUID } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SFNClient, SendTaskFailureCommand, SendTaskSuccessCommand } from '@aws-sdk/client-sfn';
import type { ResolvedConfig } from '../lib/config';
import { STATE } from '../lib/cert-rotation';
import type { HandlerName } from '../lib/rotation-function';
import { summarizeCertificate, type CertificateSummary } from '../lambdas/shared/certificate';
import { describeDetails } from '../lambdas/request-approval/domain';
import { coldStartAll } from '../lambdas/shared/env';
import { APPROVAL_REJECTED, RollbackIncomplete } from '../lambdas/shared/errors';
import type { LedgerEntry } from '../lambdas/shared/ledger';
import { targetKey } from '../lambdas/shared/targets';
import { probeTls } from '../lambdas/shared/tls-probe';
import { createApprover, gateMatches, type ApproveMode, type Decision } from './approver';
import { prepareCertificates } from './certificates';
import { invokeHandler } from './invoke';
import { localOverrides, startLocalExecution, type EngineState, type LocalHandler } from './local-engine';
import { scanForKeys, type ScanDocument, type SecretScanResult } from './secret-scan';
import { SimulatedAccount, UsageError, type FaultSpec, type FleetSpec, type SimTarget } from './sim';
import { synthesizeWorkflow, SIM_ACCOUNT, SIM_REGION, type SynthesizedWorkflow } from './template';
import { statesByName, walkStates, type AslMachine } from './walk-states';

export interface RehearsalOptions {
  readonly config: ResolvedConfig;
  readonly fleet: FleetSpec;
  readonly faults?: readonly FaultSpec[];
  readonly approve?: ApproveMode;
  readonly source?: 'staged';
  /** Stage DIR/cert.pem, key.pem, chain.pem (and trust DIR/root.pem) instead of a generated certificate. */
  readonly certificateDir?: string;
  /** Live progress lines; omitted = silent. */
  readonly progress?: (line: string) => void;
  /** Real milliseconds a simulated retry pause or Wait takes. @default 5 */
  readonly pauseMs?: number;
  /** How the new certificate is staged: a Secrets Manager secret (default) or files in the staging bucket. */
  readonly stageVia?: 'secret' | 's3';
  /** Shapes the simulated account before the execution starts (tests: a concurrent run, a DNS mistake, a forged ledger entry). */
  readonly beforeStart?: (
    sim: SimulatedAccount,
    context: { readonly stateMachineArn: string; readonly executionName: string; readonly artifactBucket: string },
  ) => void | Promise<void>;
  /**
   * `--input FILE`: merged over the execution input the rehearsal builds (after `beforeStart`) and
   * handed to the workflow as is, unvalidated: the workflow must refuse what it does not document.
   */
  readonly input?: Readonly<Record<string, unknown>>;
  /**
   * Tests only (the CLI never sets it): runs around each handler invocation, in the handler's
   * place, e.g. to leak key material the way a handler could (stderr, an S3 object, an email) and
   * see the secret scan catch it.
   */
  readonly aroundHandlerForTests?: (
    call: { readonly state: string; readonly handler: HandlerName; readonly event: unknown },
    invoke: () => Promise<unknown>,
  ) => Promise<unknown>;
}

export interface CertificateFacts {
  readonly serial: string;
  readonly sha256: string;
  readonly md5: string;
  readonly notAfter: string;
}

export interface TargetReport {
  /** `elb/NAME/PORT`, `elbv2/NAME/PORT`, `cloudfront/ID`, `node/INSTANCE` (what target faults name). */
  readonly key: string;
  readonly kind: SimTarget['kind'];
  readonly id: string;
  readonly name?: string;
  readonly port: number;
  /** SHA-256 of what a TLS handshake (SNI = domain) saw at the start; null without TLS (HTTP/TCP) or when it failed. */
  readonly before: string | null;
  /** What the simulated API said the target was configured with at the start. */
  readonly apiBefore: string | null;
  /** What the simulated API says the target is configured with now (not what it serves: see servedAfter). */
  readonly after: string | null;
  /** SHA-256 of what a TLS handshake saw at the end. */
  readonly servedAfter: string | null;
  /** servedAfter differs from before: both seen over TLS. */
  readonly changed: boolean;
  /** The change ledger says the rollback restored it. */
  readonly rolledBack: boolean;
}

export interface RehearsalReport {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'ROLLBACK_INCOMPLETE';
  readonly error?: string;
  /** ROLLBACK_INCOMPLETE: the keys of every target that is not back on what it served before. */
  readonly rollbackIncomplete?: string[];
  /** ROLLBACK_INCOMPLETE: the error that stopped the rotation and started the rollback. */
  readonly rollbackStartedBy?: string;
  readonly execution: string;
  readonly certificate: { readonly new: CertificateFacts | null; readonly previous: CertificateFacts };
  /** FAILED when any state of the phase failed (a Catch taking over included); retries = the engine's StateRetried events. */
  readonly phases: Array<{ readonly name: string; readonly status: string; readonly retries: number; readonly simulatedSeconds: number }>;
  readonly targets: TargetReport[];
  readonly approvals: Array<{ readonly gate: string; readonly decision: Decision | 'timeout' }>;
  readonly stateTransitions: number;
  readonly maxStatePayloadBytes: number;
  readonly apiCalls: Record<string, number>;
  readonly notifications: Array<{ readonly subject: string }>;
  readonly secretScan: SecretScanResult;
  readonly simulatedSeconds: number;
}

/** The report key of a ledger target (the same keys as {@link TargetReport.key}). */
function reportKeyOf(target: LedgerEntry['target']): string {
  return ledgerKeyToReportKey(targetKey(target));
}

/** Ledger keys name an ELBv2 target's role (`elbv2/NAME/PORT/sni`); report keys name the listener. */
function ledgerKeyToReportKey(key: string): string {
  return key.replace(/^(elbv2\/[^/]+\/\d+)\/(default|sni)$/, '$1');
}

/** The report phases in flow order, each with the state names its phases declare (`CertRotation.phases`). */
export type DeclaredPhases = SynthesizedWorkflow['phases'];

/**
 * The report phase of every state of the definition, nested ones included, from what the phases
 * declare. A state that no phase declares (or that two phases claim) stops the rehearsal before it
 * starts, naming it: it would otherwise drop out of the report unseen.
 */
export function phasesOfStates(definition: AslMachine, declared: DeclaredPhases): Map<string, string> {
  const phaseOf = new Map<string, string>();
  const problems: string[] = [];
  for (const { name, states } of declared) {
    for (const state of states) {
      const other = phaseOf.get(state);
      if (other !== undefined && other !== name) problems.push(`state "${state}" is declared by phases "${other}" and "${name}"`);
      else phaseOf.set(state, name);
    }
  }
  const phases = new Map<string, string>();
  for (const { name, path } of walkStates(definition)) {
    const phase = phaseOf.get(name);
    if (phase === undefined) problems.push(`state "${name}" (${path.join('.')}) belongs to no report phase`);
    else phases.set(name, phase);
  }
  if (problems.length > 0) throw new Error(`${problems.join('; ')} (each phase in lib/phases/ declares its states: Phase.declared)`);
  return phases;
}

/** The engine's execution events, as far as the rehearsal reads them. */
type EventLog =
  | { type: 'StateEntered' | 'StateExited'; state: { name: string; input?: unknown; output?: unknown } }
  | { type: 'StateRetried'; state: { name: string }; retry: { retrier: unknown; attempt: number } }
  | { type: 'StateFailed'; state: { name: string }; Error: string; Cause: unknown }
  | { type: 'StateCaught'; state: { name: string } }
  | {
      type:
        | 'ExecutionStarted'
        | 'ExecutionSucceeded'
        | 'ExecutionFailed'
        | 'ExecutionAborted'
        | 'ExecutionTimeout'
        | 'MapIterationStarted'
        | 'MapIterationSucceeded'
        | 'MapIterationFailed'
        | 'ParallelBranchStarted'
        | 'ParallelBranchSucceeded'
        | 'ParallelBranchFailed';
    };

const CALLBACK_RESOURCE = 'arn:aws:states:::lambda:invoke.waitForTaskToken';
/** The error an execution ends with when its rollback could not be verified. */
const ROLLBACK_INCOMPLETE = new RollbackIncomplete('').name;

function facts(s: CertificateSummary): CertificateFacts {
  return { serial: s.serial, sha256: s.sha256, md5: s.md5, notAfter: s.notAfter };
}

function tryFacts(pem: string): CertificateFacts | null {
  try {
    return facts(summarizeCertificate(pem));
  } catch {
    return null;
  }
}

/**
 * Captures what is written to stdout and stderr while the rehearsal runs, for the secret scan:
 * handlers log there (Powertools info/debug to stdout, warn/error to stderr; console.* and
 * process.*.write too). Stdout (the handlers' JSON logs) is kept out of the terminal as before;
 * stderr still reaches it (the progress lines, and handler errors an operator needs to see).
 */
function captureOutput(): { writes: Array<{ stream: 'stdout' | 'stderr'; text: string }>; restore: () => void } {
  const writes: Array<{ stream: 'stdout' | 'stderr'; text: string }> = [];
  const text = (chunk: unknown) => (typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
  // Restored exactly as found: an own property (a test's spy) put back, else the prototype's method.
  const saved = (stream: NodeJS.WriteStream) => {
    const own = Object.getOwnPropertyDescriptor(stream, 'write');
    return () => {
      if (own) Object.defineProperty(stream, 'write', own);
      else delete (stream as { write?: unknown }).write;
    };
  };
  const restoreOut = saved(process.stdout);
  const restoreErr = saved(process.stderr);
  const passErr = process.stderr.write.bind(process.stderr) as (...args: unknown[]) => boolean;
  process.stdout.write = (chunk: unknown, ...rest: unknown[]) => {
    writes.push({ stream: 'stdout', text: text(chunk) });
    const cb = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
    cb?.();
    return true;
  };
  process.stderr.write = (chunk: unknown, ...rest: unknown[]) => {
    writes.push({ stream: 'stderr', text: text(chunk) });
    return passErr(chunk, ...rest);
  };
  return {
    writes,
    restore: () => {
      restoreOut();
      restoreErr();
    },
  };
}

/** JSON of an engine event with Error objects spelled out (JSON.stringify makes an Error `{}`, hiding its message). */
function eventText(event: unknown): string {
  return JSON.stringify(event, (_key, value: unknown) =>
    value instanceof Error ? { ...value, name: value.name, message: value.message, stack: value.stack, cause: value.cause } : value,
  );
}

/**
 * Runs one rehearsal: the real synthesized state machine in the local ASL engine, the real
 * handlers in-process, a simulated account behind the SDK clients and real TLS on 127.0.0.1.
 */
export async function runRehearsal(options: RehearsalOptions): Promise<RehearsalReport> {
  const progress = options.progress ?? (() => undefined);
  const approve = options.approve ?? { mode: 'auto' };
  const pauseMs = options.pauseMs ?? 5;
  const certs = await prepareCertificates({
    names: options.config.certificateNames,
    currentDaysLeft: options.fleet.currentCertDaysLeft,
    ...(options.certificateDir ? { certificateDir: options.certificateDir } : {}),
  });
  // Roots of the rehearsal's own CA (and DIR/root.pem) are trusted for this rehearsal only.
  const config: ResolvedConfig = {
    ...options.config,
    trustedRootCertificates: [...options.config.trustedRootCertificates, ...certs.trustedRoots],
  };
  const workflow = synthesizeWorkflow(config);
  const definition = workflow.definition as AslMachine<EngineState>;
  // Every state, nested ones (Map, Parallel) included.
  const states = statesByName(definition);
  const phaseOfState = phasesOfStates(definition, workflow.phases);
  const gateNames = [...states].filter(([, s]) => s.Resource === CALLBACK_RESOURCE).map(([n]) => n);
  if (approve.mode === 'reject' && !gateNames.some((g) => gateMatches(g, approve.gate))) {
    throw new UsageError(`--approve reject:${approve.gate} matches no approval gate; gates: ${gateNames.map((g) => `"${g}"`).join(', ')}`);
  }

  const sim = await SimulatedAccount.create({
    fleet: options.fleet,
    faults: [...(options.faults ?? [])],
    current: certs.current,
    other: certs.other,
    iamPath: config.iamPath,
    region: SIM_REGION,
    accountId: SIM_ACCOUNT,
  });
  const approver = createApprover(approve);
  const captured = captureOutput();
  sim.install();
  // A new rehearsal is a new set of Lambda containers: no configuration from an earlier run.
  coldStartAll();
  try {
    sim.s3.createBucket(workflow.buckets.staging);
    sim.s3.createBucket(workflow.buckets.artifacts);
    const canaryTarget = sim
      .targets()
      .find((t) => t.kind === 'elb' && t.id === config.canary.loadBalancerName && t.port === config.canary.port);
    if (canaryTarget) sim.addDnsAlias(config.canary.host, { host: canaryTarget.host });
    // What each target served at the start, seen as a client of the domain sees it (TLS, SNI = domain).
    const servedNow = async (t: SimTarget): Promise<string | null> => {
      try {
        return (await probeTls({ host: '127.0.0.1', port: t.localPort, servername: config.domain })).sha256;
      } catch {
        return null;
      }
    };
    // ...and what the simulated API said each was configured with (reported beside, never instead).
    const configuredNow = (t: SimTarget): string | null => t.configuredSha256(config.domain) || null;
    const before = new Map<string, string | null>();
    const apiBefore = new Map<string, string | null>();
    for (const t of sim.targets()) {
      before.set(t.key, await servedNow(t));
      apiBefore.set(t.key, configuredNow(t));
    }

    const executionName = `rehearsal-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    let staged: { source: Record<string, unknown> };
    if (options.stageVia === 's3') {
      // As an operator would: cert.pem, key.pem (and chain.pem) under a prefix of the staging bucket.
      const prefix = `staged/${executionName}/`;
      const files: Array<[string, string | undefined]> = [
        ['cert.pem', certs.staged.certificate],
        ['key.pem', certs.staged.privateKey || undefined],
        ['chain.pem', certs.staged.chain],
      ];
      for (const [file, body] of files) {
        if (body !== undefined) await sim.handle('s3:PutObject', { Bucket: workflow.buckets.staging, Key: `${prefix}${file}`, Body: body });
      }
      staged = { source: { s3: { prefix } } };
    } else {
      const secretName = `cert-rotation/${config.domain}/staged-${executionName}`;
      sim.putSecret(secretName, JSON.stringify(certs.staged));
      staged = { source: { secretId: secretName } };
    }
    const executionArn = `arn:aws:states:${SIM_REGION}:${SIM_ACCOUNT}:execution:${workflow.stateMachineName}:${executionName}`;
    await options.beforeStart?.(sim, {
      stateMachineArn: workflow.stateMachineArn,
      executionName,
      artifactBucket: workflow.buckets.artifacts,
    });
    const input: Record<string, unknown> = { ...staged, ...(options.input ?? {}) };
    const startTime = new Date();
    sim.sfn.registerExecution({
      executionArn,
      stateMachineArn: workflow.stateMachineArn,
      name: executionName,
      status: 'RUNNING',
      startDate: startTime,
      input: JSON.stringify(input),
    });

    // Crash faults: the handler's side effects happen, then the invocation "fails" as a Lambda
    // service error would, and the state machine retries it.
    // (With `afterCalls`, the simulated account crashes the invocation itself, mid-work: sim.runTask.)
    const crashes = sim.stateFaults.filter((f) => f.afterCalls === undefined).map((f) => ({ state: f.state, remaining: f.count ?? 1 }));
    const approvals: RehearsalReport['approvals'] = [];
    // The operator's own CLI calls retry patiently through injected throttling.
    const sfnClient = new SFNClient({ maxAttempts: 10 });
    const s3Client = new S3Client({ maxAttempts: 10 });

    const around = options.aroundHandlerForTests;
    const invoke = (state: string, handler: HandlerName, environment: Record<string, string>, event: unknown) =>
      around
        ? around({ state, handler, event }, () => invokeHandler(handler, environment, event))
        : invokeHandler(handler, environment, event);
    const handlerFor = (stateName: string, state: EngineState): LocalHandler | undefined => {
      const crash = () => {
        const c = crashes.find((x) => stateName.includes(x.state) && x.remaining > 0);
        if (c) {
          c.remaining -= 1;
          const err = new Error(`simulated crash of "${stateName}" after its side effects`);
          err.name = 'Lambda.ServiceException';
          throw err;
        }
      };
      if (state.Resource === CALLBACK_RESOURCE) {
        return async (raw) => {
          const { FunctionName, Payload } = raw as { FunctionName: string; Payload: Record<string, unknown> };
          const fn = workflow.functions.get(FunctionName);
          if (!fn) throw new Error(`no handler for ${FunctionName}`);
          // The engine does not mint task tokens; give each gate invocation its own.
          const token = `rehearsal-token-${randomUUID()}`;
          sim.sfn.expectTaskToken(token);
          const requested = (await sim.runTask(stateName, () =>
            invoke(stateName, fn.handler, fn.environment, { ...Payload, taskToken: token }),
          )) as { requestKey: string };
          crash();
          // The approver reads the request (and its token) where an operator would, then answers.
          const object = await s3Client.send(new GetObjectCommand({ Bucket: workflow.buckets.artifacts, Key: requested.requestKey }));
          const request = JSON.parse((await object.Body?.transformToString()) ?? '{}') as { taskToken: string; gate: string };
          // What the approval email shows, for --approve prompt.
          const summary = describeDetails(Payload.details ?? {});
          progress(`  waiting for approval: ${stateName}`);
          const decision = await approver.decide(stateName, summary);
          approvals.push({ gate: stateName, decision });
          progress(`  ${decision}: ${stateName}`);
          if (decision === 'approved') {
            await sfnClient.send(
              new SendTaskSuccessCommand({
                taskToken: request.taskToken,
                output: JSON.stringify({ decision, approvedBy: 'rehearsal', at: sim.clock.now().toISOString() }),
              }),
            );
          } else {
            await sfnClient.send(
              new SendTaskFailureCommand({
                taskToken: request.taskToken,
                error: APPROVAL_REJECTED,
                cause: `rejected in the rehearsal (--approve ${approve.mode === 'reject' ? `reject:${approve.gate}` : approve.mode})`,
              }),
            );
          }
          const result = await sim.sfn.waitForTaskToken(token);
          if ('error' in result) {
            const err = new Error(result.cause);
            err.name = result.error;
            throw err;
          }
          return JSON.parse(result.output) as unknown;
        };
      }
      const fn = workflow.functions.get(state.Resource ?? '');
      if (!fn) return undefined;
      return async (payload) => {
        const out = await sim.runTask(stateName, () => invoke(stateName, fn.handler, fn.environment, payload));
        crash();
        return out;
      };
    };

    // Waits and retry pauses take `pauseMs` of real time; their simulated length is added to the clock.
    const execution = startLocalExecution(definition, input, {
      overrides: localOverrides(definition, { pauseMs, handlerFor }),
      context: {
        Execution: {
          Id: executionArn,
          Name: executionName,
          StartTime: startTime.toISOString(),
          Input: input as never,
          RoleArn: `arn:aws:iam::${SIM_ACCOUNT}:role/rehearsal`,
        },
        StateMachine: { Id: workflow.stateMachineArn, Name: workflow.stateMachineName },
        Task: { Token: 'filled-per-gate-by-the-rehearsal' },
      },
    });

    const history: string[] = [];
    let stateTransitions = 0;
    let maxStatePayloadBytes = 0;
    const phaseTimes = new Map<string, { start: number; end: number; failed: boolean; retries: number }>();
    const phaseOf = (state: string) => {
      const phase = phaseOfState.get(state);
      if (phase === undefined) throw new Error(`the engine ran state "${state}", which is not in the definition`);
      return phase;
    };
    // A phase is FAILED when any of its states failed: a StateFailed that no StateRetried follows
    // (the engine then catches it, and sends StateExited, or the execution fails). A failed attempt
    // that is retried is counted in `retries`, not as a failure.
    const touch = (state: string, change: { failed?: true; retried?: true } = {}) => {
      const phase = phaseOf(state);
      const now = sim.clock.simulatedSeconds();
      const t = phaseTimes.get(phase) ?? { start: now, end: now, failed: false, retries: 0 };
      t.end = now;
      if (change.failed) t.failed = true;
      if (change.retried) t.retries += 1;
      phaseTimes.set(phase, t);
    };
    const lastAttemptFailed = new Set<string>();
    let gateTimedOut = false;
    const consume = (async () => {
      for await (const event of execution.eventLogs as unknown as AsyncIterable<EventLog>) {
        history.push(eventText(event));
        switch (event.type) {
          case 'StateEntered': {
            stateTransitions += 1;
            maxStatePayloadBytes = Math.max(maxStatePayloadBytes, Buffer.byteLength(JSON.stringify(event.state.input ?? null)));
            const s = states.get(event.state.name);
            if (s?.Type === 'Wait' && typeof s.Seconds === 'number') {
              sim.clock.advance(s.Seconds);
              progress(`  waiting ${s.Seconds}s (simulated): ${event.state.name}`);
            }
            touch(event.state.name);
            if (s?.Type === 'Task') progress(`[${sim.clock.simulatedSeconds().toFixed(1).padStart(7)}s] ${event.state.name}`);
            break;
          }
          case 'StateExited':
            maxStatePayloadBytes = Math.max(maxStatePayloadBytes, Buffer.byteLength(JSON.stringify(event.state.output ?? null)));
            touch(event.state.name);
            if (event.state.name === STATE.plan) {
              const out = event.state.output as { plan?: { counts?: unknown } } | undefined;
              progress(`  targets: ${JSON.stringify(out?.plan?.counts ?? {})}`);
            }
            break;
          case 'StateRetried': {
            // The engine paused `pauseMs`; the simulated clock gets the pause the Retry asks for.
            const retrier = event.retry.retrier as { IntervalSeconds?: number; BackoffRate?: number };
            const pause = (retrier.IntervalSeconds ?? 1) * (retrier.BackoffRate ?? 2) ** (event.retry.attempt - 1);
            sim.clock.advance(pause);
            lastAttemptFailed.delete(event.state.name);
            touch(event.state.name, { retried: true });
            progress(`  retry ${event.retry.attempt} of "${event.state.name}" after ${pause}s (simulated)`);
            break;
          }
          case 'StateFailed':
            lastAttemptFailed.add(event.state.name);
            touch(event.state.name);
            if (event.Error === 'States.Timeout' && gateNames.includes(event.state.name)) gateTimedOut = true;
            progress(`  ${event.state.name} failed: ${event.Error}: ${String(event.Cause).slice(0, 300)}`);
            break;
          case 'StateCaught':
            lastAttemptFailed.delete(event.state.name);
            touch(event.state.name, { failed: true });
            progress(`  caught: rolling back`);
            break;
          default:
            break;
        }
      }
    })();

    let status: RehearsalReport['status'] = 'SUCCEEDED';
    let error: string | undefined;
    let rollbackIncomplete: string[] | undefined;
    let rollbackStartedBy: string | undefined;
    let output: unknown;
    try {
      output = await execution.result;
    } catch (e) {
      // The engine wraps the execution's error (ExecutionError); its cause carries the name
      // and cause the Fail state reported (the original error, through ErrorPath/CausePath).
      const wrapped = e as { cause?: unknown };
      const err = (wrapped.cause instanceof Error ? wrapped.cause : e) as { name?: string; message?: string };
      const name = err.name ?? 'Error';
      status = name === APPROVAL_REJECTED || (name === 'States.Timeout' && gateTimedOut) ? 'REJECTED' : 'FAILED';
      error = `${name}: ${err.message ?? ''}`;
      history.push(JSON.stringify({ error }));
    }
    await consume;
    // A failure neither retried nor caught ended the execution. A Fail state ends it as designed: the
    // execution's status says so, and the phase whose state failed first is FAILED already.
    for (const state of lastAttemptFailed) touch(state, states.get(state)?.Type === 'Fail' ? {} : { failed: true });
    history.push(JSON.stringify(output ?? null));
    sim.sfn.setExecutionStatus(executionArn, status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');

    // The ledger says what was switched and restored.
    const ledgerPrefix = `executions/${executionName}/ledger/`;
    const ledger: LedgerEntry[] = [...(sim.s3.buckets.get(workflow.buckets.artifacts)?.keys() ?? [])]
      .filter((k) => k.startsWith(ledgerPrefix))
      .map((k) => JSON.parse(sim.s3.getText(workflow.buckets.artifacts, k) ?? '{}') as LedgerEntry);
    const rolledBackKeys = new Set(
      ledger.filter((e) => e.status === 'rolled-back' && e.note !== 'was not switched').map((e) => reportKeyOf(e.target)),
    );

    const targets: TargetReport[] = [];
    for (const t of sim.targets()) {
      const servedAfter = await servedNow(t);
      const b = before.get(t.key) ?? null;
      targets.push({
        key: t.key,
        kind: t.kind,
        id: t.id,
        ...((t.name ?? t.loadBalancerName) ? { name: t.name ?? t.loadBalancerName } : {}),
        port: t.port,
        before: b,
        apiBefore: apiBefore.get(t.key) ?? null,
        // What the account says is configured for the domain now (ELBv2: its SNI certificate for the domain, else the default).
        after: configuredNow(t),
        servedAfter,
        changed: servedAfter !== b,
        rolledBack: rolledBackKeys.has(t.key),
      });
    }

    // Listeners without TLS (HTTP/TCP) carry no certificate; they are reported, untouched.
    for (const elb of options.fleet.elbs) {
      for (const l of elb.listeners.filter((x) => x.protocol === 'HTTP' || x.protocol === 'TCP')) {
        targets.push({
          key: `elb/${elb.name}/${l.port}`,
          kind: 'elb',
          id: elb.name,
          port: l.port,
          before: null,
          apiBefore: null,
          after: null,
          servedAfter: null,
          changed: false,
          rolledBack: false,
        });
      }
    }

    const newFacts = tryFacts(certs.staged.certificate);
    const previous = facts(summarizeCertificate(certs.current.certPem));
    // Every phase of the workflow, in order; the ones this run did not reach say so.
    const phases = workflow.phases.map(({ name: p }) => {
      const t = phaseTimes.get(p);
      if (!t) return { name: p, status: 'NOT_RUN', retries: 0, simulatedSeconds: 0 };
      return {
        name: p,
        status: t.failed ? 'FAILED' : 'SUCCEEDED',
        retries: t.retries,
        simulatedSeconds: Math.round((t.end - t.start) * 10) / 10,
      };
    });
    // A rollback that could not be verified: what the workflow says is not back (its report), and
    // what the rehearsal itself sees over TLS is not back, whatever the workflow says.
    if (status !== 'SUCCEEDED') {
      const workflowReport = JSON.parse(sim.s3.getText(workflow.buckets.artifacts, `executions/${executionName}/report.json`) ?? '{}') as {
        notBack?: string[];
        error?: string;
      };
      const notBack = new Set([
        ...(workflowReport.notBack ?? []).map(ledgerKeyToReportKey),
        ...targets.filter((t) => t.servedAfter !== t.before).map((t) => t.key),
      ]);
      if (notBack.size > 0 || error?.startsWith(`${ROLLBACK_INCOMPLETE}:`)) {
        status = 'ROLLBACK_INCOMPLETE';
        rollbackIncomplete = targets.filter((t) => notBack.has(t.key)).map((t) => t.key);
        rollbackStartedBy = error?.startsWith(`${ROLLBACK_INCOMPLETE}:`) ? workflowReport.error : error;
        for (const k of notBack) if (!rollbackIncomplete.includes(k)) rollbackIncomplete.push(k);
        if (!error?.startsWith(`${ROLLBACK_INCOMPLETE}:`)) {
          error = `${ROLLBACK_INCOMPLETE}: the rehearsal sees ${rollbackIncomplete.join(', ')} not back over TLS, although the execution ended with ${error ?? 'no error'}`;
        }
      }
    }
    const notifications = sim.sns.messages.map((m) => ({ subject: m.subject ?? '' }));
    const partial = {
      status,
      ...(error ? { error } : {}),
      ...(rollbackIncomplete ? { rollbackIncomplete } : {}),
      ...(rollbackStartedBy ? { rollbackStartedBy } : {}),
      execution: executionName,
      certificate: { new: newFacts, previous },
      phases,
      targets,
      approvals,
      stateTransitions,
      maxStatePayloadBytes,
      apiCalls: sim.apiCallCounts(),
      notifications,
      simulatedSeconds: Math.round(sim.clock.simulatedSeconds() * 10) / 10,
    };
    // Every document the scan reads; `places` and `searched` are counted from these.
    const docs: ScanDocument[] = [
      ...history.map((text, i) => ({ place: 'execution history' as const, name: `event ${i}`, text })),
      ...captured.writes.map((w, i) => ({ place: 'logs' as const, name: `${w.stream} write ${i}`, text: w.text })),
      ...[...workflow.functions].map(([arn, fn]) => ({
        place: 'lambda environments' as const,
        name: `${arn} (${fn.handler})`,
        text: JSON.stringify(fn.environment),
      })),
      ...sim.recorded().map((r) => ({ place: r.place, name: r.name, text: r.text })),
      { place: 'report', name: 'report', text: JSON.stringify(partial) },
    ];
    const secretScan = scanForKeys(docs, [certs.staged.privateKey, certs.current.keyPem]);
    return { ...partial, secretScan };
  } finally {
    approver.close();
    captured.restore();
    await sim.close();
  }
}
