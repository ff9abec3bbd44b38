/**
 * cdk-nag AwsSolutions over the stack: the synth passes with the reasoned acknowledgements of
 * lib/nag.ts, every entry of the table is explained and still used, and the table cannot
 * silently acknowledge a wildcard somebody adds later.
 */
import { Validations, type App } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACKNOWLEDGEMENTS, acknowledgeNagFindings } from '../../lib/nag';
import type { HandlerName } from '../../lib/rotation-function';
import { buildApp } from '../../lib/app';
import { resolveConfig } from '../../lib/config';
import { buildStack, exampleConfig, exampleRawConfig, SKIP_BUNDLING } from './synth-helpers';

/** A fresh app (nag off), with extra statements added to function roles before nag runs, then nag wired as lib/app.ts does. */
function appWithNag(extra: ReadonlyArray<{ readonly handler: HandlerName; readonly statement: iam.PolicyStatement }> = []): {
  readonly app: App;
  readonly result: ReturnType<typeof acknowledgeNagFindings>;
} {
  const { app, stack } = buildStack(exampleConfig());
  for (const { handler, statement } of extra) stack.rotation.functions[handler].function.addToRolePolicy(statement);
  // Same wiring as buildApp({ nag: true }): the AwsSolutions pack on the app, then the acknowledgements.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const result = acknowledgeNagFindings(stack);
  return { app, result };
}

/** `AwsSolutions-IAM5[Resource::*]` -> rule and finding. */
function splitRuleName(ruleName: string): { rule: string; finding?: string } {
  const m = /^([^[]+)(?:\[(.*)\])?$/.exec(ruleName);
  return m ? { rule: m[1], ...(m[2] !== undefined ? { finding: m[2] } : {}) } : { rule: ruleName };
}

describe('cdk-nag AwsSolutions', () => {
  test('with nag on, the app synthesizes: no unacknowledged AwsSolutions error', () => {
    // Arrange
    const { app } = buildStack(exampleConfig(), { nag: true });

    // Act / Assert
    expect(() => app.synth()).not.toThrow();
  });

  test('with a concrete region (what `cdk synth` resolves from the environment here), the app synthesizes too', () => {
    // Arrange: ARNs then name the region instead of <AWS::Region>
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    delete process.env.CDK_DEFAULT_ACCOUNT;
    process.env.CDK_DEFAULT_REGION = 'us-east-1';
    try {
      const { app } = buildApp({ config: exampleConfig(), context: { ...SKIP_BUNDLING }, nag: true });

      // Act / Assert
      expect(() => app.synth()).not.toThrow();
    } finally {
      for (const [k, v] of [
        ['CDK_DEFAULT_ACCOUNT', saved.account],
        ['CDK_DEFAULT_REGION', saved.region],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  test('every finding on the stack is explained by the table (unexplained: [])', () => {
    // Act
    const { result } = appWithNag();

    // Assert
    expect(result.unexplained).toEqual([]);
    expect(result.acknowledged).toBeGreaterThan(0);
  });

  test('every acknowledgement has a real reason', () => {
    expect(ACKNOWLEDGEMENTS.length).toBeGreaterThan(0);
    for (const [i, a] of ACKNOWLEDGEMENTS.entries()) {
      const reason = a.reason.trim();
      const words = reason.split(/\s+/).length;
      expect({ i, rule: a.rule, rule_ok: /^AwsSolutions-[A-Z]+\d+$/.test(a.rule) }).toEqual({ i, rule: a.rule, rule_ok: true });
      expect({ i, rule: a.rule, longEnough: reason.length >= 40 && words >= 8 }).toEqual({ i, rule: a.rule, longEnough: true });
      expect({ i, rule: a.rule, placeholder: /\b(TODO|FIXME|TBD|XXX)\b/.test(reason) }).toEqual({ i, rule: a.rule, placeholder: false });
      expect({ i, rule: a.rule, justTheRuleId: reason.includes(a.rule) }).toEqual({ i, rule: a.rule, justTheRuleId: false });
    }
  });

  test('no acknowledgement covers every wildcard: each IAM5 entry names its finding', () => {
    const blanket = ACKNOWLEDGEMENTS.filter((a) => a.rule === 'AwsSolutions-IAM5' && a.finding === undefined);
    expect(blanket).toEqual([]);
  });

  test('every acknowledgement is still needed: it is the first to match at least one finding', () => {
    // Arrange: the findings of a fresh stack, matched in table order (first match wins, as in lib/nag.ts)
    // (with the optional ACME source on too: its Route53 grants have acknowledgements of their own)
    const { stack } = buildStack(
      resolveConfig({ ...(exampleRawConfig() as Record<string, unknown>), certificateSource: { acme: { hostedZoneIds: ['Z0EXAMPLE'] } } }),
    );
    const report = new AwsSolutionsChecks().validateScope(stack);
    const used = ACKNOWLEDGEMENTS.map(() => 0);

    // Act
    for (const violation of report.violations) {
      const { rule, finding } = splitRuleName(violation.ruleName);
      for (const r of violation.violatingResources) {
        const i = ACKNOWLEDGEMENTS.findIndex(
          (a) =>
            a.rule === rule &&
            (a.finding === undefined || (finding !== undefined && a.finding.test(finding))) &&
            (a.path === undefined || a.path.test(r.constructPath ?? '')),
        );
        if (i >= 0) used[i] += 1;
      }
    }

    // Assert
    const unused = ACKNOWLEDGEMENTS.map((a, i) => ({ i, rule: a.rule, finding: String(a.finding ?? ''), uses: used[i] })).filter(
      (u) => u.uses === 0,
    );
    expect(unused).toEqual([]);
  });

  describe('a new wildcard is never acknowledged silently', () => {
    test('s3:* on * added to a function: reported as unexplained, and the synth fails', () => {
      // Arrange / Act
      const { app, result } = appWithNag([
        { handler: 'verify-tls', statement: new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }) },
      ]);

      // Assert
      expect(result.unexplained).toContain(
        'AwsSolutions-IAM5[Action::s3:*] at CertRotation-gitter-im/Rotation/VerifyTls/Function/ServiceRole/DefaultPolicy/Resource',
      );
      expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::s3:\*\]/);
    });

    test('a wildcard on a resource of another bucket: reported as unexplained', () => {
      const { result } = appWithNag([
        {
          handler: 'finish',
          statement: new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::someone-elses-bucket/*'] }),
        },
      ]);
      expect(result.unexplained).toEqual([
        'AwsSolutions-IAM5[Resource::arn:aws:s3:::someone-elses-bucket/*] at CertRotation-gitter-im/Rotation/Finish/Function/ServiceRole/DefaultPolicy/Resource',
      ]);
    });

    // cdk-nag reports `Resource::*` once per policy document, whatever the statements. The table
    // acknowledges that finding on every function for X-Ray / Describe calls, so a *new* statement
    // on "*" (here: deleting any IAM certificate, reading any secret) must still be caught.
    test.each([
      ['upload', 'iam:DeleteServerCertificate'],
      ['verify-tls', 'secretsmanager:GetSecretValue'],
      ['current', 'elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'],
    ] as const)('%s gets %s on "*": reported as unexplained', (handler, action) => {
      // Arrange / Act
      const { result } = appWithNag([{ handler, statement: new iam.PolicyStatement({ actions: [action], resources: ['*'] }) }]);

      // Assert
      expect(result.unexplained).toEqual([expect.stringMatching(/^AwsSolutions-IAM5\[Resource::\*\] at /)]);
    });
  });
});
