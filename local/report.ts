import { summarizeCertificate, type CertificateSummary } from '../lambdas/shared/certificate';
import { RollbackIncomplete } from '../lambdas/shared/errors';
import type { LedgerEntry } from '../lambdas/shared/ledger';
import { targetKey } from '../lambdas/shared/targets';
import type { ApprovalReport } from './task-handlers';
import type { PhaseReport } from './phase-accounting';
import type { TriggerReport } from './schedule-trigger';
import type { SecretScanResult } from './secret-scan';
import { elbTargetKey, reportKeyOfLedgerKey, type FleetSpec, type SimTarget, type SimulatedAccount } from './sim';
import type { MonitReport, PagerDutyReport } from './rehearsal-pager-duty';

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
  /** Nodes: what ran it, a real nginx (its TLS seen above is that nginx's) or the in-memory emulation. */
  readonly runtime?: 'nginx' | 'memory';
}

export interface RehearsalReport {
  /** NOT_STARTED: `--trigger schedule` rightly started nothing (`trigger` says why); no execution ran. */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'REJECTED' | 'ROLLBACK_INCOMPLETE' | 'NOT_STARTED';
  readonly error?: string;
  /** ROLLBACK_INCOMPLETE: the keys of every target that is not back on what it served before. */
  readonly rollbackIncomplete?: string[];
  /** ROLLBACK_INCOMPLETE: the error that stopped the rotation and started the rollback. */
  readonly rollbackStartedBy?: string;
  /** The execution that ran; empty when none did (NOT_STARTED). */
  readonly execution: string;
  /** How the execution was started: `console`, or what the scheduled expiry check saw and decided (REHEARSAL.md). */
  readonly trigger: TriggerReport;
  readonly certificate: { readonly new: CertificateFacts | null; readonly previous: CertificateFacts };
  /** FAILED when any state of the phase failed (a Catch taking over included); retries = the engine's StateRetried events. */
  readonly phases: PhaseReport[];
  readonly targets: TargetReport[];
  /** Each gate's decision, approver and comment, as the approval store recorded them. */
  readonly approvals: ApprovalReport[];
  readonly stateTransitions: number;
  readonly maxStatePayloadBytes: number;
  readonly apiCalls: Record<string, number>;
  readonly notifications: Array<{ readonly subject: string }>;
  readonly secretScan: SecretScanResult;
  readonly simulatedSeconds: number;
  /** IAM server certificates the account held at the start and no longer holds at the end: what was pruned, observed. */
  readonly pruned: string[];
  /** What the workflow's prune phase says it pruned and kept (with why), or its error; absent when it did not run. */
  readonly prune?: PruneReport;
  /** What the rehearsal could not do as asked (nginx missing: its nodes ran in memory); absent when none. */
  readonly warnings?: string[];
  /**
   * Nodes of a node phase that the plan left out because SSM cannot run the command there (not
   * managed, not Online), with `nodeRollout.unavailableNodes` = `skip`; from the plan the workflow
   * wrote. Absent when none (with `refuse`, the default, the `error` names them instead).
   */
  readonly skippedNodes?: SkippedNode[];
  /** Where the new certificate came from (`--source`) and its issuer as the workflow stored it; absent when none was obtained. */
  readonly source?: { readonly kind: 'staged' | 'acme' | 'acm'; readonly issuer: string };
  /** A gate timed out with `approvals.onTimeout: stop` (status FAILED, error GateTimedOut): where, and what was kept. */
  readonly stopped?: StoppedAtGate;
  /** With `pagerDuty` in the config: what the local stand-in saw (local/rehearsal-pager-duty.ts); absent otherwise. */
  readonly pagerDuty?: PagerDutyReport;
  /** With `monit` in the config: what its SSM parameter holds at the end, and whether that is the new MD5; absent otherwise. */
  readonly monit?: MonitReport;
}

/**
 * The report's `stopped`: the rotation stopped at a gate after a timeout and kept every change, on
 * purpose (no rollback ran), which is not a rollback that failed. What is on which certificate is
 * observed over TLS; the workflow's own account is beside it.
 */
export interface StoppedAtGate {
  readonly gate: string;
  readonly stateName: string;
  readonly timeoutSeconds: number;
  /** Always true: nothing was rolled back. */
  readonly changesKept: true;
  /** Targets that serve the new certificate now and did not before (TLS). */
  readonly keptOnNew: string[];
  /** What the workflow's report says it kept on the new certificate (its ledger), as report keys. */
  readonly workflowKeptOnNew: string[];
  /** Targets that serve neither what they served before nor the new certificate (TLS): none in a consistent stop. */
  readonly neitherCertificate: string[];
  /** Every target serves what it served before or the new certificate, and the ones on the new one are the ones the workflow kept. */
  readonly consistent: boolean;
}

/** The error the execution ends with when a gate timed out and the config says stop (lib/workflow/names.ts ERR.gateTimedOut). */
export const GATE_TIMED_OUT = 'GateTimedOut';

/**
 * A stop at a gate (error `GateTimedOut`): the status stays FAILED (the rotation did not complete),
 * and `stopped` says where, what is kept on the new certificate (seen over TLS and as the workflow
 * says), and whether every target serves a valid certificate (the previous one or the new one).
 * Undefined when the execution did not end that way.
 */
export function judgeStop(
  outcome: Outcome,
  targets: readonly TargetReport[],
  newSha256: string | undefined,
  workflowReportText: () => string | undefined,
): StoppedAtGate | undefined {
  if (outcome.status !== 'FAILED' || !outcome.error?.startsWith(`${GATE_TIMED_OUT}:`)) return undefined;
  const workflow = (JSON.parse(workflowReportText() ?? '{}') as { stopped?: Partial<StoppedAtGate> }).stopped ?? {};
  const tls = targets.filter((t) => t.before !== null || t.servedAfter !== null);
  const keptOnNew = tls.filter((t) => t.changed && t.servedAfter === newSha256).map((t) => t.key);
  const neitherCertificate = tls.filter((t) => t.changed && t.servedAfter !== newSha256).map((t) => t.key);
  const workflowKeptOnNew = [...new Set((workflow.keptOnNew ?? []).map(reportKeyOfLedgerKey))];
  const same = keptOnNew.length === workflowKeptOnNew.length && keptOnNew.every((k) => workflowKeptOnNew.includes(k));
  return {
    gate: workflow.gate ?? '?',
    stateName: workflow.stateName ?? '?',
    timeoutSeconds: workflow.timeoutSeconds ?? 0,
    changesKept: true,
    keptOnNew,
    workflowKeptOnNew,
    neitherCertificate,
    consistent: neitherCertificate.length === 0 && same,
  };
}

export interface SkippedNode {
  readonly instanceId: string;
  readonly name: string;
  readonly phase: string;
  readonly reason: string;
}

/** The nodes the workflow's plan.json (text, or undefined) says it skipped, as the rehearsal reports them. */
export function skippedNodesOf(planText: string | undefined): { skippedNodes?: SkippedNode[] } {
  const plan = JSON.parse(planText ?? '{}') as { nodePhases?: Array<{ skipped?: SkippedNode[] }> };
  const skipped = (plan.nodePhases ?? []).flatMap((p) => p.skipped ?? []);
  return skipped.length > 0
    ? { skippedNodes: skipped.map(({ instanceId, name, phase, reason }) => ({ instanceId, name, phase, reason })) }
    : {};
}

/** The workflow's own account of pruning (its report.json `prune`), beside the observed `pruned`. */
export interface PruneReport {
  readonly pruned: string[];
  readonly kept: Array<{ readonly name: string; readonly reason: string }>;
  readonly error?: string;
}

/** The `prune` field of the workflow's report.json (text, or undefined when there is none), as the rehearsal reports it. */
export function pruneOf(workflowReport: string | undefined): { prune?: PruneReport } {
  const prune = (JSON.parse(workflowReport ?? '{}') as { prune?: Partial<PruneReport> | null }).prune;
  if (!prune) return {};
  return { prune: { pruned: prune.pruned ?? [], kept: prune.kept ?? [], ...(prune.error ? { error: prune.error } : {}) } };
}

/** The error an execution ends with when its rollback could not be verified. */
const ROLLBACK_INCOMPLETE = new RollbackIncomplete('').name;

/** The report key of a ledger target (the same keys as {@link TargetReport.key}; local/sim/target-keys.ts). */
function reportKeyOf(target: LedgerEntry['target']): string {
  return reportKeyOfLedgerKey(targetKey(target));
}

function facts(s: CertificateSummary): CertificateFacts {
  return { serial: s.serial, sha256: s.sha256, md5: s.md5, notAfter: s.notAfter };
}

/** The report's facts of a certificate, or null when it does not parse (a bad staged certificate). */
export function certificateFacts(pem: string): CertificateFacts | null {
  try {
    return facts(summarizeCertificate(pem));
  } catch {
    return null;
  }
}

/** The report's facts of a certificate that must parse (the simulated current one). */
export function certificateFactsOf(pem: string): CertificateFacts {
  return facts(summarizeCertificate(pem));
}

/** How the rehearsal sees a target: over TLS (SNI = domain) and through the simulated API. */
export interface TargetViews {
  readonly served: (t: SimTarget) => Promise<string | null>;
  readonly configured: (t: SimTarget) => string | null;
}

/** The report keys of the targets the change ledger says the rollback restored. */
function rolledBackKeys(sim: SimulatedAccount, artifactBucket: string, executionName: string): Set<string> {
  const ledgerPrefix = `executions/${executionName}/ledger/`;
  const ledger: LedgerEntry[] = [...(sim.s3.buckets.get(artifactBucket)?.keys() ?? [])]
    .filter((k) => k.startsWith(ledgerPrefix))
    .map((k) => JSON.parse(sim.s3.getText(artifactBucket, k) ?? '{}') as LedgerEntry);
  return new Set(ledger.filter((e) => e.status === 'rolled-back' && e.note !== 'was not switched').map((e) => reportKeyOf(e.target)));
}

/**
 * Every target of the fleet at the end: what TLS saw before and after, what the API said before
 * and says now, and whether the ledger says it was rolled back. Listeners without TLS (HTTP/TCP)
 * carry no certificate; they are reported, untouched.
 */
export async function targetReports(params: {
  readonly sim: SimulatedAccount;
  readonly fleet: FleetSpec;
  readonly views: TargetViews;
  readonly before: ReadonlyMap<string, string | null>;
  readonly apiBefore: ReadonlyMap<string, string | null>;
  readonly artifactBucket: string;
  readonly executionName: string;
}): Promise<TargetReport[]> {
  const { sim, views } = params;
  const rolledBack = rolledBackKeys(sim, params.artifactBucket, params.executionName);
  const targets: TargetReport[] = [];
  for (const t of sim.targets()) {
    const servedAfter = await views.served(t);
    const b = params.before.get(t.key) ?? null;
    targets.push({
      key: t.key,
      kind: t.kind,
      id: t.id,
      ...((t.name ?? t.loadBalancerName) ? { name: t.name ?? t.loadBalancerName } : {}),
      port: t.port,
      before: b,
      apiBefore: params.apiBefore.get(t.key) ?? null,
      // What the account says is configured for the domain now (ELBv2: its SNI certificate for the domain, else the default).
      after: views.configured(t),
      servedAfter,
      changed: servedAfter !== b,
      rolledBack: rolledBack.has(t.key),
      ...(t.kind === 'node' ? { runtime: sim.nodes.runtimeOf(t.id) } : {}),
    });
  }

  for (const elb of params.fleet.elbs) {
    for (const l of elb.listeners.filter((x) => x.protocol === 'HTTP' || x.protocol === 'TCP')) {
      targets.push({
        key: elbTargetKey(elb.name, l.port),
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
  return targets;
}

/** How the execution ended, as the report says it. */
export interface Outcome {
  readonly status: RehearsalReport['status'];
  readonly error?: string;
  readonly rollbackIncomplete?: string[];
  readonly rollbackStartedBy?: string;
}

/**
 * A rollback that could not be verified: what the workflow says is not back (its report), and
 * what the rehearsal itself sees over TLS is not back, whatever the workflow says.
 */
export function judgeRollback(outcome: Outcome, targets: readonly TargetReport[], workflowReportText: () => string | undefined): Outcome {
  let { status, error } = outcome;
  if (status === 'SUCCEEDED') return outcome;
  const workflowReport = JSON.parse(workflowReportText() ?? '{}') as { notBack?: string[]; error?: string };
  const notBack = new Set([
    ...(workflowReport.notBack ?? []).map(reportKeyOfLedgerKey),
    ...targets.filter((t) => t.servedAfter !== t.before).map((t) => t.key),
  ]);
  if (notBack.size === 0 && !error?.startsWith(`${ROLLBACK_INCOMPLETE}:`)) return outcome;
  status = 'ROLLBACK_INCOMPLETE';
  const rollbackIncomplete = targets.filter((t) => notBack.has(t.key)).map((t) => t.key);
  const rollbackStartedBy = error?.startsWith(`${ROLLBACK_INCOMPLETE}:`) ? workflowReport.error : error;
  for (const k of notBack) if (!rollbackIncomplete.includes(k)) rollbackIncomplete.push(k);
  if (!error?.startsWith(`${ROLLBACK_INCOMPLETE}:`)) {
    error = `${ROLLBACK_INCOMPLETE}: the rehearsal sees ${rollbackIncomplete.join(', ')} not back over TLS, although the execution ended with ${error ?? 'no error'}`;
  }
  return {
    status,
    ...(error !== undefined ? { error } : {}),
    rollbackIncomplete,
    ...(rollbackStartedBy !== undefined ? { rollbackStartedBy } : {}),
  };
}
