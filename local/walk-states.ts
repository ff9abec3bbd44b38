/**
 * Every state of an ASL definition, nested ones included: the states of a Map's iterator
 * (`ItemProcessor`, or the older `Iterator`) and of each Parallel branch, recursively. The
 * rehearsal (local handlers, Wait and Retry overrides, gates, report phases) and the construct
 * tests' invariants both walk the definition through here, so a state inside a Map or Parallel is
 * never skipped by one and seen by the other.
 */

/** A (nested) state machine: a definition, a Map iterator or a Parallel branch. */
export interface AslMachine<S = AslStateShape> {
  readonly StartAt?: string;
  readonly States?: Readonly<Record<string, S>>;
}

/** As much of a state as the walk reads. */
export interface AslStateShape {
  readonly Type?: string;
  readonly Iterator?: AslMachine;
  readonly ItemProcessor?: AslMachine;
  readonly Branches?: readonly AslMachine[];
}

export interface WalkedState<S> {
  readonly name: string;
  readonly state: S;
  /** Where it sits in the definition, as JSON keys: `['States', 'Fan out', 'Branches', '0', 'States', 'Each', 'ItemProcessor', 'States', NAME]`. */
  readonly path: readonly string[];
  /** The Map and Parallel states that enclose it, outermost first; empty at the top level. */
  readonly parents: readonly string[];
  /** The (nested) machine whose `States` hold it: its `StartAt` and its sibling states. */
  readonly machine: AslMachine<S>;
}

/** Each state, depth first: a Map or Parallel state comes before the states nested in it. */
export function* walkStates<S>(definition: AslMachine<S>): Generator<WalkedState<S>> {
  yield* walk(definition, [], []);
}

function* walk<S>(machine: AslMachine<S>, at: readonly string[], parents: readonly string[]): Generator<WalkedState<S>> {
  for (const [name, state] of Object.entries<S>(machine.States ?? {})) {
    const path = [...at, 'States', name];
    yield { name, state, path, parents, machine };
    const s = state as AslStateShape;
    const inner = [...parents, name];
    if (s.ItemProcessor) yield* walk(s.ItemProcessor as AslMachine<S>, [...path, 'ItemProcessor'], inner);
    if (s.Iterator) yield* walk(s.Iterator as AslMachine<S>, [...path, 'Iterator'], inner);
    for (const [i, branch] of (s.Branches ?? []).entries()) yield* walk(branch as AslMachine<S>, [...path, 'Branches', String(i)], inner);
  }
}

/**
 * Every state by name, nested ones included. Step Functions requires state names to be unique in
 * the whole state machine, and the local engine keys its overrides by name alone, so a repeated
 * name is an error (naming both places), not a silent overwrite.
 */
export function statesByName<S>(definition: AslMachine<S>): Map<string, S> {
  const byName = new Map<string, S>();
  const where = new Map<string, readonly string[]>();
  for (const { name, state, path } of walkStates(definition)) {
    const seen = where.get(name);
    if (seen) throw new Error(`state name "${name}" is used twice: at ${seen.join('.')} and at ${path.join('.')}`);
    where.set(name, path);
    byName.set(name, state);
  }
  return byName;
}
