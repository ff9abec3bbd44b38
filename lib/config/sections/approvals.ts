/** The approval gates: how long each waits, and what a timeout does. */
import { isObject, type JsonObject, type Problems } from '../../problems';
import { int, objectAt } from '../fields';
import { defineSection } from '../section';

/**
 * `rollback` restores every changed target (verified) and reports the gate as timed out, as a
 * rejection does. `stop` ends the execution at the gate with every change kept (each changed
 * target was verified on the new certificate before the gate), and the finish report and email
 * say what is on which certificate and how to finish or undo.
 */
const ON_TIMEOUT = ['rollback', 'stop'] as const;
const MIN_TIMEOUT = 60;
const MAX_TIMEOUT = 7 * 86400;

/** `beta` -> `Beta`, `prod-canary` -> `ProdCanary` (as the node phases name their states). */
function pascal(name: string): string {
  return name
    .split('-')
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
}

/**
 * The names of the approval gates a config builds, in flow order: `start`, `canary`, `edge`, then
 * `nodes<Phase>` after every node phase but the last (`nodesBeta`, `nodesProdCanary`). They are
 * the gates' names in the state (`$.approvals.<gate>`), in the approval store and in
 * `approvals.gates`; a construct test holds this list to the gates the workflow really builds.
 */
export function gateNamesOf(nodePhaseNames: readonly string[]): string[] {
  return ['start', 'canary', 'edge', ...nodePhaseNames.slice(0, -1).map((n) => `nodes${pascal(n)}`)];
}

/** The node phase names of the raw config, as far as they are readable (their own section reports what is wrong). */
function nodePhaseNamesOf(raw: JsonObject): string[] {
  const phases = raw.nodePhases;
  if (!Array.isArray(phases)) return [];
  return phases.map((p: unknown) => (isObject(p) && typeof p.name === 'string' ? p.name : '')).filter((n) => n !== '');
}

function resolveGates(value: unknown, known: readonly string[], p: Problems): Record<string, { timeoutSeconds: number }> {
  if (value === undefined) return {};
  if (!isObject(value)) {
    p.add('approvals.gates', `must be an object of gate name to { "timeoutSeconds": N } (gates: ${known.join(', ')})`);
    return {};
  }
  const gates: Record<string, { timeoutSeconds: number }> = {};
  for (const [name, settings] of Object.entries(value)) {
    const field = `approvals.gates.${name}`;
    if (!known.includes(name)) {
      p.add(field, `is not an approval gate of this config (gates: ${known.join(', ')})`);
      continue;
    }
    const g = p.object(settings, field, ['timeoutSeconds'], 'must be an object { "timeoutSeconds": N }');
    if (!g) continue;
    const timeoutSeconds = int(p, g, 'timeoutSeconds', `${field}.timeoutSeconds`, MIN_TIMEOUT, MAX_TIMEOUT);
    if (timeoutSeconds !== undefined) gates[name] = { timeoutSeconds };
  }
  return gates;
}

export const approvalsSection = defineSection({
  keys: ['approvals'],
  resolve(raw, p) {
    const approvalsRaw = objectAt(p, raw, 'approvals', false, ['timeoutSeconds', 'onTimeout', 'gates', 'approverRoleArns']) ?? {};
    // Approvers decide on the approval page now; nobody but the page's role reads a task token.
    if (approvalsRaw.approverRoleArns !== undefined) {
      p.add(
        'approvals.approverRoleArns',
        'is no longer used: approvers decide on the approval page linked from the email, and only the page reads the task token; remove it',
      );
    }
    const onTimeout = approvalsRaw.onTimeout ?? 'rollback';
    if (typeof onTimeout !== 'string' || !(ON_TIMEOUT as readonly string[]).includes(onTimeout)) {
      p.add('approvals.onTimeout', `must be one of ${ON_TIMEOUT.map((v) => `"${v}"`).join(', ')}`);
    }
    return {
      approvals: {
        timeoutSeconds: int(p, approvalsRaw, 'timeoutSeconds', 'approvals.timeoutSeconds', MIN_TIMEOUT, MAX_TIMEOUT, 86400)!,
        onTimeout: onTimeout === 'stop' ? 'stop' : 'rollback',
        gates: resolveGates(approvalsRaw.gates, gateNamesOf(nodePhaseNamesOf(raw)), p),
      },
    };
  },
});

/** The timeout of one gate: its own `approvals.gates.<gate>.timeoutSeconds`, else `approvals.timeoutSeconds`. */
export function gateTimeoutSeconds(
  approvals: { readonly timeoutSeconds: number; readonly gates: Readonly<Record<string, { readonly timeoutSeconds: number }>> },
  gate: string,
): number {
  return approvals.gates[gate]?.timeoutSeconds ?? approvals.timeoutSeconds;
}
