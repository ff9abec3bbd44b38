import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag AwsSolutions acknowledgements. Each rule here pairs a finding pattern with the reason
 * it is acceptable; a finding that matches no rule is NOT acknowledged and fails the synth, so
 * a new wildcard needs a new, reasoned entry here.
 */
interface Acknowledgement {
  readonly rule: string;
  /** Matches the finding inside `Rule[...]`, or the whole rule when the rule has no findings. */
  readonly finding?: RegExp;
  /** Only on constructs whose path matches. @default any */
  readonly path?: RegExp;
  /**
   * For `Resource::*`: every action granted on `*` in that policy must match, or the finding
   * stays unexplained (cdk-nag reports `Resource::*` once per policy, whatever grants it).
   */
  readonly wildcardActions?: RegExp;
  readonly reason: string;
}

const XRAY = 'xray:PutTraceSegments|xray:PutTelemetryRecords|xray:GetSamplingRules|xray:GetSamplingTargets';

export const ACKNOWLEDGEMENTS: readonly Acknowledgement[] = [
  {
    rule: 'AwsSolutions-IAM4',
    finding: /^Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole$/,
    reason: 'The standard Lambda execution policy (CloudWatch Logs writes); each function logs to its own explicit log group.',
  },
  {
    rule: 'AwsSolutions-L1',
    reason: 'The project pins the Lambda runtime to Node.js 22 (nodejs22.x); a runtime upgrade is a deliberate, tested change.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    path: /\/(Current|Plan|SwitchCanary|Rollback|VerifyRollback|EdgeSwitch|EdgePoll|EdgeVerify)\/Function\//,
    wildcardActions: new RegExp(
      `^(${XRAY}|elasticloadbalancing:Describe(LoadBalancers|Listeners|ListenerCertificates)|ec2:DescribeSecurityGroups|iam:ListServerCertificates|cloudfront:ListDistributions|cloudfront:GetDistributionConfig|ec2:DescribeInstances|ssm:DescribeInstanceInformation)$`,
    ),
    reason:
      'X-Ray tracing, and discovery and read-back calls (elasticloadbalancing:Describe*, with the ec2:DescribeSecurityGroups classic DescribeLoadBalancers needs, iam:ListServerCertificates, cloudfront:ListDistributions, cloudfront:GetDistributionConfig, ec2:DescribeInstances, ssm:DescribeInstanceInformation): none support resource-level permissions.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    path: /\/(NodeSend|NodePoll|NodeRollback)\/Function\//,
    wildcardActions: new RegExp(`^(${XRAY}|ssm:(ListCommands|ListCommandInvocations|GetCommandInvocation))$`),
    reason:
      "Reading Run Command's own commands back (ssm:ListCommands to find a command a retried send already sent, ssm:ListCommandInvocations and ssm:GetCommandInvocation for every node's status and output) supports no resource-level permissions; X-Ray tracing. No parameter or secret is read.",
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:ec2:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):instance\/\*$/,
    path: /\/(NodeSend|NodeRollback)\/Function\//,
    reason:
      "ssm:SendCommand of this stack's deploy document only (its document ARN is the other resource): the nodes of each phase are found at run time (EC2 tags or ids, then SSM), so any instance; the send addresses the plan's nodes (by id, or by the phase's tags beyond 50), the rollback only nodes the ledger proves it changed, by id.",
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::<StorageArtifacts[0-9A-F]{8}\.Arn>\/executions\/\*\/nodes\/\*$/,
    path: /\/(NodeSend|NodePoll|NodeRollback)\/Function\//,
    reason:
      "The node phases' own records of each execution (executions/<name>/nodes/<install-phase|rollback>/: the SSM command ids and every node's result): the execution name is known only at run time.",
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    path: /\/(CheckInput|Guard|Validate|NotifyStart|RequestApproval|ApprovalPage|VerifyTls|Finish|EdgePrepare|MaintenanceWindow)\/Function\//,
    wildcardActions: new RegExp(`^(${XRAY})$`),
    reason: 'X-Ray tracing (xray:PutTraceSegments, xray:PutTelemetryRecords, sampling rules) supports no resource-level permissions.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    path: /\/Obtain\/Function\//,
    wildcardActions: new RegExp(`^(${XRAY}|route53:ListHostedZones)$`),
    reason:
      'X-Ray tracing (no resource-level permissions); with the ACME source configured also route53:ListHostedZones, which finds the zone that owns each challenge name and supports no resource-level permissions either (changes are scoped to the configured zones and to TXT records of _acme-challenge names).',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:route53:::change\/\*$/,
    path: /\/Obtain\/Function\//,
    reason:
      'route53:GetChange of the change this rotation just submitted: change ids are known only at run time; GetChange reads status only.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    path: /\/(Upload|Prune)\/Function\//,
    wildcardActions: new RegExp(
      `^(${XRAY}|iam:GetAccountSummary|iam:ListServerCertificates|elasticloadbalancing:Describe(LoadBalancers|Listeners|ListenerCertificates)|ec2:DescribeSecurityGroups|cloudfront:ListDistributions)$`,
    ),
    reason:
      'IAM housekeeping reads: iam:GetAccountSummary (the server-certificate quota) and iam:ListServerCertificates support no resource-level permissions, nor do the reads that prove a certificate unused (elasticloadbalancing:Describe* with the ec2:DescribeSecurityGroups it needs, cloudfront:ListDistributions); X-Ray tracing. Deletion is scoped to the rotation path.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    path: /\/StateMachine\/Role\//,
    wildcardActions: new RegExp(
      `^(${XRAY}|logs:(CreateLogDelivery|GetLogDelivery|UpdateLogDelivery|DeleteLogDelivery|ListLogDeliveries|PutResourcePolicy|DescribeResourcePolicies|DescribeLogGroups))$`,
    ),
    reason:
      'X-Ray tracing and vended-log delivery to the execution log group (CloudWatch Logs delivery APIs support no resource-level permissions).',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::<StorageStaging[0-9A-F]{8}\.Arn>\/\*$/,
    path: /\/Obtain\/Function\//,
    reason: 'Staged files under operator-chosen prefixes of the staging bucket; only obtain reads them (and deletes the staged key).',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::<StorageArtifacts[0-9A-F]{8}\.Arn>\/executions\/\*\/(ledger\/\*|plan\.json|report\.json|prune\.json)$/,
    reason:
      'One per-execution document kind of the artifacts bucket (ledger, plan, report or prune record): the execution name is known only at run time; never the whole bucket.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:states:(<AWS::Region>|[a-z0-9-]+):<AWS::AccountId>:execution:[A-Za-z0-9_-]+:\*$/,
    path: /\/ApprovalPage\/Function\//,
    reason:
      'The approval page checks that the execution of a request is running and waiting at its gate (DescribeExecution, GetExecutionHistory): executions of this state machine only, named at run time.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::<StorageArtifacts[0-9A-F]{8}\.Arn>\/executions\/\*\/edge\/\*$/,
    path: /\/(EdgeSwitch|EdgeVerify)\/Function\//,
    reason:
      "The edge phase's per-batch evidence of each execution (executions/<name>/edge/switched|verified/): what was switched and seen; it steers no change.",
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding:
      /^Resource::arn:<AWS::Partition>:elasticloadbalancing:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):(loadbalancer|listener)\/\*$/,
    path: /\/(EdgeSwitch|Rollback)\/Function\//,
    reason:
      'The edge phase switches (and rollback restores) every classic listener and ELBv2 listener that the plan finds serving the old certificate: they are discovered at run time, so any of them; the switch acts only on plan targets, rollback only on ledger entries it proves against the plan.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:cloudfront::(<AWS::AccountId>|\d{12}):distribution\/\*$/,
    path: /\/(EdgeSwitch|Rollback)\/Function\//,
    reason:
      'The edge phase updates (and rollback restores) every distribution that the plan finds on the old IAM certificate: discovered at run time, so any of them; only ViewerCertificate.IAMCertificateId changes, and only for plan targets / proven ledger entries.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::<StorageArtifacts[0-9A-F]{8}\.Arn>\/executions\/\*\/discovery\/\*$/,
    path: /\/Plan\/Function\//,
    reason: "Plan's own discovery results of each execution (executions/<name>/discovery/), read back when a retried Plan resumes.",
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::<StorageStaging[0-9A-F]{8}\.Arn>\/\*key\.pem$/,
    path: /\/Obtain\/Function\//,
    reason:
      'Obtain deletes every version of the staged key.pem once imported; operators stage it under a prefix they choose, so only the file name is known at synth.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:secretsmanager:(<AWS::Region>|[a-z0-9-]+):<AWS::AccountId>:secret:cert-rotation\/[^*]+\/\*$/,
    path: /\/NodeDeployment\/CertificateReadPolicy\//,
    reason:
      "Nodes fetch each rotation's certificate secret themselves (its name is new on every rotation) under this domain's prefix cert-rotation/<domain>/ only, with GetSecretValue only.",
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:secretsmanager:(<AWS::Region>|[a-z0-9-]+):<AWS::AccountId>:secret:cert-rotation\/[^*]+\/\*$/,
    reason: 'Certificate secrets are named per execution under the rotation prefix cert-rotation/<domain>/; nothing outside it.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:server-certificate\/cloudfront\/.*\*$/,
    reason:
      'Certificate names are dated and new on each rotation; upload, read-back and deletion are limited to the configured /cloudfront/... path.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:server-certificate\/\*$/,
    path: /\/(Current|ExpiryCheck)\/Function\//,
    reason: 'Reads the public body of whichever IAM certificate the canary listener serves (IAM never returns private keys).',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::\*$/,
    path: /\/Schedule\/ExpiryCheck\/Function\//,
    wildcardActions: new RegExp(
      `^(${XRAY}|elasticloadbalancing:DescribeLoadBalancers|ec2:DescribeSecurityGroups|iam:ListServerCertificates|cloudwatch:PutMetricData)$`,
    ),
    reason:
      'The expiry check reads the canary listener (elasticloadbalancing:DescribeLoadBalancers with the ec2:DescribeSecurityGroups it needs, iam:ListServerCertificates: no resource-level permissions) and publishes DaysToExpiry (cloudwatch:PutMetricData has no resources; the grant is conditioned on its own namespace); X-Ray tracing.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Action::kms:(GenerateDataKey\*|ReEncrypt\*)$/,
    reason: 'Publishing to the encrypted notifications topic needs data keys of its own KMS key only.',
  },
  {
    rule: 'AwsSolutions-IAM5',
    finding: /^Resource::<Rotation\w+Function[0-9A-F]{8}\.Arn>:\*$/,
    path: /\/StateMachine\/Role\//,
    reason: 'CDK grants lambda:InvokeFunction on the rotation functions and their versions (<function arn>:*); nothing else.',
  },
];

/** Actions a policy grants on `*` (resolved document of a CfnPolicy), or [] for other constructs. */
function actionsOnWildcard(construct: IConstruct | undefined): string[] {
  if (!(construct instanceof iam.CfnPolicy)) return [];
  const doc = Stack.of(construct).resolve(construct.policyDocument) as {
    Statement?: Array<{ Effect?: string; Action?: string | string[]; Resource?: unknown }>;
  };
  const actions: string[] = [];
  for (const st of doc.Statement ?? []) {
    const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
    if (st.Effect === 'Allow' && resources.includes('*')) actions.push(...(Array.isArray(st.Action) ? st.Action : [st.Action ?? '']));
  }
  return actions;
}

function reasonFor(ruleName: string, constructPath: string, construct: IConstruct | undefined): string | undefined {
  const m = /^([^[]+)(?:\[(.*)\])?$/.exec(ruleName);
  if (!m) return undefined;
  const [, rule, finding] = m;
  return ACKNOWLEDGEMENTS.find(
    (a) =>
      a.rule === rule &&
      (a.finding === undefined || (finding !== undefined && a.finding.test(finding))) &&
      (a.path === undefined || a.path.test(constructPath)) &&
      (a.wildcardActions === undefined || actionsOnWildcard(construct).every((action) => a.wildcardActions!.test(action))),
  )?.reason;
}

/**
 * Runs the AwsSolutions pack over the stack once, and acknowledges each finding that the table
 * above explains, on the exact construct and finding id. Call after the stack is complete.
 */
export function acknowledgeNagFindings(stack: Stack): { acknowledged: number; unexplained: string[] } {
  const report = new AwsSolutionsChecks().validateScope(stack);
  const byPath = new Map<string, IConstruct>(stack.node.findAll().map((c) => [c.node.path, c]));
  let acknowledged = 0;
  const unexplained: string[] = [];
  for (const violation of report.violations) {
    for (const resource of violation.violatingResources) {
      const path = resource.constructPath ?? '';
      const construct = byPath.get(path);
      const reason = reasonFor(violation.ruleName, path, construct);
      if (reason && construct) {
        Validations.of(construct).acknowledge({ id: violation.ruleName, reason });
        acknowledged += 1;
      } else {
        unexplained.push(`${violation.ruleName} at ${path}`);
      }
    }
  }
  return { acknowledged, unexplained };
}
