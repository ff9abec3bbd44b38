/**
 * Storage that steers changes is writable only by the roles that own it: per-prefix grants
 * instead of bucket-wide ones, and an artifacts-bucket policy that denies every other principal
 * (the approval store, where task tokens are, has its own test: approvals.test.ts). Rollback may switch back only what the phases that exist change.
 */
import { resolveConfig } from '../../lib/config';
import type { HandlerName } from '../../lib/rotation-function';
import {
  exampleRawConfig,
  flatten,
  isXRay,
  logicalIdOf,
  policyStatements,
  synthesize,
  type CfnResource,
  type Statement,
  type Synthesized,
} from './synth-helpers';

interface PolicyStatementJson {
  readonly Sid?: string;
  readonly Effect: string;
  readonly Principal?: unknown;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Condition?: Record<string, Record<string, unknown>>;
}

let s: Synthesized;
let roleId: Record<HandlerName, string>;
let artifactsId: string;

beforeAll(() => {
  s = synthesize(resolveConfig(exampleRawConfig()));
  const fns = s.stack.rotation.functions;
  roleId = Object.fromEntries(Object.entries(fns).map(([h, f]) => [h, logicalIdOf(f.function.role!)])) as Record<HandlerName, string>;
  artifactsId = logicalIdOf(s.stack.node.findChild('Storage').node.findChild('Artifacts'));
});

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);
const roleArn = (h: HandlerName) => `\${${roleId[h]}.Arn}`;
const objects = (pattern: string) => `\${${artifactsId}.Arn}/${pattern}`;

/** The artifacts bucket's policy statements, intrinsics flattened. */
function artifactsPolicy(t: Synthesized): PolicyStatementJson[] {
  const policies = Object.values(t.json.Resources).filter(
    (r: CfnResource) => r.Type === 'AWS::S3::BucketPolicy' && flatten(r.Properties?.Bucket) === `\${${artifactsId}}`,
  );
  expect(policies).toHaveLength(1);
  return (flatten(policies[0].Properties?.PolicyDocument) as { Statement: PolicyStatementJson[] }).Statement;
}

const statementsOf = (h: HandlerName): Statement[] => policyStatements(s.json, roleId[h]).filter((st) => !isXRay(st));
const artifactStatements = (h: HandlerName) =>
  statementsOf(h).filter((st) => st.resources.some((r) => r.startsWith(`\${${artifactsId}.Arn}`)));

describe('the artifacts bucket policy denies every principal but the owners', () => {
  test.each<[string, string, string[], HandlerName[]]>([
    [
      'LedgerWrittenOnlyBySwitchesAndRollback',
      'executions/*/ledger/*',
      ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      ['switch-canary', 'edge-switch', 'rollback', 'node-send', 'node-poll', 'node-rollback'],
    ],
    [
      'NodeRecordsWrittenOnlyByNodePhases',
      'executions/*/nodes/*',
      ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'],
      ['node-send', 'node-poll', 'node-rollback'],
    ],
    ['PlanWrittenOnlyByPlan', 'executions/*/plan.json', ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], ['plan']],
    ['DiscoveryWrittenOnlyByPlan', 'executions/*/discovery/*', ['s3:PutObject', 's3:DeleteObject', 's3:DeleteObjectVersion'], ['plan']],
  ])('%s: Deny %s to Principal * unless aws:PrincipalArn is an owner role', (sid, pattern, actions, owners) => {
    // Act
    const st = artifactsPolicy(s).find((x) => x.Sid === sid);

    // Assert
    expect(st).toEqual({
      Sid: sid,
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: actions,
      Resource: objects(pattern),
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': owners.map(roleArn) } },
    });
  });

  test('the Denies cover object actions under those prefixes only: a deploy, an update and the bucket itself are never locked out', () => {
    const denies = artifactsPolicy(s).filter((x) => x.Effect === 'Deny' && x.Sid !== undefined);
    expect(denies).toHaveLength(4);
    for (const st of denies) {
      for (const action of list(st.Action)) expect(String(action)).toMatch(/^s3:(PutObject|DeleteObject|DeleteObjectVersion)$/);
      for (const r of list(st.Resource)) expect(String(r)).toMatch(/\/executions\/\*\/(ledger\/\*|plan\.json|discovery\/\*|nodes\/\*)$/);
    }
    // The bucket is retained with its objects; nothing deletes objects on stack removal.
    expect(s.json.Resources[artifactsId]).toMatchObject({ DeletionPolicy: 'Retain' });
    expect(Object.values(s.json.Resources).some((r) => r.Type === 'Custom::S3AutoDeleteObjects')).toBe(false);
  });
});

describe('per-prefix grants: each function gets only the documents it uses', () => {
  test.each<[HandlerName, Array<{ actions: string[]; resources: string[] }>]>([
    [
      'plan',
      [
        { actions: ['s3:PutObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/discovery/*'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    // The plan, to list what the next phase touches; no token in S3 any more.
    ['request-approval', [{ actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] }]],
    [
      'switch-canary',
      [
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/ledger/*'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'rollback',
      [
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/ledger/*'] },
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'verify-rollback',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/ledger/*'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'edge-prepare',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'edge-switch',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/ledger/*', 'executions/*/edge/*'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'edge-poll',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'edge-verify',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json', 'executions/*/ledger/*'] },
        { actions: ['s3:PutObject'], resources: ['executions/*/edge/*'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'finish',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/ledger/*'] },
        { actions: ['s3:PutObject'], resources: ['executions/*/report.json'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'prune',
      [
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/prune.json'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'node-send',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/ledger/*', 'executions/*/nodes/*'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'node-poll',
      [
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/ledger/*', 'executions/*/nodes/*'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    [
      'node-rollback',
      [
        { actions: ['s3:GetObject', 's3:PutObject'], resources: ['executions/*/ledger/*', 'executions/*/nodes/*'] },
        { actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] },
        { actions: ['s3:ListBucket'], resources: [''] },
      ],
    ],
    // The start email reads the plan it summarizes; nothing else (not even a listing).
    ['notify-start', [{ actions: ['s3:GetObject'], resources: ['executions/*/plan.json'] }]],
  ])('%s', (handler, expected) => {
    const got = artifactStatements(handler).map((st) => ({
      actions: [...st.actions].sort(),
      resources: st.resources.map((r) => r.replace(`\${${artifactsId}.Arn}`, '').replace(/^\//, '')),
    }));
    expect(got).toEqual(expected);
  });

  test('no other function touches the artifacts bucket, and no grant covers the whole bucket', () => {
    const touching = (Object.keys(roleId) as HandlerName[]).filter((h) => artifactStatements(h).length > 0).sort();
    expect(touching).toEqual([
      'edge-poll',
      'edge-prepare',
      'edge-switch',
      'edge-verify',
      'finish',
      'node-poll',
      'node-rollback',
      'node-send',
      'notify-start',
      'plan',
      'prune',
      'request-approval',
      'rollback',
      'switch-canary',
      'verify-rollback',
    ]);
    const bucketWide = policyStatements(s.json).filter((st) => st.resources.includes(objects('*')));
    expect(bucketWide).toEqual([]);
    // Only listing is granted on the bucket itself.
    const onBucket = policyStatements(s.json).filter((st) => st.resources.includes(`\${${artifactsId}.Arn}`));
    expect([...new Set(onBucket.flatMap((st) => st.actions))]).toEqual(['s3:ListBucket']);
  });
});

describe('rollback may switch back exactly what the phases that exist change (the canary and the edge rollout)', () => {
  const ARN = 'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}';
  const CANARY_ELB = `${ARN}:loadbalancer/apps-servers-elb-prod`;
  const EDGE_CHANGES = [
    { action: 'elasticloadbalancing:SetLoadBalancerListenerSSLCertificate', resources: [`${ARN}:loadbalancer/*`] },
    { action: 'elasticloadbalancing:ModifyListener', resources: [`${ARN}:listener/*`] },
    { action: 'elasticloadbalancing:AddListenerCertificates', resources: [`${ARN}:listener/*`] },
    { action: 'elasticloadbalancing:RemoveListenerCertificates', resources: [`${ARN}:listener/*`] },
    { action: 'cloudfront:UpdateDistribution', resources: ['arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*'] },
  ];
  const mutating = (h: HandlerName) =>
    statementsOf(h).flatMap((st) =>
      st.actions
        .filter((a) => /^(elasticloadbalancing|cloudfront):/.test(a) && !/:(Describe|Get|List)/.test(a))
        .map((a) => ({ action: a, resources: st.resources })),
    );

  test('rollback and the edge switch may change exactly the edge targets (any listener or distribution: discovered at run time)', () => {
    expect(mutating('rollback')).toEqual(EDGE_CHANGES);
    expect(mutating('edge-switch')).toEqual(EDGE_CHANGES);
  });

  test('the canary switch stays on the canary ELB; no other function changes a listener or distribution', () => {
    expect(mutating('switch-canary')).toEqual([
      { action: 'elasticloadbalancing:SetLoadBalancerListenerSSLCertificate', resources: [CANARY_ELB] },
    ]);
    const changers = (Object.keys(roleId) as HandlerName[]).filter((h) => mutating(h).length > 0).sort();
    expect(changers).toEqual(['edge-switch', 'rollback', 'switch-canary']);
  });

  test('IAM: reads the tag, deletes, only under the configured path', () => {
    const iamStatements = statementsOf('rollback').filter((st) => st.actions.some((a) => a.startsWith('iam:')));
    expect(iamStatements.map((st) => ({ actions: [...st.actions].sort(), resources: st.resources }))).toEqual([
      {
        actions: ['iam:DeleteServerCertificate', 'iam:GetServerCertificate'],
        resources: ['arn:${AWS::Partition}:iam::${AWS::AccountId}:server-certificate/cloudfront/gitter-production/*'],
      },
    ]);
  });
});
