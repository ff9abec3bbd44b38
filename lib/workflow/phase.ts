import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { RotationFunction } from '../rotation-function';
import type { PhaseContext } from './context';

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
  /** The longest this phase's gates may wait in all (the sum of their timeouts). */
  public readonly gateTimeoutSeconds: number = 0;

  /**
   * @param id the phase's id
   * @param reportPhase the report phase its states belong to (the rehearsal report's phase name)
   * @param handsOver where it hands over (its `next`, failure path, gate timeout): states reachable
   *   from there belong to other phases
   */
  protected constructor(
    public readonly id: string,
    public readonly reportPhase: string,
    private readonly handsOver: readonly sfn.IChainable[] = [],
  ) {}

  /**
   * The report phases this phase declares, each with the names of the states its builder created:
   * every state reachable from its start (error handlers included, nested Map and Parallel states
   * too) that is not reachable from where it hands over. A phase whose states report under more than
   * one name overrides {@link parts}.
   */
  public get declared(): ReadonlyArray<{ readonly name: string; readonly states: readonly string[] }> {
    return this.parts().map((p) => ({ name: p.name, states: p.starts.flatMap((s) => ownedStates(s, p.until ?? this.handsOver)) }));
  }

  /** The names of every state this phase created. */
  public get stateNames(): readonly string[] {
    return this.declared.flatMap((d) => d.states);
  }

  protected parts(): ReadonlyArray<{
    readonly name: string;
    readonly starts: readonly sfn.State[];
    readonly until?: readonly sfn.IChainable[];
  }> {
    return [{ name: this.reportPhase, starts: [this.startState] }];
  }
}

/** State names reachable from `start` but not from any of `until`, nested states included (in order). */
function ownedStates(start: sfn.State, until: readonly sfn.IChainable[]): string[] {
  const reach = (s: sfn.State) => sfn.State.findReachableStates(s, { includeErrorHandlers: true });
  const others = new Set(until.flatMap((u) => reach(u.startState)));
  return reach(start)
    .filter((s) => !others.has(s))
    .flatMap((s) => [s.stateId, ...nestedNames(s.toStateJson())]);
}

/** Names of the states inside a Map's ItemProcessor/Iterator or a Parallel's Branches, at any depth. */
function nestedNames(json: object): string[] {
  const state = json as { ItemProcessor?: Graph; Iterator?: Graph; Branches?: Graph[] };
  const graphs = [state.ItemProcessor, state.Iterator, ...(state.Branches ?? [])].filter((g): g is Graph => g !== undefined);
  return graphs.flatMap((g) => Object.entries(g.States ?? {}).flatMap(([name, s]) => [name, ...nestedNames(s)]));
}
type Graph = { readonly States?: Record<string, object> };

/** Builds a phase from where it hands over: the state after it and the failure path. */
export type PhaseFactory = (ctx: PhaseContext, props: PhaseProps) => Phase;

/**
 * Chains the phases that `factories` build, in order, in front of `props.next`: how a test adds a
 * phase to the workflow (`CertRotationProps.extraPhases`) without editing the composer. Returns
 * where to go instead of `props.next`, and the phases (their declarations go into the report).
 */
export function insertPhases(
  ctx: PhaseContext,
  factories: readonly PhaseFactory[],
  props: PhaseProps,
): { readonly start: sfn.IChainable; readonly phases: readonly Phase[] } {
  const phases: Phase[] = [];
  let next = props.next;
  for (const build of [...factories].reverse()) {
    const phase = build(ctx, { next, onError: props.onError });
    phases.unshift(phase);
    next = phase;
  }
  return { start: next, phases };
}

/** Functions keyed by handler folder, as `CertRotation.functions` exposes them. */
export type Functions<K extends string> = { readonly [P in K]: RotationFunction };

/** The phases' declarations merged by report phase name, in the order each name first appears. */
export function reportPhases(phases: readonly Phase[]): Array<{ name: string; states: string[] }> {
  const byName = new Map<string, string[]>();
  for (const d of phases.flatMap((p) => p.declared)) byName.set(d.name, [...(byName.get(d.name) ?? []), ...d.states]);
  return [...byName].map(([name, states]) => ({ name, states }));
}
