/**
 * The approval path in the template: the approval store (encrypted, point-in-time recovery, TTL),
 * the page (a public Lambda function URL), and least privilege: only the page's role reads the
 * store (the table's resource policy) and only it may answer a task (states:SendTask*);
 * request-approval may only add items; no token in S3.
 */
import type { HandlerName } from '../../lib/rotation-function';
import type { RotationStorage } from '../../lib/storage';
import {
  exampleConfig,
  flatten,
  isXRay,
  logicalIdOf,
  policyStatements,
  synthesize,
  type CfnResource,
  type Synthesized,
} from './synth-helpers';

let s: Synthesized;
let tableId: string;
let roleId: Record<HandlerName, string>;
let fnId: Record<HandlerName, string>;

beforeAll(() => {
  s = synthesize(exampleConfig());
  tableId = logicalIdOf((s.stack.node.findChild('Storage') as RotationStorage).approvalTable);
  const fns = s.stack.rotation.functions;
  roleId = Object.fromEntries(Object.entries(fns).map(([h, f]) => [h, logicalIdOf(f.function.role!)])) as Record<HandlerName, string>;
  fnId = Object.fromEntries(Object.entries(fns).map(([h, f]) => [h, logicalIdOf(f.function)])) as Record<HandlerName, string>;
});

const table = (): CfnResource => s.json.Resources[tableId];
const statementsOf = (h: HandlerName) => policyStatements(s.json, roleId[h]).filter((st) => !isXRay(st));
const tableArn = () => `\${${tableId}.Arn}`;
const byType = (type: string) => Object.values(s.json.Resources).filter((r) => r.Type === type);

describe('the approval store', () => {
  test('a DynamoDB table keyed by the id hash: on demand, encrypted (KMS), point-in-time recovery, TTL on expiresAt, retained', () => {
    expect(table()).toMatchObject({
      Type: 'AWS::DynamoDB::Table',
      DeletionPolicy: 'Retain',
      Properties: {
        KeySchema: [{ AttributeName: 'idHash', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'idHash', AttributeType: 'S' }],
        BillingMode: 'PAY_PER_REQUEST',
        SSESpecification: { SSEEnabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      },
    });
  });

  test("the table's resource policy denies every principal but the page's role the reads, the old values of writes, exports and backups", () => {
    const doc = flatten(table().Properties?.ResourcePolicy) as {
      PolicyDocument: { Statement: Array<{ Sid: string; Effect: string; Principal: unknown; Action: string[]; Condition: unknown }> };
    };
    const page = `\${${roleId['approval-page']}.Arn}`;
    const [reads, oldValues] = doc.PolicyDocument.Statement;
    expect(reads).toMatchObject({ Sid: 'OnlyThePageReadsApprovals', Effect: 'Deny', Principal: { AWS: '*' } });
    expect(reads.Action).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:Scan',
        'dynamodb:PartiQLSelect',
        'dynamodb:ExportTableToPointInTime',
      ]),
    );
    expect(reads.Condition).toEqual({ ArnNotEquals: { 'aws:PrincipalArn': page } });
    expect(oldValues).toMatchObject({ Sid: 'NoOldValuesReturnedToOthers', Effect: 'Deny', Principal: { AWS: '*' } });
    expect(oldValues.Condition).toEqual({
      ArnNotEquals: { 'aws:PrincipalArn': page },
      StringNotEquals: { 'dynamodb:ReturnValues': 'NONE' },
    });
  });

  test('only request-approval (PutItem) and the page (GetItem, UpdateItem) are granted anything on the table', () => {
    const onTable = (h: HandlerName) => statementsOf(h).filter((st) => st.resources.some((r) => r.startsWith(tableArn())));
    const users = (Object.keys(roleId) as HandlerName[]).filter((h) => onTable(h).length > 0).sort();
    expect(users).toEqual(['approval-page', 'request-approval']);
    expect(onTable('request-approval').flatMap((st) => st.actions)).toEqual(['dynamodb:PutItem']);
    expect(onTable('approval-page').flatMap((st) => st.actions)).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
    for (const h of users) for (const st of onTable(h)) expect(st.resources).toEqual([tableArn()]);
    // Nothing else in the template grants DynamoDB actions (the state machine role included).
    const others = policyStatements(s.json).filter(
      (st) =>
        st.actions.some((a) => a.startsWith('dynamodb:')) &&
        ![roleId['approval-page'], roleId['request-approval']].some((r) => st.policyLogicalId.startsWith(r.replace(/[0-9A-F]{8}$/, ''))),
    );
    expect(others).toEqual([]);
  });

  test('no task token in S3: no approvals prefix granted or protected in the artifacts bucket', () => {
    expect(JSON.stringify(s.json)).not.toContain('approvals/*');
  });
});

describe('the approval page', () => {
  test('a Lambda function URL, public (the link is opened from an email, on a phone), on the page function', () => {
    const urls = byType('AWS::Lambda::Url');
    expect(urls).toHaveLength(1);
    expect(flatten(urls[0].Properties)).toMatchObject({ AuthType: 'NONE', TargetFunctionArn: `\${${fnId['approval-page']}.Arn}` });
    expect((s.json.Outputs as Record<string, unknown> | undefined)?.ApprovalPageUrl).toBeDefined();
  });

  test("the page's role: the store, this state machine's executions (describe, history) and SendTaskSuccess/SendTaskFailure on it; nothing else", () => {
    const got = statementsOf('approval-page').map((st) => ({ actions: [...st.actions].sort(), resources: st.resources }));
    expect(got).toEqual([
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], resources: [tableArn()] },
      {
        actions: ['states:DescribeExecution', 'states:GetExecutionHistory'],
        resources: ['arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:execution:CertRotation-gitter-im:*'],
      },
      {
        actions: ['states:SendTaskFailure', 'states:SendTaskSuccess'],
        resources: ['arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:CertRotation-gitter-im'],
      },
    ]);
  });

  test('only the page may answer a task: no other role holds states:SendTaskSuccess, SendTaskFailure or SendTaskHeartbeat', () => {
    const holders = policyStatements(s.json)
      .filter((st) => st.actions.some((a) => /^states:(SendTask|\*)/.test(a) || a === '*'))
      .map((st) => st.policyLogicalId);
    expect([...new Set(holders)]).toEqual([
      logicalIdOf(s.stack.rotation.functions['approval-page'].function.role!.node.findChild('DefaultPolicy')),
    ]);
  });

  test('request-approval: PutItem, the plan, the topic; the page URL and what a timeout does in its environment (each gate passes its own timeout)', () => {
    const actions = statementsOf('request-approval')
      .flatMap((st) => st.actions)
      .sort();
    expect(actions).toEqual(['dynamodb:PutItem', 'kms:Decrypt', 'kms:GenerateDataKey*', 's3:GetObject', 'sns:Publish']);
    const env = (s.json.Resources[fnId['request-approval']].Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(flatten(env)).toMatchObject({
      APPROVAL_TABLE: `\${${tableId}}`,
      APPROVAL_PAGE_URL: expect.stringMatching(/FunctionUrl/),
      ON_TIMEOUT: 'rollback',
    });
    expect(env.TIMEOUT_SECONDS).toBeUndefined();
  });
});
