import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

/** Per-execution documents of the artifacts bucket, as object key patterns. */
export const ARTIFACTS = {
  ledger: 'executions/*/ledger/*',
  plan: 'executions/*/plan.json',
  /** Plan's discovery results (a retried Plan resumes from them, so they steer the plan). */
  discovery: 'executions/*/discovery/*',
  report: 'executions/*/report.json',
  /** What the edge phase saw per batch (switched, verified): evidence, it steers nothing. */
  edge: 'executions/*/edge/*',
  /** The node phases' and the node rollback's SSM command ids and per-node results (evidence; a retried send finds its command here). */
  nodes: 'executions/*/nodes/*',
  /** The prune decision and outcome (reporting only: a retry decides again from what IAM lists). */
  prune: 'executions/*/prune.json',
} as const;

export interface ArtifactOwners {
  /** The roles that switch targets, and rollback: the only writers of the change ledger. */
  readonly ledgerWriters: readonly iam.IRole[];
  /** The node phases' and the node rollback's roles: the only writers of their SSM command records and per-node results. */
  readonly nodeRecordWriters?: readonly iam.IRole[];
  /** The plan's role: the only writer of plan.json (rollback trusts it) and of its discovery results. */
  readonly planWriters: readonly iam.IRole[];
}

/**
 * Buckets of the rotation:
 * - staging: where an operator uploads `cert.pem`, `key.pem`, `chain.pem` under a prefix; the key
 *   object is deleted once imported into Secrets Manager, and anything left expires after 7 days;
 * - artifacts: per-execution plan, change ledger and reports.
 * Both private, encrypted, TLS-only, versioned, with access logs in a third bucket.
 * And the approval store: a DynamoDB table of gate requests (the SHA-256 of each approval id,
 * the task token, the execution, the gate, the expiry as TTL, and the decision), encrypted,
 * with point-in-time recovery; only the approval page's role reads its items
 * ({@link RotationStorage.onlyThisRoleReadsApprovals}).
 *
 * The artifacts that steer changes are writable only by the roles that own them: see
 * {@link RotationStorage.restrictArtifacts}.
 */
export class RotationStorage extends Construct {
  public readonly stagingBucket: s3.Bucket;
  public readonly artifactBucket: s3.Bucket;
  public readonly accessLogBucket: s3.Bucket;
  /** The approval store: partition key `idHash` (string), TTL attribute `expiresAt` (epoch seconds). */
  public readonly approvalTable: dynamodb.Table;

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
    this.approvalTable = new dynamodb.Table(this, 'Approvals', {
      partitionKey: { name: 'idHash', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      // Decisions (who, when, comment) are evidence: kept when the stack is removed, like the buckets.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  /**
   * Only `reader` (the approval page's role) may read the approval store's items, task tokens
   * included: the table's resource policy denies every other principal the reads (GetItem,
   * BatchGetItem, Query, Scan, PartiQL selects, transactions' reads), the writes that return old
   * values (`dynamodb:ReturnValues` other than NONE), and exports or restores of the table (a copy
   * is a read). Writing a new item (request-approval's PutItem) stays as IAM grants it.
   */
  onlyThisRoleReadsApprovals(reader: iam.IRole): void {
    const notReader = { ArnNotEquals: { 'aws:PrincipalArn': reader.roleArn } };
    const table = this.approvalTable;
    table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyThePageReadsApprovals',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [
          'dynamodb:GetItem',
          'dynamodb:BatchGetItem',
          'dynamodb:Query',
          'dynamodb:Scan',
          'dynamodb:PartiQLSelect',
          'dynamodb:ExportTableToPointInTime',
          'dynamodb:RestoreTableToPointInTime',
          'dynamodb:CreateBackup',
        ],
        resources: ['*'],
        conditions: notReader,
      }),
    );
    table.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoOldValuesReturnedToOthers',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:PartiQLUpdate', 'dynamodb:PartiQLDelete'],
        resources: ['*'],
        conditions: { ...notReader, StringNotEquals: { 'dynamodb:ReturnValues': 'NONE' } },
      }),
    );
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
    // A node phase trusts its commands.json (a retried send resends nothing; the poll reads those commands' nodes).
    if (owners.nodeRecordWriters && owners.nodeRecordWriters.length > 0) {
      denyUnless('NodeRecordsWrittenOnlyByNodePhases', writes, ARTIFACTS.nodes, arns(owners.nodeRecordWriters));
    }
  }
}
