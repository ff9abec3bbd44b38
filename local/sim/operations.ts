/**
 * Every operation the simulated account answers, as `service:Operation` (the SDK command class name
 * minus `Command`). The faults file may only name these (or `*`, or `service:*`). The account checks
 * at construction that its dispatch table holds exactly this list.
 */
export const SIMULATED_OPERATIONS = [
  'iam:UploadServerCertificate',
  'iam:GetServerCertificate',
  'iam:ListServerCertificates',
  'iam:DeleteServerCertificate',
  'elb:DescribeLoadBalancers',
  'elb:SetLoadBalancerListenerSSLCertificate',
  'elbv2:DescribeLoadBalancers',
  'elbv2:DescribeListeners',
  'elbv2:DescribeListenerCertificates',
  'elbv2:ModifyListener',
  'elbv2:AddListenerCertificates',
  'elbv2:RemoveListenerCertificates',
  'cloudfront:ListDistributions',
  'cloudfront:GetDistribution',
  'cloudfront:GetDistributionConfig',
  'cloudfront:UpdateDistribution',
  'ec2:DescribeInstances',
  'secretsmanager:CreateSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
  'secretsmanager:PutSecretValue',
  'secretsmanager:DeleteSecret',
  'secretsmanager:TagResource',
  's3:PutObject',
  's3:GetObject',
  's3:HeadObject',
  's3:DeleteObject',
  's3:ListObjectsV2',
  's3:ListObjectVersions',
  'sns:Publish',
  'sfn:ListExecutions',
  'sfn:DescribeExecution',
  'sfn:SendTaskSuccess',
  'sfn:SendTaskFailure',
  'sfn:SendTaskHeartbeat',
  'ssm:PutParameter',
  'ssm:GetParameter',
] as const;

/** One of {@link SIMULATED_OPERATIONS}. */
export type SimulatedOperationName = (typeof SIMULATED_OPERATIONS)[number];
