import { buildApp } from '../lib/app';
import type { ResolvedConfig } from '../lib/config';
import { RotationFunction } from '../lib/rotation-function';
import type { PhaseFactory } from '../lib/workflow';

/** A synthesized template's resource. */
interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface SynthesizedWorkflow {
  /** The state machine definition with every CloudFormation token resolved to a simulated value. */
  readonly definition: Record<string, unknown>;
  readonly stateMachineArn: string;
  readonly stateMachineName: string;
  /** Lambda function ARN (as the definition names it) -> handler name, the file that exports it, and its environment. */
  readonly functions: ReadonlyMap<
    string,
    { readonly handler: string; readonly entry: string; readonly environment: Record<string, string> }
  >;
  /** Resolved physical names of the resources the simulated account must hold. */
  readonly buckets: { readonly staging: string; readonly artifacts: string };
  /** The approval store's table name and partition key. */
  readonly approvalTable: { readonly name: string; readonly partitionKey: string };
  readonly topicArn: string;
  /** The report phases in flow order, each with the state names its phases declare (`CertRotation.phases`). */
  readonly phases: ReadonlyArray<{ readonly name: string; readonly states: readonly string[] }>;
  /** The template's SSM documents (`AWS::SSM::Document`: name and content), which the simulated account registers. */
  readonly ssmDocuments: ReadonlyArray<{ readonly name: string; readonly content: unknown }>;
}

export const SIM_REGION = 'us-east-1';
export const SIM_ACCOUNT = '123456789012';

/** Gives each resource the physical value a deployment would: names for buckets, ARNs otherwise. */
function physicalRef(logicalId: string, resource: CfnResource | undefined): string {
  switch (resource?.Type) {
    case 'AWS::S3::Bucket':
    case 'AWS::DynamoDB::Table':
      return `rehearsal-${logicalId.toLowerCase()}`;
    case 'AWS::SNS::Topic':
      return `arn:aws:sns:${SIM_REGION}:${SIM_ACCOUNT}:${logicalId}`;
    case 'AWS::Lambda::Function':
      return logicalId;
    case 'AWS::StepFunctions::StateMachine':
      return `arn:aws:states:${SIM_REGION}:${SIM_ACCOUNT}:stateMachine:${typeof resource.Properties?.StateMachineName === 'string' ? resource.Properties.StateMachineName : logicalId}`;
    default:
      return logicalId;
  }
}

function physicalAttr(logicalId: string, attr: string, resource: CfnResource | undefined): string {
  // A function URL as Lambda names them (the rehearsal serves the page at its own address instead).
  if (attr === 'FunctionUrl' && resource?.Type === 'AWS::Lambda::Url')
    return `https://${logicalId.toLowerCase()}.lambda-url.${SIM_REGION}.on.aws/`;
  if (attr === 'Arn') {
    switch (resource?.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${SIM_REGION}:${SIM_ACCOUNT}:function:${logicalId}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${physicalRef(logicalId, resource)}`;
      case 'AWS::DynamoDB::Table':
        return `arn:aws:dynamodb:${SIM_REGION}:${SIM_ACCOUNT}:table/${physicalRef(logicalId, resource)}`;
      default:
        return `arn:aws:${(resource?.Type ?? 'unknown').split('::')[1]?.toLowerCase()}:${SIM_REGION}:${SIM_ACCOUNT}:${logicalId}`;
    }
  }
  return `${logicalId}.${attr}`;
}

/** An intrinsic function (or a reference) the resolver does not support, named with where it was found. */
export class UnsupportedIntrinsic extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedIntrinsic';
  }
}

const PSEUDO: Readonly<Record<string, string>> = {
  'AWS::Region': SIM_REGION,
  'AWS::AccountId': SIM_ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
};

/**
 * Resolves the intrinsic functions CDK emits in definitions and environments. Anything else (an
 * `Fn::*` it does not know, a `Ref` to no resource or to another pseudo parameter, a join of a
 * value that is not a string) is an {@link UnsupportedIntrinsic} naming it, never a made-up
 * value such as "[object Object]".
 */
export function resolveIntrinsics(value: unknown, resources: Record<string, CfnResource>, at = '$'): unknown {
  if (Array.isArray(value)) return value.map((v, i) => resolveIntrinsics(v, resources, `${at}[${i}]`));
  if (typeof value !== 'object' || value === null) return value;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  const fail = (what: string): never => {
    throw new UnsupportedIntrinsic(`the template resolver does not support ${what} (at ${at}): ${JSON.stringify(obj).slice(0, 200)}`);
  };
  const scalar = (v: unknown, where: string): string | number | boolean => {
    const r = resolveIntrinsics(v, resources, where);
    if (typeof r !== 'string' && typeof r !== 'number' && typeof r !== 'boolean') return fail(`a non-string value in ${keys[0]}`);
    return r;
  };
  if (keys.length === 1) {
    const [k] = keys;
    const arg = obj[k];
    switch (k) {
      case 'Ref': {
        if (typeof arg !== 'string') return fail('a Ref whose argument is not a name');
        if (Object.hasOwn(PSEUDO, arg)) return PSEUDO[arg];
        if (!Object.hasOwn(resources, arg)) return fail(`Ref ${arg} (no such resource or supported pseudo parameter)`);
        return physicalRef(arg, resources[arg]);
      }
      case 'Fn::GetAtt': {
        const [id, attr] = arg as [string, string];
        if (!Object.hasOwn(resources, id)) return fail(`Fn::GetAtt of ${id} (no such resource)`);
        return physicalAttr(id, attr, resources[id]);
      }
      case 'Fn::Join': {
        const [sep, parts] = arg as [string, unknown[]];
        return parts.map((p, i) => String(scalar(p, `${at}.Fn::Join[1][${i}]`))).join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = arg as [number, unknown];
        const items = resolveIntrinsics(list, resources, `${at}.Fn::Select[1]`);
        if (!Array.isArray(items) || Number(index) >= items.length) return fail(`Fn::Select index ${index} outside its list`);
        return items[Number(index)] as unknown;
      }
      case 'Fn::Split': {
        const [sep, str] = arg as [string, unknown];
        return String(scalar(str, `${at}.Fn::Split[1]`)).split(sep);
      }
      default:
        if (k.startsWith('Fn::')) return fail(`the intrinsic ${k}`);
        break;
    }
  }
  return Object.fromEntries(keys.map((k) => [k, resolveIntrinsics(obj[k], resources, `${at}.${k}`)]));
}

/**
 * Synthesizes the real CDK app in-process (bundling skipped: the rehearsal runs the handler
 * sources) and returns the state machine definition exactly as deployed, tokens resolved.
 */
export function synthesizeWorkflow(
  config: ResolvedConfig,
  options: { readonly extraPhases?: readonly PhaseFactory[] } = {},
): SynthesizedWorkflow {
  const { app, stack } = buildApp({
    config,
    context: { 'aws:cdk:bundling-stacks': [] },
    nag: false,
    ...(options.extraPhases ? { extraPhases: options.extraPhases } : {}),
  });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, CfnResource> };
  const resources = template.Resources;

  const smEntry = Object.entries(resources).find(([, r]) => r.Type === 'AWS::StepFunctions::StateMachine');
  if (!smEntry) throw new Error('the synthesized template has no state machine');
  const [smId, sm] = smEntry;
  const definitionString = resolveIntrinsics(sm.Properties?.DefinitionString, resources);
  const definition = JSON.parse(String(definitionString)) as Record<string, unknown>;

  const functions = new Map<string, { handler: string; entry: string; environment: Record<string, string> }>();
  // Every function in the app, in the order it was created (a phase a test adds brings its own).
  for (const rf of stack.node.findAll().filter((c): c is RotationFunction => c instanceof RotationFunction)) {
    const logicalId = stack.getLogicalId(rf.function.node.defaultChild as never);
    const props = resources[logicalId]?.Properties ?? {};
    const env = resolveIntrinsics((props.Environment as { Variables?: unknown } | undefined)?.Variables ?? {}, resources) as Record<
      string,
      string
    >;
    functions.set(physicalAttr(logicalId, 'Arn', resources[logicalId]), { handler: rf.handlerName, entry: rf.entry, environment: env });
  }
  const logical = (c: unknown) => stack.getLogicalId(c as never);
  const storage = stack.node.findChild('Storage') as unknown as {
    stagingBucket: { node: { defaultChild: unknown } };
    artifactBucket: { node: { defaultChild: unknown } };
    approvalTable: { node: { defaultChild: unknown } };
  };
  const stagingId = logical(storage.stagingBucket.node.defaultChild);
  const artifactsId = logical(storage.artifactBucket.node.defaultChild);
  const tableId = logical(storage.approvalTable.node.defaultChild);
  const keySchema = (resources[tableId]?.Properties?.KeySchema ?? []) as Array<{ AttributeName: string; KeyType: string }>;
  const topicEntry = Object.entries(resources).find(([, r]) => r.Type === 'AWS::SNS::Topic');
  const ssmDocuments = Object.entries(resources)
    .filter(([, r]) => r.Type === 'AWS::SSM::Document')
    .map(([id, r]) => ({
      name: String(resolveIntrinsics(r.Properties?.Name ?? id, resources)),
      content: resolveIntrinsics(r.Properties?.Content, resources),
    }));
  return {
    definition,
    stateMachineArn: physicalRef(smId, sm),
    stateMachineName: typeof sm.Properties?.StateMachineName === 'string' ? sm.Properties.StateMachineName : smId,
    functions,
    buckets: { staging: physicalRef(stagingId, resources[stagingId]), artifacts: physicalRef(artifactsId, resources[artifactsId]) },
    approvalTable: {
      name: physicalRef(tableId, resources[tableId]),
      partitionKey: keySchema.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '',
    },
    topicArn: topicEntry ? physicalRef(topicEntry[0], topicEntry[1]) : '',
    phases: stack.rotation.phases,
    ssmDocuments,
  };
}
