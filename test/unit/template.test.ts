/**
 * The template resolver turns the intrinsics CDK emits into simulated values, and refuses any it
 * does not support by name, instead of making up a value such as "[object Object]".
 */
import { resolveIntrinsics, UnsupportedIntrinsic } from '../../local/template';

const resources = {
  Fn1: { Type: 'AWS::Lambda::Function' },
  Bucket1: { Type: 'AWS::S3::Bucket' },
};

function refusal(value: unknown): UnsupportedIntrinsic {
  try {
    resolveIntrinsics(value, resources);
  } catch (e) {
    if (e instanceof UnsupportedIntrinsic) return e;
    throw e;
  }
  throw new Error(`resolved ${JSON.stringify(value)}`);
}

describe('resolveIntrinsics', () => {
  test('resolves Ref, Fn::GetAtt, Fn::Join, Fn::Select and Fn::Split, nested in objects and arrays', () => {
    // Act
    const resolved = resolveIntrinsics(
      {
        fn: { 'Fn::GetAtt': ['Fn1', 'Arn'] },
        bucket: { Ref: 'Bucket1' },
        list: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'Bucket1' }]] }],
        first: { 'Fn::Select': [1, { 'Fn::Split': ['/', 'a/b/c'] }] },
      },
      resources,
    );

    // Assert
    expect(resolved).toEqual({
      fn: 'arn:aws:lambda:us-east-1:123456789012:function:Fn1',
      bucket: 'rehearsal-bucket1',
      list: ['arn:aws:s3:::rehearsal-bucket1'],
      first: 'b',
    });
  });

  test.each([
    [
      'an intrinsic it does not know',
      { x: [{ 'Fn::Sub': 'arn:${AWS::Partition}:x' }] },
      /does not support the intrinsic Fn::Sub \(at \$\.x\[0\]\)/,
    ],
    [
      'a Ref to no resource',
      { Ref: 'Missing' },
      /does not support Ref Missing \(no such resource or supported pseudo parameter\) \(at \$\)/,
    ],
    ['a Ref to a pseudo parameter it does not simulate', { Ref: 'AWS::StackName' }, /Ref AWS::StackName/],
    ['a Fn::GetAtt of no resource', { 'Fn::GetAtt': ['Missing', 'Arn'] }, /Fn::GetAtt of Missing \(no such resource\)/],
    [
      'a join of an unsupported intrinsic',
      { 'Fn::Join': ['', ['a', { 'Fn::ImportValue': 'x' }]] },
      /the intrinsic Fn::ImportValue \(at \$\.Fn::Join\[1\]\[1\]\)/,
    ],
    ['a join of an object', { 'Fn::Join': ['', ['a', { not: 'a string' }]] }, /a non-string value in Fn::Join/],
    ['a Fn::Select outside its list', { 'Fn::Select': [3, ['a']] }, /Fn::Select index 3 outside its list/],
  ])('refuses %s, naming it', (_what, value, message) => {
    expect(refusal(value).message).toMatch(message);
  });
});
