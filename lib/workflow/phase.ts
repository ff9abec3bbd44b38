import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { RotationFunction } from '../rotation-function';

/** The props every phase takes: where the work goes on, and where its errors go. */
export interface PhaseProps {
  /** The state after this phase. */
  readonly next: sfn.IChainable;
  /** The failure path (rollback, verify, report, fail): where errors, rejections and refusals go. */
  readonly onError: sfn.IChainable;
}

/**
 * A phase: a named group of states, built bottom-up like the Distributed Load Testing solution's
 * step functions. It receives the state after it and the failure path as readonly props, the
 * functions it invokes as props too (each phase file exports the factory that creates them and
 * grants what they need), and exposes its first state. It has the shape of a
 * `sfn.StateMachineFragment` (an IChainable) without being a construct of its own: its states
 * live in the CertRotation construct, so construct ids stay what they were. Its ends are already
 * wired to `props.next`, so `endStates` is empty.
 */
export abstract class Phase implements sfn.IChainable {
  public abstract readonly startState: sfn.State;
  public readonly endStates: sfn.INextable[] = [];
  /** Approval gates in this phase; each may wait its full timeout (the execution timeout allows for it). */
  public readonly gates: number = 0;

  protected constructor(public readonly id: string) {}
}

/** Functions keyed by handler folder, as `CertRotation.functions` exposes them. */
export type Functions<K extends string> = { readonly [P in K]: RotationFunction };
