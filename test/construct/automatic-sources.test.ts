/**
 * The automatic certificate sources in the template: what the obtain function may do with
 * Route53 (only TXT records of this domain's `_acme-challenge` names, in the configured zones) and
 * ACM (only the configured certificate), its environment, the retries, and cdk-nag.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { resolveConfig } from '../../lib/config';
import { STATE } from '../../lib/cert-rotation';
import { definitionOf, exampleRawConfig, policyStatements, stateNamed, synthesize, type Synthesized } from './synth-helpers';

const ACM_ARN = 'arn:aws:acm:us-east-1:123456789012:certificate/0f0e0d0c-1111-4222-8333-444455556666';

function withSources(): Synthesized {
  const raw = exampleRawConfig() as Record<string, unknown>;
  return synthesize(
    resolveConfig({
      ...raw,
      certificateSource: {
        acme: {
          directoryUrl: 'letsencrypt-staging',
          hostedZoneIds: ['Z0GITTER', 'Z0PARENT'],
          eab: { keyId: 'kid-1', hmacSecretName: 'acme/eab' },
        },
        acm: { certificateArn: ACM_ARN, startOnRenewal: true },
      },
    }),
    { nag: true },
  );
}

describe('certificateSource acme + acm', () => {
  const synth = withSources();

  test('ChangeResourceRecordSets only in the configured zones, only UPSERT/DELETE of TXT records named _acme-challenge.<domain>', () => {
    synth.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'route53:ChangeResourceRecordSets',
            Effect: 'Allow',
            Resource: [
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0GITTER']] },
              { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z0PARENT']] },
            ],
            Condition: {
              'ForAllValues:StringEquals': {
                'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_acme-challenge.gitter.im'],
                'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'],
                'route53:ChangeResourceRecordSetsActions': ['UPSERT', 'DELETE'],
              },
            },
          }),
        ]),
      },
    });
  });

  test('the other grants: list zones (no resource scoping), GetChange, read the zones, the EAB secret, the one ACM certificate', () => {
    const statements = policyStatements(synth.json).filter((s) =>
      s.actions.some((a) => /^(route53|acm):/.test(a) || a === 'secretsmanager:GetSecretValue'),
    );
    const by = (action: string) => statements.filter((s) => s.actions.includes(action)).map((s) => s.resources);
    expect(by('route53:ListHostedZones')).toEqual([['*']]);
    expect(by('route53:GetChange')).toEqual([['arn:${AWS::Partition}:route53:::change/*']]);
    expect(by('route53:ListResourceRecordSets')).toEqual([
      ['arn:${AWS::Partition}:route53:::hostedzone/Z0GITTER', 'arn:${AWS::Partition}:route53:::hostedzone/Z0PARENT'],
    ]);
    expect(by('acm:ExportCertificate')).toEqual([[ACM_ARN]]);
    expect(by('secretsmanager:GetSecretValue').flat()).toContain(
      'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:acme/eab-??????',
    );
  });

  test('the obtain function gets the sources (names only) and 10 minutes; ACME server errors and DNS timeouts are retried', () => {
    synth.template.hasResourceProperties('AWS::Lambda::Function', {
      Timeout: 600,
      Environment: {
        Variables: Match.objectLike({ CERTIFICATE_SOURCES: Match.stringLikeRegexp('"hostedZoneIds":\\["Z0GITTER","Z0PARENT"\\]') }),
      },
    });
    const obtain = stateNamed(definitionOf(synth.json), STATE.obtain);
    expect((obtain.Retry ?? []).filter((r) => !r.ErrorEquals[0].startsWith('Lambda.')).map((r) => [r.ErrorEquals, r.MaxAttempts])).toEqual([
      [['AwsTransient'], 6],
      [['AcmeUnavailable'], 3],
      [['DnsChangeTimeout'], 1],
    ]);
  });

  test('ACM renewing the certificate starts a rotation with the acm source (EventBridge, ACM Certificate Available, RENEWAL)', () => {
    synth.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.acm'],
        'detail-type': ['ACM Certificate Available'],
        resources: [ACM_ARN],
        detail: { Action: ['RENEWAL'] },
      },
      Targets: [Match.objectLike({ Input: JSON.stringify({ source: { acm: {} } }) })],
    });
  });
});

describe('no certificateSource (the example config)', () => {
  test('no Route53 or ACM permission at all, and no extra retries', () => {
    const synth = synthesize(resolveConfig(exampleRawConfig()));
    expect(policyStatements(synth.json).filter((s) => s.actions.some((a) => /^(route53|acm):/.test(a)))).toEqual([]);
    const retried = (stateNamed(definitionOf(synth.json), STATE.obtain).Retry ?? []).flatMap((r) => r.ErrorEquals);
    expect(retried.filter((e) => !e.startsWith('Lambda.'))).toEqual(['AwsTransient']);
  });
});
