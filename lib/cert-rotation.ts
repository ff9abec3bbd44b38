import { Annotations, ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import type { ResolvedConfig } from './config';
import type { RotationNotifications } from './notifications';
import { RotationFunction, type HandlerName, type RotationFunctionProps } from './rotation-function';
import { ARTIFACTS, type RotationStorage } from './storage';

export interface CertRotationProps {
  readonly config: ResolvedConfig;
  readonly storage: RotationStorage;
  readonly notifications: RotationNotifications;
  /** @default `CertRotation-<domain with dots as dashes>` */
  readonly stateMachineName?: string;
}

/** State names an operator reads in the console graph; tests and the rehearsal refer to them. */
export const STATE = {
  receiveInput: 'Receive the execution input',
  checkInput: 'Check the execution input',
  inputRefused: 'Input refused: keep only the error',
  guard: 'Guard: refuse if another rotation is running',
  obtain: 'Obtain: read the staged certificate',
  current: 'Find the certificate in use on the canary listener',
  validate: 'Validate the new certificate',
  plan: 'Plan: find every target serving the current certificate',
  gateStart: 'Approval 1: start the rotation?',
  upload: 'Upload: new certificate to IAM',
  canarySwitch: 'Canary: switch IRC ELB listener',
  canaryPrepare: 'Canary: prepare TLS check',
  canaryVerify: 'Canary: verify TLS on the IRC endpoint',
  canaryChoice: 'Canary serves the new certificate?',
  canaryWait: 'Wait before checking the canary again',
  gateCanary: 'Approval 2: canary edge OK, continue?',
  approvalTimedOut: 'No answer before the approval timeout',
  finishSuccess: 'Finish: write the report and notify',
  succeeded: 'Rotation complete',
  rollback: 'Roll back: restore every changed target',
  verifyRollback: 'Roll back: verify every target serves its previous certificate',
  finishFailure: 'Report the failed rotation and notify',
  rollbackVerified: 'Every changed target back on its previous certificate?',
  failed: 'Rotation failed (changes rolled back)',
  rollbackIncomplete: 'Rollback incomplete: targets not back (action needed)',
  rollbackIncompleteUnreported: 'Rollback incomplete and not reported (action needed)',
  reportFailed: 'Rotation finished, but the report could not be sent',
} as const;

/** Error names matched by Retry/Catch; the handler error classes set the same names. */
const ERR = {
  transient: 'AwsTransient',
  notPropagated: 'CertificateNotPropagated',
  verification: 'VerificationFailed',
  rollbackIncomplete: 'RollbackIncomplete',
} as const;

const EXECUTION_NAME = sfn.JsonPath.stringAt('$$.Execution.Name');

/**
 * The rotation workflow (Standard, JSONPath) and its Lambda handlers.
 *
 * Flow: check input -> guard -> obtain -> find current -> validate -> plan -> [approval] -> upload -> canary
 * switch -> canary TLS check loop -> [approval] -> finish. Phases that later work adds (edge
 * rollout, node phases) slot in after the second approval.
 *
 * Error strategy: transient AWS errors (`AwsTransient`) are retried with backoff on every task,
 * IAM propagation (`CertificateNotPropagated`) on the listener switch. Any other error, a
 * rejection or a gate timeout goes to the rollback chain: restore exactly what the change ledger
 * records, verify the restore over the API and TLS, report, fail. Nothing before the upload
 * changes anything, so a refusal there rolls back an empty ledger.
 */
export class CertRotation extends Construct {
  public readonly stateMachine: sfn.StateMachine;
  public readonly logGroup: logs.LogGroup;
  public readonly functions: Readonly<Record<HandlerName, RotationFunction>>;
  public readonly stateMachineName: string;

  private readonly config: ResolvedConfig;
  private readonly props: CertRotationProps;

  constructor(scope: Construct, id: string, props: CertRotationProps) {
    super(scope, id);
    this.props = props;
    this.config = props.config;
    this.stateMachineName = props.stateMachineName ?? `CertRotation-${this.config.domain.replace(/\./g, '-')}`;
    this.functions = this.createFunctions();
    this.grantPermissions();

    const failure = this.buildFailurePath();
    const definition = sfn.Chain.start(this.buildInputCheck(failure))
      .next(this.buildPreparation(failure))
      .next(this.buildStartGate(failure))
      .next(this.buildUpload(failure))
      .next(this.buildCanary(failure));

    this.logGroup = new logs.LogGroup(this, 'ExecutionLogs', {
      logGroupName: `/aws/vendedlogs/states/${this.stateMachineName}`,
      retention: logs.RetentionDays.SIX_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: this.stateMachineName,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
      comment: `Rotates the ${this.config.domain} TLS certificate across ELB, ELBv2, CloudFront and nginx nodes`,
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      // Long enough for every gate to wait its full timeout (a gate timeout is caught and rolled
      // back; an execution timeout could not be), plus a day for the work itself.
      timeout: Duration.seconds(this.gateCount * this.config.approvals.timeoutSeconds + 86_400),
    });
  }

  // ----- functions and permissions ---------------------------------------------------------

  private createFunctions(): Record<HandlerName, RotationFunction> {
    const c = this.config;
    const bucket = this.props.storage.artifactBucket.bucketName;
    const topic = this.props.notifications.topic.topicArn;
    const canaryEnv = { CANARY_LOAD_BALANCER: c.canary.loadBalancerName, CANARY_PORT: String(c.canary.port) };
    const fn = (id: string, p: RotationFunctionProps) => new RotationFunction(this, id, p);
    return {
      'check-input': fn('CheckInput', {
        handler: 'check-input',
        description: 'Keeps only the documented execution-input fields, validated; refuses anything else by name',
      }),
      guard: fn('Guard', {
        handler: 'guard',
        description: 'Refuses to start while another rotation runs',
        environment: { DOMAIN: c.domain },
      }),
      obtain: fn('Obtain', {
        handler: 'obtain',
        description: 'Reads the staged certificate (Secrets Manager or S3) into a secret',
        environment: { DOMAIN: c.domain, STAGING_BUCKET: this.props.storage.stagingBucket.bucketName, SECRET_PREFIX: this.secretPrefix },
      }),
      current: fn('Current', {
        handler: 'current',
        description: 'Finds the certificate the canary listener serves',
        environment: canaryEnv,
      }),
      validate: fn('Validate', {
        handler: 'validate',
        description: 'Validates the new certificate before anything changes',
        environment: { REQUIRED_NAMES: JSON.stringify(c.certificateNames), TRUSTED_ROOTS: c.trustedRootCertificates.join('\n') },
      }),
      plan: fn('Plan', {
        handler: 'plan',
        description: 'Finds every listener, distribution and node to rotate',
        timeout: Duration.minutes(5),
        environment: {
          ...canaryEnv,
          ARTIFACT_BUCKET: bucket,
          EDGE_SELECTION: JSON.stringify(c.edge),
          NODE_PHASES: JSON.stringify(c.nodePhases.map((p) => ({ name: p.name, targets: p.targets }))),
        },
      }),
      'request-approval': fn('RequestApproval', {
        handler: 'request-approval',
        description: 'Emails an approval request and stores its callback token',
        environment: { DOMAIN: c.domain, ARTIFACT_BUCKET: bucket, TOPIC_ARN: topic },
      }),
      upload: fn('Upload', {
        handler: 'upload',
        description: 'Uploads the new certificate to IAM (idempotent)',
        environment: { DOMAIN: c.domain, IAM_PATH: c.iamPath, CERTIFICATE_NAME_PREFIX: c.certificateNamePrefix },
      }),
      'switch-canary': fn('SwitchCanary', {
        handler: 'switch-canary',
        description: 'Switches the canary ELB listener, ledger first',
        environment: { ...canaryEnv, ARTIFACT_BUCKET: bucket },
      }),
      'verify-tls': fn('VerifyTls', { handler: 'verify-tls', description: 'TLS handshake: is the expected certificate served?' }),
      rollback: fn('Rollback', {
        handler: 'rollback',
        description: 'Restores every target the change ledger records',
        timeout: Duration.minutes(5),
        environment: { ARTIFACT_BUCKET: bucket },
      }),
      'verify-rollback': fn('VerifyRollback', {
        handler: 'verify-rollback',
        description: 'Verifies restored targets over the API and TLS',
        timeout: Duration.minutes(2),
        environment: { DOMAIN: c.domain, ARTIFACT_BUCKET: bucket },
      }),
      finish: fn('Finish', {
        handler: 'finish',
        description: 'Writes the report and notifies',
        environment: { DOMAIN: c.domain, ARTIFACT_BUCKET: bucket, TOPIC_ARN: topic },
      }),
    };
  }

  /** Staged and imported certificate secrets live under this prefix. */
  get secretPrefix(): string {
    return `cert-rotation/${this.config.domain}/`;
  }

  private grantPermissions(): void {
    const f = this.functions;
    const stack = Stack.of(this);
    const { artifactBucket, stagingBucket } = this.props.storage;
    const allow = (target: RotationFunction, actions: string[], resources: string[]) =>
      target.function.addToRolePolicy(new iam.PolicyStatement({ actions, resources }));
    const secretArns = [
      stack.formatArn({
        service: 'secretsmanager',
        resource: 'secret',
        resourceName: `${this.secretPrefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    ];
    const serverCertArn = (path: string) =>
      stack.formatArn({ service: 'iam', region: '', resource: 'server-certificate', resourceName: `${path.replace(/^\//, '')}*` });
    const rotationCerts = serverCertArn(this.config.iamPath);
    const anyServerCert = stack.formatArn({ service: 'iam', region: '', resource: 'server-certificate', resourceName: '*' });
    const canaryElb = stack.formatArn({
      service: 'elasticloadbalancing',
      resource: 'loadbalancer',
      resourceName: this.config.canary.loadBalancerName,
    });
    // Artifacts by owner: each function gets only the per-execution documents it uses (the bucket
    // policy in RotationStorage.restrictArtifacts denies everyone else the ledger, plan and tokens).
    const artifacts = (pattern: string) => artifactBucket.arnForObjects(pattern);
    // ListBucket shows key names only (contents need GetObject); it lists the ledger, and lets S3
    // answer "no such key" rather than "access denied" for a document not written yet.
    const listArtifacts = (target: RotationFunction) => allow(target, ['s3:ListBucket'], [artifactBucket.bucketArn]);
    const stateMachineArn = stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: this.stateMachineName,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });

    // Describe/List calls of ELB, ELBv2, CloudFront, EC2 and IAM support no resource-level scoping.
    const describeEdge = [
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeListenerCertificates',
    ];

    allow(f.guard, ['states:ListExecutions'], [stateMachineArn]);

    allow(
      f.obtain,
      ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
      secretArns,
    );
    // Staged files: read cert.pem/chain.pem/key.pem; then delete every version of key.pem, found by
    // listing the versions of that key (a listing whose prefix is not a key.pem is refused).
    allow(f.obtain, ['s3:GetObject'], [stagingBucket.arnForObjects('*')]);
    f.obtain.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucketVersions'],
        resources: [stagingBucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': '*key.pem' } },
      }),
    );
    allow(f.obtain, ['s3:DeleteObjectVersion'], [stagingBucket.arnForObjects('*key.pem')]);
    this.props.storage.onlyThisRoleReadsStagedKeys(f.obtain.function.role!);

    allow(f.current, ['elasticloadbalancing:DescribeLoadBalancers', 'iam:ListServerCertificates'], ['*']);
    allow(f.current, ['iam:GetServerCertificate'], [anyServerCert]);

    allow(f.validate, ['secretsmanager:GetSecretValue'], secretArns);

    allow(f.plan, [...describeEdge, 'cloudfront:ListDistributions', 'ec2:DescribeInstances'], ['*']);
    allow(f.plan, ['s3:PutObject'], [artifacts(ARTIFACTS.plan)]);
    // Its own discovery results, so that a retried Plan resumes (lambdas/plan/domain.ts discoverOnce).
    allow(f.plan, ['s3:GetObject', 's3:PutObject'], [artifacts(ARTIFACTS.discovery)]);
    listArtifacts(f.plan);

    allow(f['request-approval'], ['s3:PutObject'], [artifacts(ARTIFACTS.approvals)]);
    this.props.notifications.grantPublish(f['request-approval'].function);

    allow(f.upload, ['secretsmanager:GetSecretValue'], secretArns);
    allow(f.upload, ['iam:UploadServerCertificate', 'iam:TagServerCertificate', 'iam:GetServerCertificate'], [rotationCerts]);

    allow(f['switch-canary'], ['elasticloadbalancing:DescribeLoadBalancers'], ['*']);
    allow(f['switch-canary'], ['elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'], [canaryElb]);
    allow(f['switch-canary'], ['s3:GetObject', 's3:PutObject'], [artifacts(ARTIFACTS.ledger)]);
    listArtifacts(f['switch-canary']);

    // Rollback may switch back exactly what the phases that exist can change: today only the
    // canary listener. A later phase (edge ELBs, ELBv2 listeners, CloudFront) widens this here
    // explicitly, each with its reason; never a wildcard "any target the ledger names".
    allow(f.rollback, ['elasticloadbalancing:DescribeLoadBalancers'], ['*']);
    allow(f.rollback, ['elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'], [canaryElb]);
    // Proves ownership by IAM's tag (GetServerCertificate) before deleting; only under the rotation path.
    allow(f.rollback, ['iam:GetServerCertificate', 'iam:DeleteServerCertificate'], [rotationCerts]);
    allow(f.rollback, ['s3:GetObject', 's3:PutObject'], [artifacts(ARTIFACTS.ledger)]);
    allow(f.rollback, ['s3:GetObject'], [artifacts(ARTIFACTS.plan)]);
    listArtifacts(f.rollback);

    allow(f['verify-rollback'], [...describeEdge, 'cloudfront:GetDistributionConfig'], ['*']);
    allow(f['verify-rollback'], ['s3:GetObject'], [artifacts(ARTIFACTS.ledger)]);
    listArtifacts(f['verify-rollback']);

    allow(f.finish, ['s3:GetObject'], [artifacts(ARTIFACTS.ledger)]);
    allow(f.finish, ['s3:PutObject'], [artifacts(ARTIFACTS.report)]);
    listArtifacts(f.finish);
    this.props.notifications.grantPublish(f.finish.function);

    const role = (fn: RotationFunction) => fn.function.role!;
    this.props.storage.restrictArtifacts({
      ledgerWriters: [role(f['switch-canary']), role(f.rollback)],
      planWriters: [role(f.plan)],
      approvalReaders: [role(f['request-approval'])],
      approverRoleArns: this.config.approvals.approverRoleArns,
    });
    if (this.config.approvals.approverRoleArns.length === 0) {
      Annotations.of(this).addWarningV2(
        'cert-rotation:no-approvers',
        "approvals.approverRoleArns is empty: no principal may read the approval tokens, so every gate times out and rolls back. List the approvers' IAM role ARNs.",
      );
    }
  }

  // ----- state builders ------------------------------------------------------------------------

  /** A Lambda task: payload only, a named result path, transient AWS errors retried, everything else caught. */
  private task(
    id: string,
    stateName: string,
    handler: HandlerName,
    payload: Record<string, unknown>,
    resultPath: string,
    catchTo?: sfn.IChainable,
  ): tasks.LambdaInvoke {
    const fn = this.functions[handler].function;
    const task = new tasks.LambdaInvoke(this, `Step${id}`, {
      stateName,
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject(payload),
      payloadResponseOnly: true,
      resultPath,
      taskTimeout: sfn.Timeout.duration(fn.timeout ? Duration.seconds(fn.timeout.toSeconds() + 30) : Duration.minutes(2)),
    });
    this.retryWithBackoff(task, ERR.transient);
    if (catchTo) task.addCatch(catchTo, { errors: ['States.ALL'], resultPath: '$.error' });
    return task;
  }

  /** A human gate: a callback task that waits for SendTaskSuccess/SendTaskFailure or times out. */
  private gateCount = 0;

  private gate(id: string, stateName: string, gate: string, details: Record<string, unknown>, failure: sfn.IChainable): tasks.LambdaInvoke {
    this.gateCount += 1;
    const task = new tasks.LambdaInvoke(this, `Step${id}`, {
      stateName,
      lambdaFunction: this.functions['request-approval'].function,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        gate,
        title: stateName,
        executionName: EXECUTION_NAME,
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        details,
      }),
      resultPath: `$.approvals.${gate}`,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(this.config.approvals.timeoutSeconds)),
    });
    // A throttled request (email or token store) is asked again; a retry mints a new token.
    this.retryWithBackoff(task, ERR.transient);
    // No answer in time counts as a rejection (reported as such), then the same rollback.
    if (!this.timedOut) {
      this.timedOut = new sfn.Pass(this, 'ApprovalTimedOut', {
        stateName: STATE.approvalTimedOut,
        result: sfn.Result.fromObject({ gateTimedOut: true }),
        resultPath: '$.approvalTimeout',
      });
      this.timedOut.next(failure);
    }
    task.addCatch(this.timedOut, { errors: ['States.Timeout'], resultPath: '$.error' });
    task.addCatch(failure, { errors: ['States.ALL'], resultPath: '$.error' });
    return task;
  }

  private timedOut: sfn.Pass | undefined;

  /**
   * The trust boundary. The first state wraps the caller's whole input as `$.input` (so the state
   * is an object whatever JSON the caller sent); the check's result (the documented fields,
   * validated) then REPLACES `$.input`, so nothing else the caller wrote survives. A refusal must
   * not carry the raw input into the failure path (rollback and the report read the state): a
   * Pass keeps only the error.
   */
  private buildInputCheck(failure: sfn.IChainable): sfn.IChainable {
    const receive = new sfn.Pass(this, 'ReceiveInput', {
      stateName: STATE.receiveInput,
      parameters: { input: sfn.JsonPath.entirePayload },
    });
    const check = this.task(
      'CheckInput',
      STATE.checkInput,
      'check-input',
      { executionName: EXECUTION_NAME, input: sfn.JsonPath.objectAt('$.input') },
      '$.input',
    );
    const refused = new sfn.Pass(this, 'InputRefused', {
      stateName: STATE.inputRefused,
      parameters: { error: sfn.JsonPath.objectAt('$.error') },
    });
    refused.next(failure);
    check.addCatch(refused, { errors: ['States.ALL'], resultPath: '$.error' });
    return receive.next(check);
  }

  /** Phases 0-3: nothing changes here; any refusal rolls back an empty ledger and reports. */
  private buildPreparation(failure: sfn.IChainable): sfn.IChainable {
    const guard = this.task(
      'Guard',
      STATE.guard,
      'guard',
      {
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        executionName: EXECUTION_NAME,
        stateMachineArn: sfn.JsonPath.stringAt('$$.StateMachine.Id'),
      },
      '$.guard',
      failure,
    );
    const obtain = this.task(
      'Obtain',
      STATE.obtain,
      'obtain',
      {
        executionName: EXECUTION_NAME,
        // The checked input (the first state's result), never the caller's raw input.
        input: sfn.JsonPath.objectAt('$.input'),
      },
      '$.certificate',
      failure,
    );
    const current = this.task('Current', STATE.current, 'current', { executionName: EXECUTION_NAME }, '$.current', failure);
    const validate = this.task(
      'Validate',
      STATE.validate,
      'validate',
      {
        executionName: EXECUTION_NAME,
        secretArn: sfn.JsonPath.stringAt('$.certificate.secretArn'),
        current: sfn.JsonPath.objectAt('$.current'),
      },
      '$.validation',
      failure,
    );
    const plan = this.task(
      'Plan',
      STATE.plan,
      'plan',
      {
        executionName: EXECUTION_NAME,
        current: sfn.JsonPath.objectAt('$.current'),
      },
      '$.plan',
      failure,
    );
    return guard.next(obtain).next(current).next(validate).next(plan);
  }

  private buildStartGate(failure: sfn.IChainable): sfn.IChainable {
    return this.gate(
      'GateStart',
      STATE.gateStart,
      'start',
      {
        newCertificate: {
          sha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
          notAfter: sfn.JsonPath.stringAt('$.validation.summary.notAfter'),
          names: sfn.JsonPath.listAt('$.validation.summary.names'),
        },
        currentCertificate: {
          name: sfn.JsonPath.stringAt('$.current.name'),
          sha256: sfn.JsonPath.stringAt('$.current.sha256'),
          notAfter: sfn.JsonPath.stringAt('$.current.notAfter'),
        },
        canary: `${this.config.canary.loadBalancerName}:${this.config.canary.port} (${this.config.canary.endpoint})`,
        targets: sfn.JsonPath.objectAt('$.plan.counts'),
        edge: sfn.JsonPath.listAt('$.plan.edgeNames'),
        nodes: sfn.JsonPath.objectAt('$.plan.nodeNames'),
        warnings: sfn.JsonPath.listAt('$.validation.warnings'),
      },
      failure,
    );
  }

  private buildUpload(failure: sfn.IChainable): sfn.IChainable {
    const upload = this.task(
      'Upload',
      STATE.upload,
      'upload',
      {
        executionName: EXECUTION_NAME,
        secretArn: sfn.JsonPath.stringAt('$.certificate.secretArn'),
        expected: {
          sha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
          notBefore: sfn.JsonPath.stringAt('$.validation.summary.notBefore'),
        },
      },
      '$.uploaded',
      failure,
    );
    this.retryPropagation(upload);
    return upload;
  }

  /** Phase 5: switch the IRC listener, then handshake until it serves the new certificate. */
  private buildCanary(failure: sfn.IChainable): sfn.IChainable {
    const t = this.config.timing;
    const switchCanary = this.task(
      'CanarySwitch',
      STATE.canarySwitch,
      'switch-canary',
      {
        executionName: EXECUTION_NAME,
        current: { arn: sfn.JsonPath.stringAt('$.current.arn'), sha256: sfn.JsonPath.stringAt('$.current.sha256') },
        uploaded: { arn: sfn.JsonPath.stringAt('$.uploaded.arn') },
        newSha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
      },
      '$.canarySwitch',
      failure,
    );
    this.retryPropagation(switchCanary);

    const prepare = new sfn.Pass(this, 'CanaryPrepare', {
      stateName: STATE.canaryPrepare,
      result: sfn.Result.fromObject({ attempts: 0, matches: false }),
      resultPath: '$.canaryCheck',
    });
    const verify = this.task(
      'CanaryVerify',
      STATE.canaryVerify,
      'verify-tls',
      {
        executionName: EXECUTION_NAME,
        endpoint: this.config.canary.endpoint,
        expectedSha256: sfn.JsonPath.stringAt('$.validation.summary.sha256'),
        previous: sfn.JsonPath.objectAt('$.canaryCheck'),
        maxAttempts: this.verifyAttempts,
        intervalSeconds: t.verifyIntervalSeconds,
      },
      '$.canaryCheck',
      failure,
    );
    const wait = new sfn.Wait(this, 'CanaryWait', {
      stateName: STATE.canaryWait,
      time: sfn.WaitTime.duration(Duration.seconds(t.verifyIntervalSeconds)),
    });
    const gate = this.gate(
      'GateCanary',
      STATE.gateCanary,
      'canary',
      {
        canary: this.config.canary.endpoint,
        servedSha256: sfn.JsonPath.stringAt('$.canaryCheck.servedSha256'),
        checks: sfn.JsonPath.numberAt('$.canaryCheck.attempts'),
        next: 'finish and report; this version stops after the canary (every other target keeps the current certificate)',
        targets: sfn.JsonPath.objectAt('$.plan.counts'),
      },
      failure,
    );
    const finish = this.task(
      'FinishSuccess',
      STATE.finishSuccess,
      'finish',
      {
        executionName: EXECUTION_NAME,
        succeeded: true,
        state: sfn.JsonPath.entirePayload,
      },
      '$.report',
    );
    finish.addCatch(
      new sfn.Fail(this, 'ReportFailed', {
        stateName: STATE.reportFailed,
        error: 'ReportFailed',
        cause: 'the rotation completed; writing the report or the notification failed',
      }),
      { errors: ['States.ALL'], resultPath: '$.error' },
    );

    const choice = new sfn.Choice(this, 'CanaryChoice', { stateName: STATE.canaryChoice })
      .when(
        sfn.Condition.booleanEquals('$.canaryCheck.matches', true),
        gate.next(finish).next(new sfn.Succeed(this, 'Succeeded', { stateName: STATE.succeeded })),
      )
      .otherwise(wait.next(verify));
    return switchCanary.next(prepare).next(verify).next(choice);
  }

  /** Exponential backoff from the configured timing, for errors a later attempt may not hit. */
  private retryWithBackoff(task: tasks.LambdaInvoke, error: string): void {
    const t = this.config.timing;
    task.addRetry({ errors: [error], interval: Duration.seconds(t.retryIntervalSeconds), maxAttempts: t.retryMaxAttempts, backoffRate: 2 });
  }

  /** IAM propagation delay: a load balancer may not see a just-uploaded certificate yet. */
  private retryPropagation(task: tasks.LambdaInvoke): void {
    this.retryWithBackoff(task, ERR.notPropagated);
  }

  /** TLS checks before giving up: the timeout divided by the interval, plus the first one. */
  get verifyAttempts(): number {
    const t = this.config.timing;
    return Math.ceil(t.verifyTimeoutSeconds / t.verifyIntervalSeconds) + 1;
  }

  /**
   * Rollback -> verify -> report -> fail. Rollback problems are reported, never hidden: when the
   * rollback failed, left targets alone or could not be verified, the execution fails with
   * `RollbackIncomplete` (its Cause names every target not back and the original error), else
   * with the original error.
   */
  private buildFailurePath(): sfn.IChainable {
    const t = this.config.timing;
    const report = this.task(
      'FinishFailure',
      STATE.finishFailure,
      'finish',
      {
        executionName: EXECUTION_NAME,
        succeeded: false,
        state: sfn.JsonPath.entirePayload,
      },
      '$.report',
    );
    const fail = new sfn.Fail(this, 'Failed', { stateName: STATE.failed, errorPath: '$.error.Error', causePath: '$.error.Cause' });
    const rollbackVerified = new sfn.Choice(this, 'RollbackVerified', { stateName: STATE.rollbackVerified })
      .when(
        sfn.Condition.and(sfn.Condition.isPresent('$.report.status'), sfn.Condition.stringEquals('$.report.status', 'ROLLBACK_INCOMPLETE')),
        new sfn.Fail(this, 'RollbackIncomplete', {
          stateName: STATE.rollbackIncomplete,
          error: ERR.rollbackIncomplete,
          causePath: '$.report.rollbackCause',
        }),
      )
      // The report could not be written (so it could not decide): a rollback error still means incomplete.
      .when(
        sfn.Condition.isPresent('$.rollbackError'),
        new sfn.Fail(this, 'RollbackIncompleteUnreported', {
          stateName: STATE.rollbackIncompleteUnreported,
          error: ERR.rollbackIncomplete,
          cause:
            'the rollback failed or could not be verified, and the report could not be written: see the rollback states in the execution history',
        }),
      )
      .otherwise(fail);
    report.addCatch(rollbackVerified, { errors: ['States.ALL'], resultPath: '$.reportError' });

    const rollback = this.task(
      'Rollback',
      STATE.rollback,
      'rollback',
      {
        executionName: EXECUTION_NAME,
        state: sfn.JsonPath.entirePayload,
      },
      '$.rollback',
    );
    this.retryPropagation(rollback);
    rollback.addCatch(report, { errors: ['States.ALL'], resultPath: '$.rollbackError' });

    const verify = this.task(
      'VerifyRollback',
      STATE.verifyRollback,
      'verify-rollback',
      { executionName: EXECUTION_NAME },
      '$.rollbackVerification',
    );
    verify.addRetry({
      errors: [ERR.verification],
      interval: Duration.seconds(t.verifyIntervalSeconds),
      maxAttempts: this.verifyAttempts,
      backoffRate: 1,
    });
    verify.addCatch(report, { errors: ['States.ALL'], resultPath: '$.rollbackError' });

    rollback.next(verify).next(report).next(rollbackVerified);
    return rollback;
  }
}
