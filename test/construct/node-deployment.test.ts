/**
 * The node deployment (lib/node-deployment): the SSM Command document carries the very script
 * text the nginx tests run, its parameters reach the script as environment variables only and
 * refuse anything their patterns do not allow; the managed policy reads only this domain's
 * certificate secrets and is attached to the configured instance roles; both are outputs.
 */
import { Validations } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConfigError, resolveConfig } from '../../lib/config';
import { ACKNOWLEDGEMENTS, acknowledgeNagFindings } from '../../lib/nag';
import { DEPLOY_PARAMETERS, deployParameters, deployScript } from '../../lib/node-deployment';
import { buildStack, exampleRawConfig, flatten, logicalIdOf, synthesize, type CfnResource, type Synthesized } from './synth-helpers';

const SECRETS = 'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:cert-rotation/gitter.im/*';
const ROLES = ['gitter-ws-instance', 'gitter-beta-instance'];

const withRoles = (roles: unknown) => resolveConfig({ ...exampleRawConfig(), nodeAccess: { instanceRoleNames: roles } });

let s: Synthesized;
let document: CfnResource;
type Content = {
  schemaVersion: string;
  parameters: Record<
    string,
    { type: string; interpolationType?: string; allowedPattern?: string; allowedValues?: string[]; default?: string }
  >;
  mainSteps: Array<{ action: string; name: string; inputs: { runCommand: string[]; timeoutSeconds: string } }>;
};
let content: Content;

beforeAll(() => {
  s = synthesize(withRoles(ROLES));
  const documents = Object.values(s.json.Resources).filter((r) => r.Type === 'AWS::SSM::Document');
  expect(documents).toHaveLength(1);
  document = documents[0];
  content = document.Properties?.Content as Content;
});

describe('the deploy document', () => {
  test('is a Command document, schema 2.2, named after the domain, updated as a new version', () => {
    expect(document.Properties).toMatchObject({
      DocumentType: 'Command',
      DocumentFormat: 'JSON',
      Name: 'CertRotation-gitter-im-DeployCertificate',
      UpdateMethod: 'NewVersion',
    });
    expect(content.schemaVersion).toBe('2.2');
  });

  test('runs exactly the script file of the repository (the one the nginx tests run) in one aws:runShellScript step', () => {
    expect(content.mainSteps).toHaveLength(1);
    expect(content.mainSteps[0].action).toBe('aws:runShellScript');
    expect(content.mainSteps[0].inputs.runCommand.join('\n')).toBe(deployScript());
    expect(content.mainSteps[0].inputs.runCommand[0]).toBe('#!/bin/sh');
  });

  test('every parameter reaches the script as SSM_<name> only (ENV_VAR, no {{ }} in the script) and is constrained', () => {
    expect(Object.keys(content.parameters).sort()).toEqual(Object.keys(DEPLOY_PARAMETERS).sort());
    for (const [name, p] of Object.entries(content.parameters)) {
      expect({ name, type: p.type, interpolationType: p.interpolationType }).toEqual({
        name,
        type: 'String',
        interpolationType: 'ENV_VAR',
      });
      expect({ name, constrained: p.allowedPattern !== undefined || p.allowedValues !== undefined }).toEqual({ name, constrained: true });
      expect(deployScript()).toContain(`SSM_${name}`);
    }
    expect(JSON.stringify(content.mainSteps)).not.toContain('{{');
    expect(content.parameters.action.allowedValues).toEqual(['install', 'rollback']);
  });

  test('takes its defaults from the config: nginx paths and commands, the domain as SNI name', () => {
    const d = (name: string) => content.parameters[name].default;
    expect([d('certificatePath'), d('keyPath'), d('nginxTestCommand'), d('nginxReloadCommand'), d('serverName')]).toEqual([
      '/etc/nginx/ssl/gitter.im.crt',
      '/etc/nginx/ssl/gitter.im.key',
      'nginx -t',
      'systemctl reload nginx',
      'gitter.im',
    ]);
    // No default to fall back on: an install names its secret and fingerprint, a run names its action.
    expect([d('action'), d('secretId'), d('expectedSha256')]).toEqual([undefined, '', '']);
  });

  test('the patterns refuse shell in commands, relative paths and a fingerprint that is not one (as SendCommand would)', () => {
    const base = {
      action: 'install',
      secretId: 'cert-rotation/gitter.im/x',
      certificatePath: '/a/c',
      keyPath: '/a/k',
      serverName: 'gitter.im',
    } as const;
    const commands = { nginxTestCommand: 'nginx -t', nginxReloadCommand: 'nginx -s reload' };
    expect(() => deployParameters({ ...base, ...commands })).not.toThrow();
    expect(() => deployParameters({ ...base, ...commands, nginxReloadCommand: 'nginx -s reload; curl evil' })).toThrow(
      'nginxReloadCommand',
    );
    expect(() => deployParameters({ ...base, ...commands, nginxTestCommand: 'nginx -t $(id)' })).toThrow('nginxTestCommand');
    expect(() => deployParameters({ ...base, ...commands, keyPath: 'ssl/k' })).toThrow('keyPath');
    expect(() => deployParameters({ ...base, ...commands, expectedSha256: 'abc' })).toThrow('expectedSha256');
    expect(() => deployParameters({ ...base, ...commands, action: 'upgrade' })).toThrow('action must be one of install, rollback');
    // The document's own patterns are the same (the tests' helper reads them from the same table).
    expect(new RegExp(content.parameters.nginxReloadCommand.allowedPattern!).test('nginx -s reload; curl evil')).toBe(false);
  });

  test('monit.controlFiles and reloadCommand become the monitFiles and monitReloadCommand defaults; without them, none and monit reload', () => {
    expect([content.parameters.monitFiles.default, content.parameters.monitReloadCommand.default]).toEqual(['', 'monit reload']);
    const raw = exampleRawConfig() as { monit: Record<string, unknown> };
    const config = resolveConfig({
      ...raw,
      monit: { ...raw.monit, controlFiles: ['/etc/monit/conf.d/cert', '/etc/monit/conf.d/irc'], reloadCommand: 'systemctl reload monit' },
    });
    const withMonit = Object.values(synthesize(config).json.Resources).find((r) => r.Type === 'AWS::SSM::Document')!;
    const parameters = (withMonit.Properties?.Content as Content).parameters;
    expect([parameters.monitFiles.default, parameters.monitReloadCommand.default]).toEqual([
      '/etc/monit/conf.d/cert /etc/monit/conf.d/irc',
      'systemctl reload monit',
    ]);
  });

  test('a config default that the document could never accept stops the synth, naming it', () => {
    const raw = exampleRawConfig() as { nginx: Record<string, unknown> };
    const config = resolveConfig({ ...raw, nginx: { ...raw.nginx, reloadCommand: 'nginx -s reload && echo done' } });
    expect(() => buildStack(config)).toThrow('the default of nginxReloadCommand');
  });

  test('fits SSM document limits (64 KiB content)', () => {
    expect(JSON.stringify(content).length).toBeLessThan(64 * 1024);
  });
});

describe('instance access', () => {
  const policyOf = (synth: Synthesized): [string, CfnResource] => {
    const policies = Object.entries(synth.json.Resources).filter(([, r]) => r.Type === 'AWS::IAM::ManagedPolicy');
    expect(policies).toHaveLength(1);
    return policies[0];
  };

  test("a managed policy allows only secretsmanager:GetSecretValue, only on this domain's certificate secrets", () => {
    const [, policy] = policyOf(s);
    const statements = (policy.Properties?.PolicyDocument as { Statement: unknown[] }).Statement.map((st) => flatten(st));
    expect(statements).toEqual([
      { Sid: 'ReadCertificateSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: SECRETS },
    ]);
  });

  test('is attached to the instance roles the config names, and to nothing else', () => {
    const [, policy] = policyOf(s);
    expect(policy.Properties?.Roles).toEqual(ROLES);
    expect(policy.Properties?.Users).toBeUndefined();
    expect(policy.Properties?.Groups).toBeUndefined();
    // No role of the stack's own functions gets it.
    const attachedElsewhere = Object.values(s.json.Resources).filter(
      (r) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r).includes(logicalIdOf(s.stack.nodeDeployment.policy)),
    );
    expect(attachedElsewhere).toEqual([]);
  });

  test('without nodeAccess, the policy exists unattached (an output, for roles managed elsewhere)', () => {
    const plain = synthesize(resolveConfig(exampleRawConfig()));
    const [, policy] = policyOf(plain);
    expect(policy.Properties?.Roles).toBeUndefined();
  });

  test('the stack outputs the document name and the policy ARN', () => {
    s.template.hasOutput('NodeDeployDocument', { Value: { Ref: logicalIdOf(s.stack.nodeDeployment.document) } });
    s.template.hasOutput('NodeCertificatePolicyArn', {
      Value: { Ref: logicalIdOf(s.stack.nodeDeployment.policy) },
      Description: Match.stringLikeRegexp('instance roles'),
    });
  });

  test('cdk-nag: the secrets wildcard of the node policy is acknowledged with its own reason, nothing unexplained', () => {
    const { app, stack } = buildStack(withRoles(ROLES));
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    const report = new AwsSolutionsChecks().validateScope(stack);
    const onPolicy = report.violations.filter((v) =>
      v.violatingResources.some((r) => (r.constructPath ?? '').includes('/NodeDeployment/')),
    );
    expect(onPolicy.map((v) => v.ruleName)).toEqual([
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:cert-rotation/gitter.im/*]`,
    ]);
    expect(acknowledgeNagFindings(stack).unexplained).toEqual([]);
    const entry = ACKNOWLEDGEMENTS.find((a) => a.path?.test('CertRotation-gitter-im/NodeDeployment/CertificateReadPolicy/Resource'));
    expect(entry?.reason).toContain('Nodes fetch');
  });
});

describe('config: nodeAccess.instanceRoleNames', () => {
  const problems = (roles: unknown): readonly string[] => {
    try {
      withRoles(roles);
    } catch (error) {
      if (error instanceof ConfigError) return error.problems;
      throw error;
    }
    throw new Error('the config was accepted');
  };

  test('defaults to no role', () => {
    expect(resolveConfig(exampleRawConfig()).nodeAccess).toEqual({ instanceRoleNames: [] });
  });

  test.each([
    [
      ['arn:aws:iam::123456789012:role/ws'],
      'nodeAccess.instanceRoleNames[0]: "arn:aws:iam::123456789012:role/ws" must be an IAM role name',
    ],
    [['ws', 'ws'], 'nodeAccess.instanceRoleNames: lists a role twice'],
    ['ws', 'nodeAccess.instanceRoleNames: must be a list of non-empty strings'],
    [['x'.repeat(65)], 'nodeAccess.instanceRoleNames[0]'],
  ])('refuses %j', (roles, message) => {
    expect(problems(roles).join('\n')).toContain(message);
  });

  test('an unknown field is named', () => {
    expect(() => resolveConfig({ ...exampleRawConfig(), nodeAccess: { roles: ['ws'] } })).toThrow('nodeAccess.roles: unknown field');
  });
});
