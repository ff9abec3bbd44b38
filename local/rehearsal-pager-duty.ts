/**
 * PagerDuty and monit in the rehearsal. When the config has `pagerDuty`: a token is put in the
 * simulated Secrets Manager under the configured secret name, the stand-in (local/pager-duty-standin.ts)
 * runs on 127.0.0.1 and knows the configured services, and every function the stack gives the
 * PagerDuty settings (PAGER_DUTY) reaches it through the rehearsal-only variable
 * PAGER_DUTY_REHEARSAL_API_URL (the stack never sets it; the handler takes it only as a loopback
 * origin; production stays https). The report's `pagerDuty` says what the stand-in saw, and when,
 * against the state-changing calls of the simulated account; `monit` what the simulated SSM holds.
 */
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../lib/config';
import { REHEARSAL_API_URL_VARIABLE } from '../lambdas/shared/pager-duty-maintenance';
import { startPagerDutyStandIn, type PagerDutyStandIn, type StandInFault } from './pager-duty-standin';
import type { SimulatedAccount } from './sim';
import type { SynthesizedWorkflow } from './template';

/** Calls that change a certificate or what serves it (what monit sees, the upload first): the window must cover them. */
const CHANGES =
  /^(iam:(Upload|Delete)ServerCertificate|elb:SetLoadBalancerListenerSSLCertificate|elbv2:(ModifyListener|AddListenerCertificates|RemoveListenerCertificates)|cloudfront:UpdateDistribution|ssm:SendCommand)$/;

/** The report's `pagerDuty` (only when the config has it). */
export interface PagerDutyReport {
  readonly serviceIds: readonly string[];
  /** The window the workflow opened for this execution (the first one), or null. */
  readonly windowId: string | null;
  /** A window for this execution was created (POST answered 201). */
  readonly opened: boolean;
  /** Every window of this execution was ended by the workflow's DELETE (204). */
  readonly closed: boolean;
  /** State-changing calls (upload, switches, node commands) the account had answered when the window was created: 0 expected. */
  readonly changesBeforeOpen: number | null;
  /** State-changing calls the account answered after the workflow's last DELETE: 0 expected. */
  readonly changesAfterClose: number | null;
  /** Every request, `METHOD /path STATUS` (`injected` when the stand-in failed it on purpose). */
  readonly requests: readonly string[];
  /** What the stand-in found wrong with any request's shape (headers, body): empty expected. */
  readonly problems: readonly string[];
}

/** The report's `monit` (only when the config has it): what the simulated SSM parameter holds at the end. */
export interface MonitReport {
  readonly parameter: string;
  readonly value: string | null;
  /** The value is the new certificate's MD5. */
  readonly matchesNew: boolean;
}

export interface RehearsalPagerDuty {
  /** The token (the secret scan searches for it everywhere). */
  readonly token: string;
  /** The workflow whose PagerDuty functions reach the stand-in. */
  readonly workflow: SynthesizedWorkflow;
  report(executionName: string): PagerDutyReport;
  close(): Promise<void>;
}

const changesSoFar = (sim: SimulatedAccount): number =>
  Object.entries(sim.apiCallCounts())
    .filter(([op]) => CHANGES.test(op))
    .reduce((n, [, count]) => n + count, 0);

/** Starts the stand-in and stores the token, or undefined when the config has no `pagerDuty`. */
export async function startRehearsalPagerDuty(p: {
  readonly config: ResolvedConfig;
  readonly workflow: SynthesizedWorkflow;
  readonly sim: SimulatedAccount;
  readonly faults?: readonly StandInFault[];
}): Promise<RehearsalPagerDuty | undefined> {
  const pd = p.config.pagerDuty;
  if (!pd) return undefined;
  // Shaped like a PagerDuty REST API key (20 characters), unguessable, new for every rehearsal.
  const token = `u+${randomBytes(18).toString('base64url')}`;
  p.sim.putSecret(pd.apiTokenSecretName, token);
  const seen: Array<{ readonly method: string; readonly changes: number }> = [];
  const standIn: PagerDutyStandIn = await startPagerDutyStandIn({
    token,
    serviceIds: pd.serviceIds,
    ...(p.faults ? { faults: p.faults } : {}),
    onRequest: (method) => seen.push({ method, changes: changesSoFar(p.sim) }),
  });
  const functions = new Map(
    [...p.workflow.functions].map(([arn, fn]) => [
      arn,
      'PAGER_DUTY' in fn.environment ? { ...fn, environment: { ...fn.environment, [REHEARSAL_API_URL_VARIABLE]: standIn.url } } : fn,
    ]),
  );
  return {
    token,
    workflow: { ...p.workflow, functions },
    report: (executionName) => {
      const mine = standIn.windows.filter((w) => w.description.includes(executionName));
      const created = standIn.requests.findIndex((r) => r.method === 'POST' && r.status === 201);
      const deletes = standIn.requests.map((r, i) => ({ r, i })).filter(({ r }) => r.method === 'DELETE' && r.status === 204);
      const lastDelete = deletes[deletes.length - 1];
      return {
        serviceIds: pd.serviceIds,
        windowId: mine[0]?.id ?? null,
        opened: mine.length > 0,
        closed: mine.length > 0 && mine.every((w) => w.endedAt !== undefined),
        changesBeforeOpen: created >= 0 ? (seen[created]?.changes ?? null) : null,
        changesAfterClose: lastDelete ? changesSoFar(p.sim) - (seen[lastDelete.i]?.changes ?? 0) : null,
        requests: standIn.requests.map((r) => `${r.method} ${r.path} ${r.status}${r.injected ? ' (injected)' : ''}`),
        problems: standIn.requests.filter((r) => !r.injected).flatMap((r) => r.problems.map((x) => `${r.method} ${r.path}: ${x}`)),
      };
    },
    close: () => standIn.close(),
  };
}

/** What monit's parameter holds in the simulated SSM at the end, or undefined when the config has no `monit`. */
export function monitReport(config: ResolvedConfig, sim: SimulatedAccount, newMd5: string | undefined): MonitReport | undefined {
  const name = config.monit?.fingerprintParameterName;
  if (!name) return undefined;
  const value = sim.ssm.parameters.get(name)?.value ?? null;
  return { parameter: name, value, matchesNew: value !== null && newMd5 !== undefined && value.toUpperCase() === newMd5.toUpperCase() };
}
