/** Pruning old IAM certificates of the domain after a successful rotation. */
import { int, objectAt } from '../fields';
import { defineSection } from '../section';

export const pruneSection = defineSection({
  keys: ['prune'],
  resolve(raw, p) {
    const pruneRaw = objectAt(p, raw, 'prune', false, ['keep']) ?? {};
    return { prune: { keep: int(p, pruneRaw, 'keep', 'prune.keep', 1, 100, 1)! } };
  },
});
