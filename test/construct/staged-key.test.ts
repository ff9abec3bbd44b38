/**
 * The staged private key (issue 5, item 4): only obtain may read `*key.pem` in the staging bucket,
 * and obtain holds exactly what deleting every version of it needs.
 */
import { exampleConfig, flatten, logicalIdOf, synthesize, type Synthesized } from './synth-helpers';

let s: Synthesized;
let staging: string;
let obtainRole: string;

beforeAll(() => {
  s = synthesize(exampleConfig());
  staging = logicalIdOf(s.stack.node.findChild('Storage').node.findChild('Staging'));
  obtainRole = logicalIdOf(s.stack.rotation.functions.obtain.function.role!);
});

interface RawStatement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
  readonly Principal?: unknown;
  readonly Condition?: unknown;
  readonly Sid?: string;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : [v]);

/** Obtain's identity statements, intrinsics flattened, X-Ray left out. */
function obtainStatements(): RawStatement[] {
  return Object.values(s.json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy' && list(flatten(r.Properties?.Roles)).includes(`\${${obtainRole}}`))
    .flatMap((r) => (flatten(r.Properties?.PolicyDocument) as { Statement: RawStatement[] }).Statement)
    .filter((st) => !list(st.Action).every((a) => String(a).startsWith('xray:')));
}

function stagingPolicy(): RawStatement[] {
  const policies = Object.values(s.json.Resources).filter(
    (r) => r.Type === 'AWS::S3::BucketPolicy' && flatten(r.Properties?.Bucket) === `\${${staging}}`,
  );
  expect(policies).toHaveLength(1);
  return (flatten(policies[0].Properties?.PolicyDocument) as { Statement: RawStatement[] }).Statement;
}

test('obtain may read staged files, list versions only of a key.pem, and delete versions only of key.pem', () => {
  const s3 = obtainStatements().filter((st) => list(st.Action).some((a) => String(a).startsWith('s3:')));

  expect(s3).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ Effect: 'Allow', Action: 's3:GetObject', Resource: `\${${staging}.Arn}/*` }),
      expect.objectContaining({
        Effect: 'Allow',
        Action: 's3:ListBucketVersions',
        Resource: `\${${staging}.Arn}`,
        Condition: { StringLike: { 's3:prefix': '*key.pem' } },
      }),
      expect.objectContaining({ Effect: 'Allow', Action: 's3:DeleteObjectVersion', Resource: `\${${staging}.Arn}/*key.pem` }),
    ]),
  );
  // Nothing more: no bucket-wide read grants (GetObject*, List*), no plain DeleteObject, no writes.
  expect(s3.flatMap((st) => list(st.Action)).sort()).toEqual(['s3:DeleteObjectVersion', 's3:GetObject', 's3:ListBucketVersions']);
});

test('the staging bucket policy denies reading any version of *key.pem to every principal but obtain', () => {
  const deny = stagingPolicy().find((st) => st.Sid === 'OnlyObtainReadsStagedKeys');

  expect(deny).toEqual({
    Sid: 'OnlyObtainReadsStagedKeys',
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: ['s3:GetObject', 's3:GetObjectVersion'],
    Resource: `\${${staging}.Arn}/*key.pem`,
    Condition: { ArnNotEquals: { 'aws:PrincipalArn': `\${${obtainRole}.Arn}` } },
  });
});

test('the deny leaves staging and clean-up possible: uploads, listings and deletes are not denied', () => {
  const denied = stagingPolicy()
    .filter((st) => st.Effect === 'Deny' && st.Sid === 'OnlyObtainReadsStagedKeys')
    .flatMap((st) => list(st.Action).map(String));

  expect(denied.filter((a) => /^s3:(Put|List|Delete)/.test(a))).toEqual([]);
});

test('no other role may delete object versions of the staging bucket', () => {
  const deleters = Object.values(s.json.Resources)
    .filter((r) => r.Type === 'AWS::IAM::Policy')
    .filter((r) =>
      (flatten(r.Properties?.PolicyDocument) as { Statement: RawStatement[] }).Statement.some(
        (st) =>
          list(st.Action).some((a) => /^s3:DeleteObject/.test(String(a))) &&
          list(st.Resource).some((x) => String(x).startsWith(`\${${staging}.Arn}`)),
      ),
    )
    .map((r) => list(flatten(r.Properties?.Roles)));

  expect(deleters).toEqual([[`\${${obtainRole}}`]]);
});
