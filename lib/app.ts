import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { CertRotationStack } from './cert-rotation-stack';
import { configFromContext, type ResolvedConfig } from './config';
import { acknowledgeNagFindings } from './nag';
import type { PhaseFactory } from './workflow';

export interface BuildAppOptions {
  /** Use this config instead of the `certRotation` context. */
  readonly config?: ResolvedConfig;
  /** Extra context (e.g. `aws:cdk:bundling-stacks: []` to skip bundling). */
  readonly context?: Record<string, unknown>;
  /** @default true */
  readonly nag?: boolean;
  /** Tests only: phases inserted before finish (`CertRotationProps.extraPhases`). @default none */
  readonly extraPhases?: readonly PhaseFactory[];
}

/** Builds the CDK app: bin/app.ts (cdk synth/deploy), the construct tests and the local rehearsal use this. */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: CertRotationStack; config: ResolvedConfig } {
  const app = new App(options.context ? { context: options.context } : {});
  const config = options.config ?? configFromContext(app.node);
  const stack = new CertRotationStack(app, `CertRotation-${config.domain.replace(/\./g, '-')}`, {
    config,
    description: `TLS certificate rotation for ${config.domain}`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
    ...(options.extraPhases ? { extraPhases: options.extraPhases } : {}),
  });
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    acknowledgeNagFindings(stack);
  }
  return { app, stack, config };
}
