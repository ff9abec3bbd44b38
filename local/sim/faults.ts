/**
 * The faults file (REHEARSAL.md "Faults file"): errors injected into AWS calls, node faults and
 * state crashes. `parseFaults` validates; `FaultInjector` decides, call by call, which API call fails.
 */
import { createHash } from 'node:crypto';
import { SERVICE_PREFIXES } from './registry';
import type { FleetSpec } from './fleet';
import { cloudfrontTargetKey, elbTargetKey, elbv2TargetKey, isTargetKey, nodeTargetKey, TARGET_KEY_FORMS } from './target-keys';
import { isIntegerIn, isObject, operationPatternProblem, Problems, usageError } from './validate';

/**
 * Fails the first `count` calls that match `operation` with `error` (REHEARSAL.md). With `*` or
 * `service:*` that is the first N matching calls of any operation, in the order they arrive; name
 * one operation for a count that does not depend on how concurrent calls interleave.
 */
export interface ApiCountFault {
  /** `service:Operation`, `service:*` or `*`. */
  readonly operation: string;
  /** The AWS error code, e.g. `Throttling`, `CertificateNotFound`, `PreconditionFailed`. */
  readonly error: string;
  readonly count: number;
}

/**
 * Fails a `rate` fraction of the calls that match `operation`. Whether a call fails is decided from
 * a hash of (seed, operation, the call's input, how many times that same call was made before), so
 * the same calls fail in every run whatever order concurrent calls arrive in.
 */
export interface ApiRateFault {
  readonly operation: string;
  readonly error: string;
  /** In [0, 1]. */
  readonly rate: number;
  /** @default 1 */
  readonly seed: number;
}

/** A fault of a simulated instance, acted on by the node phases. */
export interface NodeFault {
  readonly instance: string;
  readonly fault: 'nginx-config-invalid' | 'offline';
}

/**
 * Makes the handler of a task state whose name contains `state` throw after its AWS calls took
 * effect: at its end, or (with `afterCalls`) right after its Nth state-changing AWS call.
 */
export interface StateFault {
  readonly state: string;
  readonly fault: 'crash-after-side-effects';
  /** How many times (the first N runs of that state). @default 1 */
  readonly count: number;
  /** Crash right after the Nth state-changing call of the task (Put, Create, Delete, Set, Modify...). @default at its end */
  readonly afterCalls?: number;
}

/**
 * A fault of the TLS endpoint of one target, named by its report key (`elb/NAME/PORT`,
 * `elbv2/NAME/PORT`, `cloudfront/ID`, `node/INSTANCE`). `serves-stale`: it keeps serving what it
 * served at the start, whatever the API says (a proxy in front, a stuck edge). `stuck-after-change`:
 * it keeps serving what it served after its first change (so a rollback cannot be verified there).
 */
export interface TargetFault {
  readonly target: string;
  readonly fault: 'serves-stale' | 'stuck-after-change';
}

/** One entry of the faults file. */
export type FaultSpec = ApiCountFault | ApiRateFault | NodeFault | StateFault | TargetFault;

/** An API fault (count or rate). */
export type ApiFault = ApiCountFault | ApiRateFault;

/** True for `{operation, error, count|rate}` entries. */
export function isApiFault(f: FaultSpec): f is ApiFault {
  return 'operation' in f;
}

/** True for `{operation, error, rate, seed}` entries. */
export function isRateFault(f: FaultSpec): f is ApiRateFault {
  return 'rate' in f;
}

/** True for `{instance, fault}` entries. */
export function isNodeFault(f: FaultSpec): f is NodeFault {
  return 'instance' in f;
}

/** True for `{state, fault, count}` entries. */
export function isStateFault(f: FaultSpec): f is StateFault {
  return 'state' in f;
}

/** True for `{target, fault}` entries. */
export function isTargetFault(f: FaultSpec): f is TargetFault {
  return 'target' in f;
}

const NODE_FAULTS = ['nginx-config-invalid', 'offline'] as const;
const TARGET_FAULTS = ['serves-stale', 'stuck-after-change'] as const;
const ERROR_CODE_RE = /^[A-Za-z][A-Za-z0-9.]{0,127}$/;

function checkOperation(value: unknown, path: string, p: Problems): string {
  if (typeof value !== 'string') {
    p.add(path, 'must be a string "service:Operation" or "*"');
    return '';
  }
  const problem = operationPatternProblem(value);
  if (problem?.kind === 'service') {
    p.add(path, `"${value}" must be "service:Operation", "service:*" or "*" with service one of ${SERVICE_PREFIXES.join(', ')}`);
  } else if (problem?.kind === 'operation') {
    p.add(path, `"${value}" is not a simulated operation (${problem.service}: ${problem.operations.join(', ')})`);
  }
  return value;
}

/**
 * Validates a faults file (already JSON-parsed: an array). Throws a UsageError that names `source`
 * and every bad field, e.g. `faults[2].rate: must be a number in [0,1]`. Instance names are checked
 * against the fleet by {@link checkFaultsAgainstFleet}.
 */
export function parseFaults(json: unknown, source: string): FaultSpec[] {
  const p = new Problems();
  if (!Array.isArray(json)) {
    p.add('faults', 'must be a JSON array');
    p.throwIfAny(usageError(source, 'faults file'));
  }
  const out: FaultSpec[] = [];
  (json as unknown[]).forEach((raw, i) => {
    const path = `faults[${i}]`;
    if (!isObject(raw)) {
      p.add(path, 'must be an object');
      return;
    }
    if ('operation' in raw) {
      p.unknownFields(raw, path, ['operation', 'error', 'count', 'rate', 'seed']);
      const operation = checkOperation(raw.operation, `${path}.operation`, p);
      const error = typeof raw.error === 'string' ? raw.error : '';
      if (typeof raw.error !== 'string' || !ERROR_CODE_RE.test(raw.error)) {
        p.add(`${path}.error`, 'must be an AWS error code like "Throttling" or "CertificateNotFound"');
      }
      const hasCount = raw.count !== undefined;
      const hasRate = raw.rate !== undefined;
      if (hasCount === hasRate) {
        p.add(path, 'needs exactly one of "count" (fail the first N calls) or "rate" (fail that fraction)');
        return;
      }
      if (hasCount) {
        if (!isIntegerIn(raw.count, 1, 1_000_000)) p.add(`${path}.count`, 'must be an integer >= 1');
        if (raw.seed !== undefined) p.add(`${path}.seed`, 'only goes with "rate"');
        out.push({ operation, error, count: Number(raw.count) });
      } else {
        const rate = raw.rate;
        if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1) {
          p.add(`${path}.rate`, 'must be a number in [0,1]');
        }
        if (raw.seed !== undefined && !isIntegerIn(raw.seed, -(2 ** 31), 2 ** 32 - 1)) {
          p.add(`${path}.seed`, 'must be a 32-bit integer');
        }
        out.push({ operation, error, rate: Number(rate), seed: raw.seed === undefined ? 1 : Number(raw.seed) });
      }
    } else if ('instance' in raw) {
      p.unknownFields(raw, path, ['instance', 'fault']);
      if (typeof raw.instance !== 'string' || raw.instance.length === 0) p.add(`${path}.instance`, 'must be an instance id');
      if (!(NODE_FAULTS as readonly unknown[]).includes(raw.fault)) {
        p.add(`${path}.fault`, `must be one of ${NODE_FAULTS.map((f) => `"${f}"`).join(', ')}`);
      }
      out.push({ instance: String(raw.instance), fault: raw.fault as NodeFault['fault'] });
    } else if ('state' in raw) {
      p.unknownFields(raw, path, ['state', 'fault', 'count', 'afterCalls']);
      if (typeof raw.state !== 'string' || raw.state.trim().length === 0) {
        p.add(`${path}.state`, 'must be a non-empty substring of a task state name');
      }
      if (raw.fault !== 'crash-after-side-effects') p.add(`${path}.fault`, 'must be "crash-after-side-effects"');
      if (raw.count !== undefined && !isIntegerIn(raw.count, 1, 1000)) p.add(`${path}.count`, 'must be an integer >= 1');
      if (raw.afterCalls !== undefined && !isIntegerIn(raw.afterCalls, 1, 100_000)) {
        p.add(`${path}.afterCalls`, 'must be an integer >= 1 (crash right after that many state-changing AWS calls of the task)');
      }
      out.push({
        state: String(raw.state),
        fault: 'crash-after-side-effects',
        count: raw.count === undefined ? 1 : Number(raw.count),
        ...(raw.afterCalls === undefined ? {} : { afterCalls: Number(raw.afterCalls) }),
      });
    } else if ('target' in raw) {
      p.unknownFields(raw, path, ['target', 'fault']);
      if (!isTargetKey(raw.target)) p.add(`${path}.target`, `must be a target key as in the report: ${TARGET_KEY_FORMS}`);
      if (!(TARGET_FAULTS as readonly unknown[]).includes(raw.fault)) {
        p.add(`${path}.fault`, `must be one of ${TARGET_FAULTS.map((f) => `"${f}"`).join(', ')}`);
      }
      out.push({ target: String(raw.target), fault: raw.fault as TargetFault['fault'] });
    } else {
      p.add(path, 'must have an "operation" (API fault), "instance" (node fault), "state" (state fault) or "target" (target fault) field');
    }
  });
  p.throwIfAny(usageError(source, 'faults file'));
  return out;
}

/** The report keys (target-keys.ts) of every place of the fleet that serves a certificate over TLS. */
export function fleetTargetKeys(fleet: FleetSpec): string[] {
  return [
    ...fleet.elbs.flatMap((e) => e.listeners.filter((l) => l.certificate !== undefined).map((l) => elbTargetKey(e.name, l.port))),
    ...fleet.albs.flatMap((a) => a.listeners.map((l) => elbv2TargetKey(a.name, l.port))),
    ...fleet.distributions.map((d) => cloudfrontTargetKey(d.id)),
    ...fleet.instances.map((inst) => nodeTargetKey(inst.id)),
  ];
}

/** Checks the node and target faults against the fleet: each instance and target must exist. Throws a UsageError. */
export function checkFaultsAgainstFleet(faults: readonly FaultSpec[], fleet: FleetSpec, source: string): void {
  const p = new Problems();
  const ids = new Set(fleet.instances.map((i) => i.id));
  const keys = fleetTargetKeys(fleet);
  const targetFaults = new Map<string, number>();
  faults.forEach((f, i) => {
    if (isNodeFault(f) && !ids.has(f.instance)) {
      p.add(`faults[${i}].instance`, `"${f.instance}" is not an instance of the fleet (${[...ids].join(', ') || 'none'})`);
    }
    if (isTargetFault(f)) {
      if (!keys.includes(f.target)) {
        const kind = f.target.split('/')[0];
        const sameKind = keys.filter((k) => k.startsWith(`${kind}/`));
        p.add(
          `faults[${i}].target`,
          `"${f.target}" is not a TLS target of the fleet (${sameKind.join(', ') || keys.join(', ') || 'none'})`,
        );
      } else if (targetFaults.has(f.target)) {
        p.add(`faults[${i}].target`, `"${f.target}" already has a target fault (faults[${targetFaults.get(f.target)}]): one per target`);
      }
      targetFaults.set(f.target, i);
    }
  });
  p.throwIfAny(usageError(source, 'faults file'));
}

/** True when the fault's `operation` pattern matches `operation`. */
export function operationMatches(pattern: string, operation: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith(':*')) return operation.startsWith(pattern.slice(0, -1));
  return pattern === operation;
}

/** A number in [0, 1) from a hash of the parts: the same parts give the same number in every run. */
export function seededFraction(...parts: ReadonlyArray<string | number>): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0) / 4294967296;
}

/**
 * Input fields that carry content, secrets or per-run values (tokens, ETags, bodies): left out of
 * a call's key, so that the key names the call (which resource, which page) and repeats across runs.
 */
const UNKEYED_FIELDS = new Set([
  'Body',
  'PrivateKey',
  'CertificateBody',
  'CertificateChain',
  'SecretString',
  'SecretBinary',
  'Message',
  'Subject',
  'MessageAttributes',
  'output',
  'cause',
  'error',
  'taskToken',
  'IfMatch',
  'DistributionConfig',
  'Tags',
  'Value',
  'Description',
  'ClientRequestToken',
  'ContentType',
  'Metadata',
  // SSM Run Command: the sim's random command ids, and the document parameters (the expected
  // fingerprint is the run's own certificate's).
  'CommandId',
  'Parameters',
]);

/**
 * A canonical key of a call's input: its identifying fields (sorted, content left out), with
 * per-run strings (execution names, random ARN suffixes) replaced by `normalize`.
 */
export function callKey(input: unknown, normalize: (s: string) => string = (s) => s): string {
  const canonical = (v: unknown): unknown => {
    if (typeof v === 'string') return normalize(v);
    if (Array.isArray(v)) return v.map(canonical);
    if (v instanceof Uint8Array || v instanceof Date) return '<data>';
    if (typeof v === 'object' && v !== null) {
      return Object.fromEntries(
        Object.keys(v)
          .filter((k) => !UNKEYED_FIELDS.has(k) && (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(canonical(input ?? {}));
}

/**
 * Decides which calls fail. Faults are evaluated in file order; the first that fires wins (later
 * faults are not evaluated for that call). A count fault fails the first N calls it matches
 * (REHEARSAL.md), so it is order-independent when it names one operation; a rate fault decides from {@link seededFraction} of (seed, operation, the
 * call's key, the occurrence of that same call), which does not depend on the order in which
 * calls of different operations, or different calls of one operation, arrive.
 */
export class FaultInjector {
  private readonly entries: Array<{ fault: ApiFault; seen: Map<string, number>; fired: number }>;

  constructor(faults: readonly FaultSpec[]) {
    this.entries = faults.filter(isApiFault).map((fault) => ({ fault, seen: new Map<string, number>(), fired: 0 }));
  }

  /** The fault to fail this call with, or undefined to let it through. `key` is the call's {@link callKey}. */
  check(operation: string, key: string = ''): ApiFault | undefined {
    for (const entry of this.entries) {
      if (!operationMatches(entry.fault.operation, operation)) continue;
      const fault = entry.fault;
      let fires: boolean;
      if (isRateFault(fault)) {
        const call = `${operation}\u0000${key}`;
        const occurrence = entry.seen.get(call) ?? 0;
        entry.seen.set(call, occurrence + 1);
        fires = seededFraction(fault.seed, operation, key, occurrence) < fault.rate;
      } else {
        // One counter per fault: "the first N calls" it matches, whatever their operation.
        const seen = (entry.seen.get('') ?? 0) + 1;
        entry.seen.set('', seen);
        fires = seen <= fault.count;
      }
      if (fires) {
        entry.fired += 1;
        return fault;
      }
    }
    return undefined;
  }

  /** How many calls each API fault failed so far, in file order (for the report). */
  firedCounts(): Array<{ fault: ApiFault; fired: number }> {
    return this.entries.map((e) => ({ fault: e.fault, fired: e.fired }));
  }
}
