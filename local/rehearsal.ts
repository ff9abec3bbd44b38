import './polyfill';
import type { ResolvedConfig } from '../lib/config';
import { STATE } from '../lib/cert-rotation';
import { coldStartAll } from '../lambdas/shared/env';
import { summarizeCertificate } from '../lambdas/shared/certificate';
import { probeTls } from '../lambdas/shared/tls-probe';
import { createApprover } from './approver';
import { startApprovalServer } from './approval-server';
import { prepareAutomaticSource, type RehearsalSource } from './automatic-source';
import { captureOutput } from './capture';
import { prepareCertificates } from './certificates';
import { localOverrides, startLocalExecution, type EngineState } from './local-engine';
import { ExecutionAccounting, phasesOfStates } from './phase-accounting';
import type { RehearsalOptions } from './rehearsal-options';
import { namedGateTimeout, rehearsalGates } from './rehearsal-gates';
import { monitReport, startRehearsalPagerDuty } from './rehearsal-pager-duty';
import { scanRehearsal } from './rehearsal-scan';
import { chooseExecution, outcomeOf, stageCertificate, type Certificates } from './rehearsal-start';
import {
  certificateFacts,
  certificateFactsOf,
  judgeRollback,
  judgeStop,
  pruneOf,
  skippedNodesOf,
  targetReports,
  type Outcome,
  type RehearsalReport,
  type TargetViews,
} from './report';
import { notStartedOutcome } from './schedule-trigger';
import { SimulatedAccount } from './sim';
import { CALLBACK_RESOURCE, taskHandlers, WaitingGates } from './task-handlers';
import { synthesizeWorkflow, SIM_ACCOUNT, SIM_REGION } from './template';
import { statesByName, type AslMachine } from './walk-states';

export { phasesOfStates, type DeclaredPhases, type PhaseReport } from './phase-accounting';
export type { CertificateFacts, RehearsalReport, TargetReport } from './report';
export type { RehearsalOptions } from './rehearsal-options';

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
  const synthesized = synthesizeWorkflow(config, options.extraPhases ? { extraPhases: options.extraPhases } : {});
  const definition = synthesized.definition as AslMachine<EngineState>;
  // Every state, nested ones (Map, Parallel) included.
  const states = statesByName(definition);
  const phaseOfState = phasesOfStates(definition, synthesized.phases);
  const gateNames = [...states].filter(([, s]) => s.Resource === CALLBACK_RESOURCE).map(([n]) => n);
  // `reject:GATE` / `timeout:GATE` must name a gate; the one that times out runs with a short real TimeoutSeconds.
  const gates = rehearsalGates(approve, states, gateNames);

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
  // With `pagerDuty`: its token in the simulated Secrets Manager, the stand-in on 127.0.0.1, the functions pointed at it.
  const pagerDuty = await startRehearsalPagerDuty({
    config,
    workflow: synthesized,
    sim,
    ...(options.pagerDutyFaultsForTests ? { faults: options.pagerDutyFaultsForTests } : {}),
  });
  const workflow = pagerDuty?.workflow ?? synthesized;
  // The stack's deploy document, as CloudFormation would create it.
  for (const doc of workflow.ssmDocuments) sim.ssm.registerDocument(doc.name, doc.content);
  const approver = createApprover(approve, {
    announce: options.announce ?? progress,
    ...(gates.timeoutGate ? { timeoutGate: gates.timeoutGate } : {}),
  });
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
    const { trigger, run } = await chooseExecution({
      sim,
      workflow,
      progress,
      executionName,
      staged,
      ...(options.trigger ? { trigger: options.trigger } : {}),
      ...(options.automaticSource ? { automaticSource: options.automaticSource } : {}),
      ...(options.input ? { input: options.input } : {}),
    });

    const approvals: RehearsalReport['approvals'] = [];
    const waitingGates = new WaitingGates(sim);
    const handlerFor = taskHandlers({
      waitingGates,
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
      onGateTimedOut: (state) => waitingGates.timedOut(state),
      onExited: (state) => {
        if (state.name !== STATE.plan) return;
        const out = state.output as { plan?: { counts?: unknown } } | undefined;
        progress(`  targets: ${JSON.stringify(out?.plan?.counts ?? {})}`);
      },
    });
    const { history } = accounting;

    // The schedule may rightly start nothing: then no execution runs, and the report says so.
    let outcome: Outcome = run ? { status: 'SUCCEEDED' } : notStartedOutcome(trigger);
    if (run) {
      // Waits and retry pauses take `pauseMs` of real time; their simulated length is added to the clock.
      const execution = startLocalExecution(definition, run.input, {
        overrides: localOverrides(definition, { pauseMs, handlerFor }),
        timeoutOverrides: gates.timeoutOverrides,
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
    const workflowReport = () => sim.s3.getText(workflow.buckets.artifacts, `executions/${ranName}/report.json`);
    outcome = namedGateTimeout(outcome, accounting.gateTimedOut, workflowReport);
    // A stop at a gate (onTimeout: stop) kept its changes on purpose: judged as such, not as a rollback.
    const stopped = judgeStop(outcome, targets, newFacts?.sha256, workflowReport);
    const { status, error, rollbackIncomplete, rollbackStartedBy } = stopped ? outcome : judgeRollback(outcome, targets, workflowReport);
    const notifications = sim.sns.messages.map((m) => ({ subject: m.subject ?? '' }));
    const partial = {
      status,
      ...(error ? { error } : {}),
      ...(rollbackIncomplete ? { rollbackIncomplete } : {}),
      ...(rollbackStartedBy ? { rollbackStartedBy } : {}),
      ...(stopped ? { stopped } : {}),
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
      ...(pagerDuty ? { pagerDuty: pagerDuty.report(ranName) } : {}),
      ...monitOf(monitReport(config, sim, newFacts?.md5)),
    };
    const secretScan = scanRehearsal({
      history,
      captured,
      workflow,
      sim,
      report: partial,
      keys: [certs.staged.privateKey, certs.current.keyPem],
      extra: withToken(automatic?.secrets(sim, ranName) ?? { keys: [], raw: [] }, pagerDuty?.token),
      issuedTokens,
    });
    return { ...partial, secretScan };
  } finally {
    approver.close();
    await pageServer.close();
    captured.restore();
    await pagerDuty?.close();
    await sim.close();
  }
}

/** The PagerDuty token is a secret too: the scan searches for it (as the EAB HMAC) everywhere. */
const withToken = (extra: { keys: readonly string[]; raw: readonly string[] }, token: string | undefined) =>
  token ? { keys: extra.keys, raw: [...extra.raw, token] } : extra;
const monitOf = <T>(monit: T | undefined) => (monit ? { monit } : {});
