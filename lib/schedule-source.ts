/**
 * What makes a source "automatic": the workflow can obtain a certificate from it with no operator
 * (ACME, ACM), so the daily expiry check may start a rotation on its own. The source config
 * section (ACME/ACM) plugs in here: return the source a scheduled rotation starts with. While
 * this returns undefined (the staged source needs an operator), the check emails the steps instead.
 */
import type { AutomaticSource } from '../lambdas/expiry-check';
import type { ResolvedConfig } from './config';

export type { AutomaticSource } from '../lambdas/expiry-check';

/** The automatic source of this config, or undefined (staged only). */
export function automaticSourceOf(config: ResolvedConfig): AutomaticSource | undefined {
  void config;
  return undefined;
}
