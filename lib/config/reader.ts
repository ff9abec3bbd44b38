/**
 * Reads the deployment config: one typed block in `cdk.json` context (key `certRotation`),
 * validated at synth; the local rehearsal reads the same schema from a file
 * (`npm start -- --config FILE`). Every section validates and defaults its own keys into one
 * problem collector, so every problem is reported together, each message naming the field.
 */
import { isObject, Problems } from '../problems';
import type { ConfigSection } from './section';
import { approvalsSection } from './sections/approvals';
import { canarySection } from './sections/canary';
import { certificateSourceSection } from './sections/certificate-source';
import { domainSection } from './sections/domain';
import { edgeSection } from './sections/edge';
import { monitSection } from './sections/monit';
import { nginxSection } from './sections/nginx';
import { nodeAccessSection } from './sections/node-access';
import { nodePhasesSection } from './sections/node-phases';
import { notificationsSection } from './sections/notifications';
import { pagerDutySection } from './sections/pager-duty';
import { scheduleSection } from './sections/schedule';
import { pruneSection } from './sections/prune';
import { timingSection } from './sections/timing';
import { trustSection } from './sections/trust';
import type { ResolvedConfig } from './types';

/** The context key in cdk.json. */
export const CONFIG_CONTEXT_KEY = 'certRotation';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid certRotation config:\n  - ${problems.join('\n  - ')}`);
  }
}

/** The sections, in the order their problems are reported (and their keys appear in ResolvedConfig). */
const SECTIONS = [
  domainSection,
  canarySection,
  edgeSection,
  nodePhasesSection,
  nginxSection,
  approvalsSection,
  notificationsSection,
  scheduleSection,
  trustSection,
  timingSection,
  pruneSection,
  pagerDutySection,
  monitSection,
  nodeAccessSection,
  certificateSourceSection,
] as const;

type KeysOf<S> = S extends ConfigSection<infer K> ? K : never;
type NoneLeft<Fields extends never> = Fields;
/** Fails typecheck, naming the field, while a field of ResolvedConfig has no section in SECTIONS. */
export type EveryFieldHasASection = NoneLeft<Exclude<keyof ResolvedConfig, KeysOf<(typeof SECTIONS)[number]>>>;

/** Validates raw JSON (from cdk.json context or a file) and fills in the defaults. */
export function resolveConfig(raw: unknown): ResolvedConfig {
  if (!isObject(raw)) throw new ConfigError([`${CONFIG_CONTEXT_KEY}: must be an object`]);
  // The config names an unknown field without listing the known ones (the README does).
  const p = new Problems({ unknownField: () => 'unknown field' });
  p.unknownFields(
    raw,
    '',
    SECTIONS.flatMap((s): readonly string[] => s.keys),
  );
  const parts = SECTIONS.map((s): object | undefined => s.resolve(raw, p));
  p.throwIfAny((problems) => new ConfigError(problems));
  if (parts.some((part) => part === undefined)) throw new ConfigError(['config is incomplete']);
  return Object.assign({}, ...parts) as ResolvedConfig;
}

/** The config from the CDK context (bin/app.ts, `cdk synth`). */
export function configFromContext(node: { tryGetContext(key: string): unknown }): ResolvedConfig {
  return resolveConfig(node.tryGetContext(CONFIG_CONTEXT_KEY));
}

/** A config file (the rehearsal's `--config`) is the certRotation block itself, or a cdk.json that holds it. */
export function configBlockOf(json: unknown): unknown {
  const context = isObject(json) ? json.context : undefined;
  return isObject(context) && CONFIG_CONTEXT_KEY in context ? context[CONFIG_CONTEXT_KEY] : json;
}
