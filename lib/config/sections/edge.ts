/** Which edge targets (ELB listeners, ALBs, CloudFront distributions) the rotation may touch, and how the edge rollout paces itself. */
import type { JsonObject, Problems } from '../../problems';
import { int, objectAt, strList } from '../fields';
import { defineSection } from '../section';
import type { EdgeServiceNumbers, ResolvedEdge } from '../types';

/** Per-service numbers of the edge rollout: each service's own default, an integer in range. */
function perService(p: Problems, edgeRaw: JsonObject | undefined, key: string, max: number, dflt: EdgeServiceNumbers): EdgeServiceNumbers {
  const v = edgeRaw?.[key];
  if (v === undefined) return dflt;
  const o = p.object(v, `edge.${key}`, ['elb', 'elbv2', 'cloudfront']);
  if (!o) return dflt;
  return {
    elb: int(p, o, 'elb', `edge.${key}.elb`, 1, max, dflt.elb)!,
    elbv2: int(p, o, 'elbv2', `edge.${key}.elbv2`, 1, max, dflt.elbv2)!,
    cloudfront: int(p, o, 'cloudfront', `edge.${key}.cloudfront`, 1, max, dflt.cloudfront)!,
  };
}

export const edgeSection = defineSection({
  keys: ['edge'],
  resolve(raw, p) {
    const edgeRaw = objectAt(p, raw, 'edge', false, [
      'include',
      'exclude',
      'batchSize',
      'maxConcurrency',
      'callConcurrency',
      'deployTimeoutSeconds',
      'deployPollSeconds',
    ]);
    const edge: ResolvedEdge = {
      include: (edgeRaw && strList(p, edgeRaw, 'include', 'edge.include')) ?? [],
      exclude: (edgeRaw && strList(p, edgeRaw, 'exclude', 'edge.exclude')) ?? [],
      batchSize: perService(p, edgeRaw, 'batchSize', 5000, { elb: 1000, elbv2: 200, cloudfront: 250 }),
      maxConcurrency: perService(p, edgeRaw, 'maxConcurrency', 40, { elb: 2, elbv2: 2, cloudfront: 2 }),
      callConcurrency: perService(p, edgeRaw, 'callConcurrency', 50, { elb: 4, elbv2: 4, cloudfront: 3 }),
      deployTimeoutSeconds: int(p, edgeRaw ?? {}, 'deployTimeoutSeconds', 'edge.deployTimeoutSeconds', 60, 86_400, 2700)!,
      deployPollSeconds: int(p, edgeRaw ?? {}, 'deployPollSeconds', 'edge.deployPollSeconds', 5, 600, 30)!,
    };
    if (edge.deployTimeoutSeconds < edge.deployPollSeconds) p.add('edge.deployTimeoutSeconds', 'must be at least edge.deployPollSeconds');
    return { edge };
  },
});
