/** The node phases: which instances each deploys to (through SSM Run Command), and how fast. */
import type { Problems } from '../../problems';
import { isObject } from '../../problems';
import { int, objectAt, str, strList } from '../fields';
import { defineSection } from '../section';
import type { NodePhaseConfig, NodeRolloutConfig, NodeTargets } from '../types';

const NODE_PHASE_FIELDS = ['name', 'targets', 'maxConcurrency', 'maxErrors'];
const TARGETS_FIELDS = ['tags', 'instanceIds'];
// SSM SendCommand's own patterns: a count or a percentage, no leading zeros, at most 7 characters.
const MAX_CONCURRENCY_RE = /^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$/;
const MAX_ERRORS_RE = /^(0|[1-9][0-9]{0,6}|[0-9]%|[1-9][0-9]%|100%)$/;
// EC2 instance ids: i- and 8 or 17 hex digits.
const INSTANCE_ID_RE = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

const ROLLOUT_FIELDS = ['unavailableNodes', 'pollSeconds', 'timeoutSeconds'];

export const nodePhasesSection = defineSection({
  keys: ['nodePhases', 'nodeRollout'],
  resolve(raw, p) {
    const rolloutRaw = objectAt(p, raw, 'nodeRollout', false, ROLLOUT_FIELDS) ?? {};
    const unavailable = rolloutRaw.unavailableNodes ?? 'refuse';
    if (unavailable !== 'refuse' && unavailable !== 'skip') p.add('nodeRollout.unavailableNodes', 'must be "refuse" or "skip"');
    const nodeRollout: Required<NodeRolloutConfig> = {
      unavailableNodes: unavailable === 'skip' ? 'skip' : 'refuse',
      pollSeconds: int(p, rolloutRaw, 'pollSeconds', 'nodeRollout.pollSeconds', 1, 3600, 15) ?? 15,
      timeoutSeconds: int(p, rolloutRaw, 'timeoutSeconds', 'nodeRollout.timeoutSeconds', 60, 86_400, 3600) ?? 3600,
    };
    const nodePhases: Array<Required<NodePhaseConfig>> = [];
    const phasesRaw = raw.nodePhases;
    if (phasesRaw === undefined) p.add('nodePhases', 'is required (use [] for no node phases)');
    else if (!Array.isArray(phasesRaw)) p.add('nodePhases', 'must be a list');
    else {
      const seen = new Set<string>();
      phasesRaw.forEach((value: unknown, i) => {
        const f = `nodePhases[${i}]`;
        const ph = p.object(value, f, NODE_PHASE_FIELDS);
        if (!ph) return;
        const name = str(p, ph, 'name', `${f}.name`, true);
        if (name !== undefined) {
          if (!/^[a-z0-9][a-z0-9-]{0,30}$/.test(name))
            p.add(`${f}.name`, `"${name}" must be lower-case letters, digits and - (at most 31)`);
          if (seen.has(name)) p.add(`${f}.name`, `"${name}" is used by another phase`);
          seen.add(name);
        }
        const maxConcurrency = ph.maxConcurrency === undefined ? '1' : ph.maxConcurrency;
        const maxErrors = ph.maxErrors === undefined ? '0' : ph.maxErrors;
        if (typeof maxConcurrency !== 'string' || !MAX_CONCURRENCY_RE.test(maxConcurrency)) {
          p.add(`${f}.maxConcurrency`, 'must be a string like "1" or "10%" (not "0")');
        }
        if (typeof maxErrors !== 'string' || !MAX_ERRORS_RE.test(maxErrors)) p.add(`${f}.maxErrors`, 'must be a string like "0" or "10%"');
        const targets = resolveTargets(ph.targets, `${f}.targets`, p);
        if (name) nodePhases.push({ name, targets, maxConcurrency: maxConcurrency as string, maxErrors: maxErrors as string });
      });
    }
    return { nodePhases, nodeRollout };
  },
});

function resolveTargets(value: unknown, f: string, p: Problems): NodeTargets {
  const t = p.object(value, f, TARGETS_FIELDS, 'must be an object with "tags" and/or "instanceIds"');
  if (!t) return {};
  const instanceIds = strList(p, t, 'instanceIds', `${f}.instanceIds`);
  instanceIds?.forEach((id, j) => {
    if (!INSTANCE_ID_RE.test(id)) p.add(`${f}.instanceIds[${j}]`, `"${id}" is not an instance id`);
  });
  let tags: Record<string, string[]> | undefined;
  if (t.tags !== undefined) {
    if (!isObject(t.tags) || Object.keys(t.tags).length === 0) p.add(`${f}.tags`, 'must be an object of tag name to list of values');
    else {
      tags = {};
      for (const [k, v] of Object.entries(t.tags)) {
        const vals = typeof v === 'string' ? [v] : v;
        if (!Array.isArray(vals) || vals.length === 0 || vals.length > 50 || vals.some((x) => typeof x !== 'string' || x === '')) {
          p.add(`${f}.tags.${k}`, 'must be a non-empty list of at most 50 strings');
        } else tags[k] = vals as string[];
      }
      if (Object.keys(t.tags).length > 5) p.add(`${f}.tags`, 'at most 5 tags (SSM Run Command target limit)');
    }
  }
  if (!tags && !instanceIds?.length) p.add(f, 'needs "tags" or "instanceIds"');
  return { ...(tags ? { tags } : {}), ...(instanceIds ? { instanceIds } : {}) };
}
