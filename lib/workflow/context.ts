import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { ResolvedConfig } from '../config';
import type { RotationNotifications } from '../notifications';
import type { RotationFunction } from '../rotation-function';
import type { RotationStorage } from '../storage';

/**
 * What every phase receives. `scope` is the CertRotation construct: each phase creates its states
 * and functions in it (not in a scope of its own), so construct ids, and with them logical ids,
 * stay what they were and a deployed stack is updated in place.
 */
export interface PhaseContext {
  readonly scope: Construct;
  readonly config: ResolvedConfig;
  readonly storage: RotationStorage;
  readonly notifications: RotationNotifications;
  readonly stateMachineName: string;
}

/** Staged and imported certificate secrets live under this prefix. */
export function secretPrefix(config: ResolvedConfig): string {
  return `cert-rotation/${config.domain}/`;
}

/** One identity-policy statement on the function's role. */
export function allow(target: RotationFunction, actions: string[], resources: string[]): void {
  target.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
}

/** The ARNs the phases scope their grants to. */
export function arns(ctx: PhaseContext) {
  const stack = Stack.of(ctx.scope);
  const { artifactBucket } = ctx.storage;
  const serverCertArn = (path: string) =>
    stack.formatArn({ service: 'iam', region: '', resource: 'server-certificate', resourceName: `${path.replace(/^\//, '')}*` });
  return {
    secrets: [
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${secretPrefix(ctx.config)}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ],
    rotationCerts: serverCertArn(ctx.config.iamPath),
    anyServerCert: stack.formatArn({ service: 'iam', region: '', resource: 'server-certificate', resourceName: '*' }),
    canaryElb: stack.formatArn({
      service: 'elasticloadbalancing',
      resource: 'loadbalancer',
      resourceName: ctx.config.canary.loadBalancerName,
    }),
    /** Any classic load balancer (the edge phase's targets are discovered at run time). */
    anyClassicElb: stack.formatArn({ service: 'elasticloadbalancing', resource: 'loadbalancer', resourceName: '*' }),
    /** Any ELBv2 listener (ALB `listener/app/...`, NLB `listener/net/...`). */
    anyV2Listener: stack.formatArn({ service: 'elasticloadbalancing', resource: 'listener', resourceName: '*' }),
    /** Any CloudFront distribution (a global service: no region in the ARN). */
    anyDistribution: stack.formatArn({ service: 'cloudfront', region: '', resource: 'distribution', resourceName: '*' }),
    stateMachine: stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: ctx.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    /** Every execution of this state machine (DescribeExecution, GetExecutionHistory). */
    executions: stack.formatArn({
      service: 'states',
      resource: 'execution',
      resourceName: `${ctx.stateMachineName}:*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    // Artifacts by owner: each function gets only the per-execution documents it uses (the bucket
    // policy in RotationStorage.restrictArtifacts denies everyone else the ledger, plan and tokens).
    artifacts: (pattern: string) => artifactBucket.arnForObjects(pattern),
  };
}

/**
 * ListBucket shows key names only (contents need GetObject); it lists the ledger, and lets S3
 * answer "no such key" rather than "access denied" for a document not written yet.
 */
export function listArtifacts(ctx: PhaseContext, target: RotationFunction): void {
  allow(target, ['s3:ListBucket'], [ctx.storage.artifactBucket.bucketArn]);
}

/**
 * Describe/List calls of ELB, ELBv2, CloudFront, EC2 and IAM support no resource-level scoping.
 * ELB's API permissions page lists `ec2:DescribeSecurityGroups` as needed by the classic
 * `DescribeLoadBalancers` too (it reports the load balancers' security groups).
 */
export const DESCRIBE_LOAD_BALANCERS = ['elasticloadbalancing:DescribeLoadBalancers', 'ec2:DescribeSecurityGroups'];

/** What every function that reads the edge's certificates needs (no resource-level scoping). */
export const DESCRIBE_EDGE = [
  ...DESCRIBE_LOAD_BALANCERS,
  'elasticloadbalancing:DescribeListeners',
  'elasticloadbalancing:DescribeListenerCertificates',
];

/** Where the canary listener is, for the functions that read or switch it. */
export function canaryEnvironment(config: ResolvedConfig): Record<string, string> {
  return { CANARY_LOAD_BALANCER: config.canary.loadBalancerName, CANARY_PORT: String(config.canary.port) };
}
