import './polyfill';
import type { ResolvedConfig } from '../lib/config';
import { STATE } from '../lib/cert-rotation';
import type { PhaseFactory } from '../lib/workflow';
import type { AutomaticSource } from '../lib/schedule-source';
import { coldStartAll } from '../lambdas/shared/env';
import { APPROVAL_REJECTED } from '../lambdas/shared/errors';
import { summarizeCertificate } from '../lambdas/shared/certificate';
import { probeTls } from '../lambdas/shared/tls-probe';
import { createApprover, gateMatches, type ApproveMode } from './approver';
import { startApprovalServer } from './approval-server';
import { prepareAutomaticSource, type RehearsalSource, type RehearsalSourceOptions, type SourceKind } from './automatic-source';
import { captureOutput } from './capture';
import { prepareCertificates } from './certificates';
import { localOverrides, startLocalExecution, type EngineState } from './local-engine';
import { ExecutionAccounting, phasesOfStates } from './phase-accounting';
import {
  certificateFacts,
  certificateFactsOf,
  judgeRollback,
  pruneOf,
  skippedNodesOf,
  targetReports,
  type Outcome,
  type RehearsalReport,
  type TargetViews,
} from './report';
import { runScheduleTrigger, type TriggerReport } from './schedule-trigger';
import { scanForKeys, scanForTaskTokens, withTaskTokenFindings, type ScanDocument } from './secret-scan';
import { SimulatedAccount, UsageError, type FaultSpec, type FleetSpec } from './sim';
import { CALLBACK_RESOURCE, taskHandlers, type AroundHandler } from './task-handlers';
import { synthesizeWorkflow, SIM_ACCOUNT, SIM_REGION } from './template';
import { statesByName, type AslMachine } from './walk-states';

export { phasesOfStates, type DeclaredPhases, type PhaseReport } from './phase-accounting';
export type { CertificateFacts, RehearsalReport, TargetReport } from './report';

export interface RehearsalOptions {
  readonly config: ResolvedConfig;
  readonly fleet: FleetSpec;
  readonly faults?: readonly FaultSpec[];
  readonly approve?: ApproveMode;
  /** `staged` (default): a generated certificate staged in Secrets Manager; `acme`: issued by a local pebble; `acm`: exported from the simulated ACM. */
  readonly source?: SourceKind;
  /** `--source acme` options (tests: pebble requiring EAB). */
  readonly acme?: RehearsalSourceOptions;
  /** `console` (default): start the execution directly; `schedule`: run the expiry check first, which decides (local/schedule-trigger.ts). */
  readonly trigger?: 'console' | 'schedule';
  /**
   * `--trigger schedule`: the automatic source the check starts rotations with, built from the
   * staged source, when the synthesized check has none (the config's `automaticSourceOf`).
   * @default none: with the staged source the check emails the steps and starts nothing
   */
  readonly automaticSource?: (staged: Readonly<Record<string, unknown>>) => AutomaticSource;
  /** Stage DIR/cert.pem, key.pem, chain.pem (and trust DIR/root.pem) instead of a generated certificate. */
  readonly certificateDir?: string;
  /** Live progress lines; omitted = silent. */
  readonly progress?: (line: string) => void;
  /** Warnings that must be seen even when quiet (nginx missing: nginx nodes run in memory); also in the report's `warnings`. */
  readonly warn?: (line: string) => void;
  /** Lines the operator must see even when quiet (`--approve web`: each approval link). @default progress */
  readonly announce?: (line: string) => void;
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
  readonly aroundHandlerForTests?: AroundHandler;
  /** Tests only (the CLI never sets it): phases inserted before finish, as `CertRotationProps.extraPhases`. */
  readonly extraPhases?: readonly PhaseFactory[];
}

type Certificates = Awaited<ReturnType<typeof prepareCertificates>>;

/** Stages the new certificate as an operator would: a secret under the prefix (default), or files in the staging bucket. */
async function stageCertificate(
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
function outcomeOf(e: unknown, gateTimedOut: boolean): Outcome & { error: string } {
  // The engine wraps the execution's error (ExecutionError); its cause carries the name
  // and cause the Fail state reported (the original error, through ErrorPath/CausePath).
  const wrapped = e as { cause?: unknown };
  const err = (wrapped.cause instanceof Error ? wrapped.cause : e) as { name?: string; message?: string };
  const name = err.name ?? 'Error';
  const status = name === APPROVAL_REJECTED || (name === 'States.Timeout' && gateTimedOut) ? 'REJECTED' : 'FAILED';
  return { status, error: `${name}: ${err.message ?? ''}` };
}

/**
 * Runs one rehearsal: the real synthesized state machine in the local ASL engine, the real
 * handlers in-process, a simulated account behind the SDK clients and real TLS on 127.0.0.1.
 */
export async function runRehearsal(options: RehearsalOptions): Promise<RehearsalReport> {
  const certs = await prepareCertificates({
    names: options.config.certificateNames,
    currentDaysLeft: options.fleet.currentCertDaysLeft,
    ...(options.certificateDir ? { certificateDir: options.certificateDir } : {}),
    older: options.fleet.iamCertificates ?? [],
  });
  const automatic: RehearsalSource | undefined =
    options.source === 'acme' || options.source === 'acm'
      ? await prepareAutomaticSource(options.source, options.config, options.fleet, {
          ...(options.acme ?? {}),
          region: SIM_REGION,
          accountId: SIM_ACCOUNT,
        })
      : undefined;
  try {
    return await rehearse(options, certs, automatic);
  } finally {
    await automatic?.close();
  }
}

async function rehearse(options: RehearsalOptions, certs: Certificates, automatic: RehearsalSource | undefined): Promise<RehearsalReport> {
  const progress = options.progress ?? (() => undefined);
  const approve = options.approve ?? { mode: 'auto' };
  const pauseMs = options.pauseMs ?? 5;
  const base = automatic?.config ?? options.config;
  const fleet = automatic?.fleet ?? options.fleet;
  // Roots of the rehearsal's own CA (and DIR/root.pem, or pebble's root) are trusted for this rehearsal only.
  const config: ResolvedConfig = {
    ...base,
    trustedRootCertificates: [...base.trustedRootCertificates, ...certs.trustedRoots],
  };
  const workflow = synthesizeWorkflow(config, options.extraPhases ? { extraPhases: options.extraPhases } : {});
  const definition = workflow.definition as AslMachine<EngineState>;
  // Every state, nested ones (Map, Parallel) included.
  const states = statesByName(definition);
  const phaseOfState = phasesOfStates(definition, workflow.phases);
  const gateNames = [...states].filter(([, s]) => s.Resource === CALLBACK_RESOURCE).map(([n]) => n);
  if (approve.mode === 'reject' && !gateNames.some((g) => gateMatches(g, approve.gate))) {
    throw new UsageError(`--approve reject:${approve.gate} matches no approval gate; gates: ${gateNames.map((g) => `"${g}"`).join(', ')}`);
  }

  const sim = await SimulatedAccount.create({
    fleet,
    faults: [...(options.faults ?? [])],
    current: certs.current,
    other: certs.other,
    iamCertificates: certs.iamCertificates,
    iamPath: config.iamPath,
    region: SIM_REGION,
    accountId: SIM_ACCOUNT,
    // The fleet's `nginx: true` instances run a real nginx and the real document script (memory where nginx is missing).
    nodeRuntime: 'nginx',
    nginxPaths: { certificatePath: config.nginx.certificatePath, keyPath: config.nginx.keyPath },
  });
  for (const line of sim.warnings) (options.warn ?? progress)(`warning: ${line}`);
  // The stack's deploy document, as CloudFormation would create it.
  for (const doc of workflow.ssmDocuments) sim.ssm.registerDocument(doc.name, doc.content);
  const approver = createApprover(approve, { announce: options.announce ?? progress });
  const pageFn = [...workflow.functions.values()].find((f) => f.handler === 'approval-page');
  if (!pageFn) throw new Error('the synthesized app has no approval-page function');
  // The real approval page on 127.0.0.1 (every --approve mode decides through it).
  const pageServer = await startApprovalServer(pageFn);
  const issuedTokens: string[] = [];
  const captured = captureOutput();
  sim.install();
  // A new rehearsal is a new set of Lambda containers: no configuration from an earlier run.
  coldStartAll();
  try {
    automatic?.attach(
      sim,
      { certPem: certs.staged.certificate, keyPem: certs.staged.privateKey, chainPem: certs.staged.chain ?? '' },
      certs.other,
    );
    sim.s3.createBucket(workflow.buckets.staging);
    sim.s3.createBucket(workflow.buckets.artifacts);
    sim.dynamodb.createTable(workflow.approvalTable.name, workflow.approvalTable.partitionKey);
    const canaryTarget = sim
      .targets()
      .find((t) => t.kind === 'elb' && t.id === config.canary.loadBalancerName && t.port === config.canary.port);
    if (canaryTarget) sim.addDnsAlias(config.canary.host, { host: canaryTarget.host });
    const views: TargetViews = {
      // What each target serves, seen as a client of the domain sees it (TLS, SNI = domain)...
      served: async (t) => {
        try {
          return (await probeTls({ host: '127.0.0.1', port: t.localPort, servername: config.domain })).sha256;
        } catch {
          return null;
        }
      },
      // ...and what the simulated API says each is configured with (reported beside, never instead).
      configured: (t) => t.configuredSha256(config.domain) || null,
    };
    const iamBefore = sim.iam.list().map((c) => c.name);
    const before = new Map<string, string | null>();
    const apiBefore = new Map<string, string | null>();
    for (const t of sim.targets()) {
      before.set(t.key, await views.served(t));
      apiBefore.set(t.key, views.configured(t));
    }

    const executionName = `rehearsal-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const staged = automatic
      ? automatic.input
      : await stageCertificate(
          sim,
          {
            ...(options.stageVia ? { via: options.stageVia } : {}),
            stagingBucket: workflow.buckets.staging,
            domain: config.domain,
            executionName,
          },
          certs,
        );
    await options.beforeStart?.(sim, {
      stateMachineArn: workflow.stateMachineArn,
      executionName,
      artifactBucket: workflow.buckets.artifacts,
    });
    // The execution to run: the one the expiry check started (schedule), or the operator's (console).
    const scheduled =
      options.trigger === 'schedule'
        ? await runScheduleTrigger({
            sim,
            workflow,
            progress,
            ...(options.automaticSource ? { automaticSource: options.automaticSource(staged.source) } : {}),
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
          input: { ...staged, ...(options.input ?? {}) },
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

    const approvals: RehearsalReport['approvals'] = [];
    const handlerFor = taskHandlers({
      sim,
      workflow,
      approver,
      pageUrl: pageServer.baseUrl,
      issuedTokens,
      progress,
      ...(options.aroundHandlerForTests ? { around: options.aroundHandlerForTests } : {}),
      approvals,
    });

    const accounting = new ExecutionAccounting({
      states,
      phaseOfState,
      gateNames,
      clock: sim.clock,
      progress,
      onExited: (state) => {
        if (state.name !== STATE.plan) return;
        const out = state.output as { plan?: { counts?: unknown } } | undefined;
        progress(`  targets: ${JSON.stringify(out?.plan?.counts ?? {})}`);
      },
    });
    const { history } = accounting;

    // The schedule may rightly start nothing: then no execution runs, and the report says so.
    let outcome: Outcome = { status: run ? 'SUCCEEDED' : 'NOT_STARTED' };
    if (run) {
      // Waits and retry pauses take `pauseMs` of real time; their simulated length is added to the clock.
      const execution = startLocalExecution(definition, run.input, {
        overrides: localOverrides(definition, { pauseMs, handlerFor }),
        context: {
          Execution: {
            Id: run.executionArn,
            Name: run.name,
            StartTime: run.startTime.toISOString(),
            Input: run.input as never,
            RoleArn: `arn:aws:iam::${SIM_ACCOUNT}:role/rehearsal`,
          },
          StateMachine: { Id: workflow.stateMachineArn, Name: workflow.stateMachineName },
          Task: { Token: 'filled-per-gate-by-the-rehearsal' },
        },
      });
      const consume = accounting.consume(execution.eventLogs);
      let output: unknown;
      try {
        output = await execution.result;
      } catch (e) {
        outcome = outcomeOf(e, accounting.gateTimedOut);
        history.push(JSON.stringify({ error: outcome.error }));
      }
      await consume;
      accounting.settle();
      history.push(JSON.stringify(output ?? null));
      sim.sfn.setExecutionStatus(run.executionArn, outcome.status === 'SUCCEEDED' ? 'SUCCEEDED' : 'FAILED');
    }
    // Commands sent keep running on the nodes after the workflow stopped looking: bring them up to now.
    await sim.ssm.runCommand.settle();
    const ranName = run?.name ?? executionName;

    const targets = await targetReports({
      sim,
      fleet,
      views,
      before,
      apiBefore,
      artifactBucket: workflow.buckets.artifacts,
      executionName: ranName,
    });
    // An automatic source's certificate is what the workflow stored (none when it failed first).
    const obtained = automatic?.obtained(sim, ranName);
    const newPem = obtained?.certificate ?? certs.staged.certificate;
    const newFacts = certificateFacts(newPem);
    const source =
      newFacts && (obtained || !automatic)
        ? { kind: automatic?.kind ?? ('staged' as const), issuer: summarizeCertificate(newPem).issuer }
        : undefined;
    const previous = certificateFactsOf(certs.current.certPem);
    const phases = accounting.phases(workflow.phases);
    const { status, error, rollbackIncomplete, rollbackStartedBy } = judgeRollback(outcome, targets, () =>
      sim.s3.getText(workflow.buckets.artifacts, `executions/${ranName}/report.json`),
    );
    const notifications = sim.sns.messages.map((m) => ({ subject: m.subject ?? '' }));
    const partial = {
      status,
      ...(error ? { error } : {}),
      ...(rollbackIncomplete ? { rollbackIncomplete } : {}),
      ...(rollbackStartedBy ? { rollbackStartedBy } : {}),
      execution: run?.name ?? '',
      trigger,
      certificate: { new: newFacts, previous },
      phases,
      targets,
      approvals,
      stateTransitions: accounting.stateTransitions,
      maxStatePayloadBytes: accounting.maxStatePayloadBytes,
      apiCalls: sim.apiCallCounts(),
      notifications,
      simulatedSeconds: Math.round(sim.clock.simulatedSeconds() * 10) / 10,
      pruned: iamBefore.filter((name) => !sim.iam.byName(name)),
      ...(sim.warnings.length > 0 ? { warnings: [...sim.warnings] } : {}),
      ...(source ? { source } : {}),
      ...pruneOf(sim.s3.getText(workflow.buckets.artifacts, `executions/${ranName}/report.json`)),
      ...skippedNodesOf(sim.s3.getText(workflow.buckets.artifacts, `executions/${ranName}/plan.json`)),
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
    const extra = automatic?.secrets(sim, ranName) ?? { keys: [], raw: [] };
    const keys = scanForKeys(docs, [certs.staged.privateKey, certs.current.keyPem, ...extra.keys], extra.raw);
    // Task tokens belong in the approval store only: anywhere else is a finding too.
    const secretScan = withTaskTokenFindings(keys, scanForTaskTokens(docs, issuedTokens));
    return { ...partial, secretScan };
  } finally {
    approver.close();
    await pageServer.close();
    captured.restore();
    await sim.close();
  }
}
