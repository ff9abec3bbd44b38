/**
 * The one target-key scheme of the simulator, the faults file and the rehearsal report
 * (REHEARSAL.md): `elb/NAME/PORT`, `elbv2/NAME/PORT`, `cloudfront/ID`, `node/INSTANCE`.
 *
 * The workflow's change ledger (lambdas/shared/targets.ts `targetKey`) names the same places, with
 * two refinements: an ELBv2 key adds the certificate's role on the listener
 * (`elbv2/NAME/PORT/default|sni`) and a node key adds its phase (`node/PHASE/INSTANCE`).
 * {@link reportKeyOfLedgerKey} maps one to the other; a test holds both modules to the same targets.
 * This module does not import lambdas/: the simulator stays an oracle of its own.
 */

/** The kinds of place that serve a certificate. */
export type TargetKind = 'elb' | 'elbv2' | 'cloudfront' | 'node';

/** `elb/NAME/PORT`: a classic ELB's HTTPS/SSL listener. */
export function elbTargetKey(loadBalancerName: string, port: number): string {
  return `elb/${loadBalancerName}/${port}`;
}

/** `elbv2/NAME/PORT`: an ALB/NLB's HTTPS/TLS listener (its default and SNI certificates together). */
export function elbv2TargetKey(loadBalancerName: string, port: number): string {
  return `elbv2/${loadBalancerName}/${port}`;
}

/** `cloudfront/ID`: a distribution. */
export function cloudfrontTargetKey(distributionId: string): string {
  return `cloudfront/${distributionId}`;
}

/** `node/INSTANCE`: an instance's nginx on 443. */
export function nodeTargetKey(instanceId: string): string {
  return `node/${instanceId}`;
}

/** The forms, as error messages name them. */
export const TARGET_KEY_FORMS = '"elb/NAME/PORT", "elbv2/NAME/PORT", "cloudfront/ID" or "node/INSTANCE"';

/** A parsed target key. */
export type ParsedTargetKey =
  | { readonly kind: 'elb' | 'elbv2'; readonly loadBalancerName: string; readonly port: number }
  | { readonly kind: 'cloudfront'; readonly distributionId: string }
  | { readonly kind: 'node'; readonly instanceId: string };

/** Parses a key of this scheme; undefined when it is not one. */
export function parseTargetKey(key: string): ParsedTargetKey | undefined {
  const lb = /^(elb|elbv2)\/([^/]+)\/(\d+)$/.exec(key);
  if (lb) return { kind: lb[1] as 'elb' | 'elbv2', loadBalancerName: lb[2], port: Number(lb[3]) };
  const one = /^(cloudfront|node)\/([^/]+)$/.exec(key);
  if (!one) return undefined;
  return one[1] === 'cloudfront' ? { kind: 'cloudfront', distributionId: one[2] } : { kind: 'node', instanceId: one[2] };
}

/** True for a key of this scheme. */
export function isTargetKey(key: unknown): key is string {
  return typeof key === 'string' && parseTargetKey(key) !== undefined;
}

/**
 * The report key of a change-ledger key: `elbv2/NAME/PORT/ROLE` -> `elbv2/NAME/PORT`,
 * `node/PHASE/INSTANCE` -> `node/INSTANCE`; the other keys are the same in both.
 */
export function reportKeyOfLedgerKey(key: string): string {
  return key.replace(/^(elbv2\/[^/]+\/\d+)\/(default|sni)$/, '$1').replace(/^node\/[^/]+\/([^/]+)$/, 'node/$1');
}
