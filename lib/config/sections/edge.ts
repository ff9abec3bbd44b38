/** Which edge targets (ELB listeners, ALBs, CloudFront distributions) the rotation may touch. */
import { objectAt, strList } from '../fields';
import { defineSection } from '../section';

export const edgeSection = defineSection({
  keys: ['edge'],
  resolve(raw, p) {
    const edgeRaw = objectAt(p, raw, 'edge', false, ['include', 'exclude']);
    return {
      edge: {
        include: (edgeRaw && strList(p, edgeRaw, 'include', 'edge.include')) ?? [],
        exclude: (edgeRaw && strList(p, edgeRaw, 'exclude', 'edge.exclude')) ?? [],
      },
    };
  },
});
