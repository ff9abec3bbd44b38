import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Per-execution documents of the artifacts bucket, as object key patterns. */
export const ARTIFACTS = {
  ledger: 'executions/*/ledger/*',
  plan: 'executions/*/plan.json',
  /** Plan's discovery results (a retried Plan resumes from them, so they steer the plan). */
  discovery: 'executions/*/discovery/*',
  approvals: 'executions/*/approvals/*',
  report: 'executions/*/report.json',
  /** What the edge phase saw per batch (switched, verified): evidence, it steers nothing. */
  edge: 'executions/*/edge/*',
  /** The prune decision and outcome (reporting only: a retry decides again from what IAM lists). */
  prune: 'executions/*/prune.json',
} as const;

export interface ArtifactOwners {
  /** The roles that switch targets, and rollback: the only writers of the change ledger. */
  readonly ledgerWriters: readonly iam.IRole[];
  /** The plan's role: the only writer of plan.json (rollback trusts it) and of its discovery results. */
  readonly planWriters: readonly iam.IRole[];
  /** The approval path: the only readers of the approval tokens. */
  readonly approvalReaders: readonly iam.IRole[];
  /** Approvers' role ARNs (config), allowed to read the tokens too. */
  readonly approverRoleArns: readonly string[];
}

/**
 * Buckets of the rotation:
 * - staging: where an operator uploads `cert.pem`, `key.pem`, `chain.pem` under a prefix; the key
 *   object is deleted once imported into Secrets Manager, and anything left expires after 7 days;
 * - artifacts: per-execution plan, change ledger, approval requests and reports.
 * Both private, encrypted, TLS-only, versioned, with access logs in a third bucket.
 *
 * The artifacts that steer changes are writable (or, for approval tokens, readable) only by the
 * roles that own them: see {@link RotationStorage.restrictArtifacts}.
 */
export class RotationStorage extends Construct {
  public readonly stagingBucket: s3.Bucket;
  public readonly artifactBucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const common = {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
    } as const;
    // S3 server access log delivery writes with an ACL: this bucket keeps the ObjectWriter default.
    this.accessLogBucket = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    this.stagingBucket = new s3.Bucket(this, 'Staging', {
      ...common,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'staging/',
      // A staged key must not linger: current objects expire after a week, old versions after a day.
      lifecycleRules: [{ expiration: Duration.days(7), noncurrentVersionExpiration: Duration.days(1) }],
    });
    this.artifactBucket = new s3.Bucket(this, 'Artifacts', {
      ...common,
      versioned: true,
      serverAccessLogsBucket: this.accessLogBucket,
      serverAccessLogsPrefix: 'artifacts/',
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
    });
  }

  /**
   * Staged private keys (`*key.pem`, any version) can be read by `reader` only: the bucket policy
   * denies s3:GetObject and s3:GetObjectVersion on them to every other principal of any account,
   * admins included. Uploading, listing and deleting stay as IAM grants them (an operator still
   * stages and removes keys); HeadObject of a key needs s3:GetObject, so only `reader` sees its
   * headers. A CopyObject reads its source, so nobody else can copy a key out either.
   */
  onlyThisRoleReadsStagedKeys(reader: iam.IRole): void {
    this.stagingBucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyObtainReadsStagedKeys',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [this.stagingBucket.arnForObjects('*key.pem')],
        // aws:PrincipalArn is the role's ARN for its sessions (the Lambda's credentials); absent for service principals, which are denied too.
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': reader.roleArn } },
      }),
    );
  }

  /**
   * Storage by owner, enforced by the bucket: Deny statements for every principal of the account
   * but the owners (aws:PrincipalArn is the role ARN for its sessions). Only object writes or
   * reads under those prefixes are denied: the bucket, its policy and its other objects stay
   * manageable, so a deploy, an update or removing the stack (the bucket is retained) is never
   * locked out, and an administrator can still change this policy to clean up by hand.
   */
  restrictArtifacts(owners: ArtifactOwners): void {
    const bucket = this.artifactBucket;
    const arns = (roles: readonly iam.IRole[], extra: readonly string[] = []) => [...roles.map((r) => r.roleArn), ...extra];
    const denyUnless = (sid: string, actions: string[], pattern: string, allowed: string[]) =>
      bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid,
          effect: iam.Effect.DENY,
          principals: [new iam.AnyPrincipal()],
          actions,
          resources: [bucket.arnForObjects(pattern)],
          conditions: { ArnNotEquals: { 'aws:PrincipalArn': allowed } },
        }),
      );
    const writes = ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'];
    denyUnless('LedgerWrittenOnlyBySwitchesAndRollback', writes, ARTIFACTS.ledger, arns(owners.ledgerWriters));
    denyUnless('PlanWrittenOnlyByPlan', writes, ARTIFACTS.plan, arns(owners.planWriters));
    denyUnless('DiscoveryWrittenOnlyByPlan', writes, ARTIFACTS.discovery, arns(owners.planWriters));
    denyUnless(
      'ApprovalTokensReadOnlyByTheApprovalPath',
      ['s3:GetObject', 's3:GetObjectVersion'],
      ARTIFACTS.approvals,
      arns(owners.approvalReaders, owners.approverRoleArns),
    );
    if (owners.approverRoleArns.length > 0) {
      bucket.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ApproversReadApprovalTokens',
          principals: owners.approverRoleArns.map((a) => new iam.ArnPrincipal(a)),
          actions: ['s3:GetObject'],
          resources: [bucket.arnForObjects(ARTIFACTS.approvals)],
        }),
      );
    }
  }
}
