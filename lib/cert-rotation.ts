import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { ResolvedConfig } from './config';
import type { RotationNotifications } from './notifications';
import { CanaryApproval } from './phases/canary-approval';
import { CanaryEdge } from './phases/canary-edge';
import { Edge } from './phases/edge';
import { EdgeApproval } from './phases/edge-approval';
import { Finish } from './phases/finish';
import { NodePhase } from './phases/node-phase';
import { buildNodePhases } from './phases/node-phases';
import { Guard } from './phases/guard';
import { InputCheck } from './phases/input-check';
import { maintenanceWindowPhases } from './phases/maintenance-window';
import { Obtain } from './phases/obtain';
import { Plan } from './phases/plan';
import { Prune } from './phases/prune';
import { Rollback } from './phases/rollback';
import { StartApproval } from './phases/start-approval';
import { StartNotice } from './phases/start-notice';
import { Upload } from './phases/upload';
import { Validate } from './phases/validate';
import type { HandlerName, RotationFunction } from './rotation-function';
import type { RotationStorage } from './storage';
import { STATE, createApprovalFunctions, reportPhases, secretPrefix, type Phase, type PhaseContext } from './workflow';
import { restrictArtifactWriters } from './workflow/artifact-writers';
import { insertPhases, type PhaseFactory } from './workflow/phase';
import { rotationStateMachine } from './workflow/state-machine';

export { STATE } from './workflow';

export interface CertRotationProps {
  readonly config: ResolvedConfig;
  readonly storage: RotationStorage;
  readonly notifications: RotationNotifications;
  /** @default `CertRotation-<domain with dots as dashes>` */
  readonly stateMachineName?: string;
  /** Phases inserted after the last node phase, before prune, in order (tests add phases here). @default none */
  readonly extraPhases?: readonly PhaseFactory[];
}

/**
 * The rotation workflow (Standard, JSONPath), composed from `lib/phases/` (each states its purpose,
 * verification and error path): input check, guard, obtain, validate, plan, [approval], upload, canary,
 * [approval], edge, [approval], the node phases (beta, [approval], prod canary, [approval], prod), prune, finish. Any error but `AwsTransient` (retried), a rejection or a
 * gate timeout goes to rollback. Functions and states are created in flow order: logical ids are stable.
 */
export class CertRotation extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly functions: Readonly<Record<HandlerName, RotationFunction>>;
  public readonly stateMachineName: string;
  /** The report phases in flow order, each with the names of the states its phases declare (see `Phase.declared`). */
  public readonly phases: ReadonlyArray<{ readonly name: string; readonly states: readonly string[] }>;

  private readonly config: ResolvedConfig;

  constructor(scope: Construct, id: string, props: CertRotationProps) {
    super(scope, id);
    this.config = props.config;
    this.stateMachineName = props.stateMachineName ?? `CertRotation-${this.config.domain.replace(/\./g, '-')}`;
    const ctx: PhaseContext = {
      scope: this,
      config: props.config,
      storage: props.storage,
      notifications: props.notifications,
      stateMachineName: this.stateMachineName,
    };

    // Each phase's functions, with what that phase grants them.
    const fns = {
      ...InputCheck.createFunctions(ctx),
      ...Guard.createFunctions(ctx),
      ...Obtain.createFunctions(ctx),
      ...Validate.createFunctions(ctx),
      ...Plan.createFunctions(ctx),
      ...StartNotice.createFunctions(ctx),
      ...createApprovalFunctions(ctx),
      ...Upload.createFunctions(ctx),
      ...CanaryEdge.createFunctions(ctx),
      ...Edge.createFunctions(ctx),
      ...NodePhase.createFunctions(ctx),
      ...Rollback.createFunctions(ctx),
      ...Prune.createFunctions(ctx),
      ...Finish.createFunctions(ctx),
    };
    this.functions = fns;
    restrictArtifactWriters(props.storage, fns);

    // The phases, bottom-up: each receives the state after it and the failure path (`pager`: lib/phases/maintenance-window.ts).
    const pager = maintenanceWindowPhases(ctx);
    const onError = new Rollback(ctx, { functions: fns, ...(pager ? { beforeReport: pager.beforeReport } : {}) });
    const onTimeout = onError.onTimeout;
    const finish = new Finish(ctx, { functions: fns });
    const closing = pager?.close('success', finish);
    const prune = new Prune(ctx, { functions: fns, next: closing ?? finish });
    const extra = insertPhases(ctx, props.extraPhases ?? [], { next: prune, onError });
    const nodes = buildNodePhases(ctx, { functions: fns, next: extra.start, onError, onTimeout });
    const edgeApproval = new EdgeApproval(ctx, { functions: fns, next: nodes.start, onError, onTimeout });
    const edge = new Edge(ctx, { functions: fns, next: edgeApproval, onError });
    const canaryApproval = new CanaryApproval(ctx, { functions: fns, next: edge, onError, onTimeout });
    const canaryEdge = new CanaryEdge(ctx, { functions: fns, next: canaryApproval, onError });
    const upload = new Upload(ctx, { functions: fns, next: canaryEdge, onError });
    const opening = pager?.open({ next: upload, onError });
    const startApproval = new StartApproval(ctx, { functions: fns, next: opening ?? upload, onError, onTimeout });
    const startNotice = new StartNotice(ctx, { functions: fns, next: startApproval, onError, approvalFollows: STATE.gateStart });
    const plan = new Plan(ctx, { functions: fns, next: startNotice, onError });
    const validate = new Validate(ctx, { functions: fns, next: plan, onError });
    const obtain = new Obtain(ctx, { functions: fns, next: validate, onError });
    const guard = new Guard(ctx, { functions: fns, next: obtain, onError });
    const inputCheck = new InputCheck(ctx, { functions: fns, next: guard, onError });
    const phases: readonly Phase[] = [
      inputCheck,
      guard,
      obtain,
      validate,
      plan,
      startNotice,
      startApproval,
      ...(opening ? [opening] : []),
      upload,
      canaryEdge,
      canaryApproval,
      edge,
      edgeApproval,
      ...nodes.phases,
      ...extra.phases,
      prune,
      ...(closing ? [closing] : []),
      onError,
      finish,
    ];

    ({ stateMachine: this.stateMachine, logGroup: this.logGroup } = rotationStateMachine(this, {
      stateMachineName: this.stateMachineName,
      config: this.config,
      start: inputCheck,
      phases,
    }));
    this.phases = reportPhases(phases);
  }

  /** Staged and imported certificate secrets live under this prefix. */
  get secretPrefix(): string {
    return secretPrefix(this.config);
  }
}
