/**
 * What makes a source "automatic": the workflow can obtain a certificate from it with no operator
 * (ACME, ACM), so the daily expiry check may start a rotation on its own. The source config
 * section (ACME/ACM) plugs in here: return the source a scheduled rotation starts with. While
 * this returns undefined (the staged source needs an operator), the check emails the steps instead.
 */
import type { AutomaticSource } from '../lambdas/expiry-check';
import type { ResolvedConfig } from './config';

export type { AutomaticSource } from '../lambdas/expiry-check';

/**
 * The automatic source of this config, or undefined (staged only). ACME (`certificateSource.acme`)
 * can issue a certificate without a person, so the check starts rotations with it. ACM is left
 * out on purpose: ACM renews on its own schedule, and its renewal event starts the rotation
 * (`certificateSource.acm.startOnRenewal`); exporting before ACM has renewed would only give the
 * same certificate back, which validation refuses.
 */
export function automaticSourceOf(config: ResolvedConfig): AutomaticSource | undefined {
  return config.certificateSource.acme ? { kind: 'acme', input: { acme: {} } } : undefined;
}
