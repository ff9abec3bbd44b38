/**
 * Helpers of the construct tests: synthesize the app once (bundling skipped), read the state
 * machine definition and the IAM statements of a role out of the template.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { App, CfnElement } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../lib/app';
import type { CertRotationStack } from '../../lib/cert-rotation-stack';
import { resolveConfig, type ResolvedConfig } from '../../lib/config';
import type { HandlerName } from '../../lib/rotation-function';
import { statesByName, walkStates, type WalkedState } from '../../local/walk-states';

export const REPO_ROOT = path.join(__dirname, '..', '..');

type Json = Record<string, unknown>;

/** The `certRotation` block of cdk.json, a fresh copy on every call. */
export function exampleRawConfig(): Json {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context: { certRotation: Json } };
  return structuredClone(cdkJson.context.certRotation);
}

export function exampleConfig(): ResolvedConfig {
  return resolveConfig(exampleRawConfig());
}

export interface Synthesized {
  readonly app: App;
  readonly stack: CertRotationStack;
  readonly config: ResolvedConfig;
  readonly template: Template;
  readonly json: CfnTemplate;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Json;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly [key: string]: unknown;
}

/** Context that skips esbuild bundling: fast, and no Docker/esbuild needed. */
export const SKIP_BUNDLING = { 'aws:cdk:bundling-stacks': [] } as const;

/**
 * Builds the app like the CDK CLI would, but env-agnostic (CDK_DEFAULT_ACCOUNT/REGION of the
 * machine are ignored, so the template is the same everywhere) and without bundling. Does not
 * synthesize: the caller may still change the tree (the first `app.synth()` is cached).
 */
export function buildStack(
  config: ResolvedConfig,
  options: { readonly nag?: boolean } = {},
): { readonly app: App; readonly stack: CertRotationStack } {
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  delete process.env.CDK_DEFAULT_ACCOUNT;
  delete process.env.CDK_DEFAULT_REGION;
  try {
    const { app, stack } = buildApp({ config, context: { ...SKIP_BUNDLING }, nag: options.nag ?? false });
    return { app, stack };
  } finally {
    if (saved.account !== undefined) process.env.CDK_DEFAULT_ACCOUNT = saved.account;
    if (saved.region !== undefined) process.env.CDK_DEFAULT_REGION = saved.region;
  }
}

/** `buildStack`, then synthesize the template (nag off unless asked). */
export function synthesize(config: ResolvedConfig, options: { readonly nag?: boolean } = {}): Synthesized {
  const { app, stack } = buildStack(config, options);
  const template = Template.fromStack(stack);
  return { app, stack, config, template, json: template.toJSON() as CfnTemplate };
}

/** The logical id of an L2's default child (or of a CfnElement). */
export function logicalIdOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  const stack = element.stack;
  return stack.resolve(stack.getLogicalId(element)) as string;
}

/**
 * Flattens CloudFormation intrinsics into readable strings: `{ Ref: X }` -> `${X}`,
 * `{ Fn::GetAtt: [X, A] }` -> `${X.A}`, `Fn::Join` joined, `Fn::Sub` kept as its template.
 * Placeholders hold no quote or backslash, so a flattened JSON document still parses.
 */
export function flatten(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(flatten);
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Json;
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const [k] = keys;
    const arg = obj[k];
    if (k === 'Ref') return `\${${String(arg)}}`;
    if (k === 'Fn::GetAtt') {
      const [id, attr] = arg as [string, string];
      return `\${${id}.${attr}}`;
    }
    if (k === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map((p) => String(flatten(p))).join(sep);
    }
    if (k === 'Fn::Sub' && typeof arg === 'string') return arg;
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, flatten(v)]));
}

// ----- the state machine definition --------------------------------------------------------------

export interface AslRetrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
}

export interface AslCatcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath?: string | null;
  readonly Next: string;
}

export interface AslState {
  readonly Type: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly Resource?: string;
  readonly Parameters?: Json;
  readonly TimeoutSeconds?: number;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly AslRetrier[];
  readonly Catch?: readonly AslCatcher[];
  readonly Choices?: ReadonlyArray<Json & { readonly Next: string }>;
  readonly Default?: string;
  readonly Seconds?: number;
  readonly Error?: string;
  readonly Cause?: string;
  readonly ErrorPath?: string;
  readonly CausePath?: string;
  readonly [key: string]: unknown;
}

export interface AslDefinition {
  readonly StartAt: string;
  readonly States: Record<string, AslState>;
  readonly TimeoutSeconds?: number;
  readonly [key: string]: unknown;
}

export function stateMachineResource(json: CfnTemplate): CfnResource {
  const machines = Object.values(json.Resources).filter((r) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (machines.length !== 1) throw new Error(`expected one state machine, found ${machines.length}`);
  return machines[0];
}

/** The state machine definition, with function ARNs as `${<FunctionLogicalId>.Arn}`. */
export function definitionOf(json: CfnTemplate): AslDefinition {
  const raw = stateMachineResource(json).Properties?.DefinitionString;
  const text = typeof raw === 'string' ? raw : flatten(raw);
  if (typeof text !== 'string') throw new Error('DefinitionString did not flatten to a string');
  return JSON.parse(text) as AslDefinition;
}

/** Every state of the definition, nested ones (Map iterators, Parallel branches) included. */
export function allStates(definition: AslDefinition): Array<WalkedState<AslState>> {
  return [...walkStates<AslState>(definition)];
}

/** A state by name, nested ones included (names are unique across the whole state machine). */
export function stateNamed(definition: AslDefinition, name: string): AslState {
  const st = statesByName<AslState>(definition).get(name);
  if (!st) throw new Error(`no state "${name}" in the definition`);
  return st;
}

/**
 * What is wrong with the transitions, in every (nested) machine of the definition: a transition
 * to a state outside its own machine (a Map iterator or Parallel branch cannot leave itself), a
 * state with no way out, a state its machine's StartAt does not reach.
 */
export function transitionProblems(definition: AslDefinition): string[] {
  const problems: string[] = [];
  const machines = new Set(allStates(definition).map((w) => w.machine));
  for (const machine of machines) {
    const states = machine.States ?? {};
    const reached = new Set<string>();
    const queue = [machine.StartAt ?? ''];
    while (queue.length > 0) {
      const name = queue.shift() as string;
      if (reached.has(name) || !Object.hasOwn(states, name)) continue;
      reached.add(name);
      queue.push(...successors(states[name]));
    }
    for (const [name, st] of Object.entries(states)) {
      for (const next of successors(st))
        if (!Object.hasOwn(states, next)) problems.push(`"${name}" goes to "${next}", not a state of its machine`);
      const terminal = st.Type === 'Succeed' || st.Type === 'Fail' || st.End === true;
      if (!terminal && successors(st).length === 0) problems.push(`"${name}" has no way out`);
      if (!reached.has(name)) problems.push(`"${name}" is not reachable from "${machine.StartAt}"`);
    }
  }
  return problems;
}

/** Every state name a state can go to next. */
export function successors(state: AslState): string[] {
  return [
    ...(state.Next ? [state.Next] : []),
    ...(state.Default ? [state.Default] : []),
    ...(state.Choices ?? []).map((c) => c.Next),
    ...(state.Catch ?? []).map((c) => c.Next),
  ];
}

// ----- IAM ------------------------------------------------------------------------------------------

export interface Statement {
  readonly effect: string;
  readonly actions: readonly string[];
  /** Flattened (see `flatten`). */
  readonly resources: readonly string[];
  readonly policyLogicalId: string;
  /** The statement's Condition block, if any. */
  readonly conditions?: Json;
}

const asList = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Every statement of every AWS::IAM::Policy in the template, optionally only those attached to one role. */
export function policyStatements(json: CfnTemplate, roleLogicalId?: string): Statement[] {
  const out: Statement[] = [];
  for (const [id, r] of Object.entries(json.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = asList(r.Properties?.Roles).map((x) => flatten(x));
    if (roleLogicalId !== undefined && !roles.includes(`\${${roleLogicalId}}`)) continue;
    const doc = r.Properties?.PolicyDocument as { Statement: Json[] };
    for (const s of doc.Statement) {
      out.push({
        effect: String(s.Effect),
        actions: asList(s.Action).map(String),
        resources: asList(s.Resource).map((x) => String(flatten(x))),
        policyLogicalId: id,
        ...(s.Condition ? { conditions: s.Condition as Json } : {}),
      });
    }
  }
  return out;
}

/** X-Ray statements CDK adds for `tracing: ACTIVE` (resource `*`: X-Ray has no resource-level scoping). */
export const isXRay = (s: Statement): boolean => s.actions.every((a) => a.startsWith('xray:'));

// ----- the handlers -----------------------------------------------------------------------------------

/** The handler folders under lambdas/ (every folder but `shared`). */
export function handlerFolders(): HandlerName[] {
  return fs
    .readdirSync(path.join(REPO_ROOT, 'lambdas'), { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name !== 'shared')
    .map((d) => d.name as HandlerName)
    .sort();
}

/** The environment variables a handler requires (`requireEnv('X')`, `requireJsonEnv<T>('X')`) or may read (`optionalEnv('X')`). */
export function envReadBy(handler: HandlerName): { readonly required: string[]; readonly json: string[]; readonly optional: string[] } {
  const source = fs.readFileSync(path.join(REPO_ROOT, 'lambdas', handler, 'index.ts'), 'utf8');
  const found = (fn: string) =>
    [...source.matchAll(new RegExp(`\\b${fn}\\s*(?:<[^()]*>)?\\(\\s*['"]([A-Z0-9_]+)['"]\\s*\\)`, 'g'))].map((m) => m[1]);
  return {
    required: [...new Set([...found('requireEnv'), ...found('requireJsonEnv')])],
    json: found('requireJsonEnv'),
    optional: found('optionalEnv'),
  };
}

// ----- snapshots -------------------------------------------------------------------------------------

/** Replaces content hashes (asset S3 keys, asset hashes) with a placeholder so snapshots are machine-independent. */
export function scrubAssetHashes(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/[0-9a-f]{64}/g, '<asset-hash>');
  if (Array.isArray(value)) return value.map(scrubAssetHashes);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrubAssetHashes(v)]));
  }
  return value;
}
