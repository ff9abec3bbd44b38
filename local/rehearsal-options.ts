import type { ResolvedConfig } from '../lib/config';
import type { AutomaticSource } from '../lib/schedule-source';
import type { PhaseFactory } from '../lib/workflow';
import type { ApproveMode } from './approver';
import type { RehearsalSourceOptions, SourceKind } from './automatic-source';
import type { FaultSpec, FleetSpec, SimulatedAccount } from './sim';
import type { StandInFault } from './pager-duty-standin';
import type { AroundHandler } from './task-handlers';

/** What one rehearsal runs: the CLI's flags (local/cli.ts) and what only tests set. */
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
  /** Tests only (the CLI never sets it): failures the PagerDuty stand-in answers with (PagerDuty down, a refused DELETE). */
  readonly pagerDutyFaultsForTests?: readonly StandInFault[];
  /** Tests only (the CLI never sets it): phases inserted before finish, as `CertRotationProps.extraPhases`. */
  readonly extraPhases?: readonly PhaseFactory[];
}
