/**
 * The config drives the synthesized scoping: another domain, IAM path, canary and timing change
 * names, ARNs, environment and the definition, and nothing of the example config leaks through.
 */
import { ConfigError, resolveConfig, type ResolvedConfig } from '../../lib/config';
import { STATE } from '../../lib/cert-rotation';
import type { HandlerName } from '../../lib/rotation-function';
import {
  allStates,
  definitionOf,
  exampleRawConfig,
  flatten,
  isXRay,
  logicalIdOf,
  policyStatements,
  scrubAssetHashes,
  stateMachineResource,
  stateNamed,
  synthesize,
  type AslDefinition,
  type Statement,
  type Synthesized,
} from './synth-helpers';

const PRIVATE_ROOT = '-----BEGIN CERTIFICATE-----\nMIIBprivateRootForTests\n-----END CERTIFICATE-----';

/** A config sharing nothing with the example one. */
function otherRawConfig(): Record<string, unknown> {
  return {
    domain: 'example.org',
    iamPath: '/cloudfront/example-staging/',
    certificateNamePrefix: 'STAR.example.org',
    canary: { loadBalancerName: 'edge-canary-elb', port: 8443, endpoint: 'canary.example.org:8443' },
    edge: { include: ['web-elb', 'E2ABCDEF123456'], exclude: ['legacy-elb:443'] },
    nodePhases: [{ name: 'web', targets: { instanceIds: ['i-0123456789abcdef0'] }, maxConcurrency: '10%', maxErrors: '1' }],
    nginx: { certificatePath: '/srv/tls/example.crt', keyPath: '/srv/tls/example.key' },
    approvals: { timeoutSeconds: 3600 },
    notificationEmails: ['oncall@example.org', 'security@example.org'],
    trustedRootCertificates: [PRIVATE_ROOT],
    timing: { retryIntervalSeconds: 2, retryMaxAttempts: 3, verifyIntervalSeconds: 10, verifyTimeoutSeconds: 60 },
  };
}

let s: Synthesized;
let definition: AslDefinition;
let fnId: Record<HandlerName, string>;
let roleId: Record<HandlerName, string>;

beforeAll(() => {
  s = synthesize(resolveConfig(otherRawConfig()));
  definition = definitionOf(s.json);
  const fns = s.stack.rotation.functions;
  fnId = Object.fromEntries(Object.entries(fns).map(([h, f]) => [h, logicalIdOf(f.function)])) as Record<HandlerName, string>;
  roleId = Object.fromEntries(Object.entries(fns).map(([h, f]) => [h, logicalIdOf(f.function.role!)])) as Record<HandlerName, string>;
});

const statementsOf = (h: HandlerName): Statement[] => policyStatements(s.json, roleId[h]).filter((st) => !isXRay(st));
const envOf = (h: HandlerName): Record<string, string> =>
  flatten((s.json.Resources[fnId[h]].Properties?.Environment as { Variables: unknown }).Variables) as Record<string, string>;

describe('a different config changes the synthesized scoping', () => {
  test('stack, state machine and its log group are named after the domain', () => {
    expect(s.stack.stackName).toBe('CertRotation-example-org');
    expect(stateMachineResource(s.json).Properties?.StateMachineName).toBe('CertRotation-example-org');
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/aws/vendedlogs/states/CertRotation-example-org' });
  });

  test('the guard lists executions of this state machine', () => {
    expect(statementsOf('guard').map((st) => st.resources)).toEqual([
      ['arn:${AWS::Partition}:states:${AWS::Region}:${AWS::AccountId}:stateMachine:CertRotation-example-org'],
    ]);
  });

  test('IAM certificate writes are scoped to the configured path', () => {
    const certArn = 'arn:${AWS::Partition}:iam::${AWS::AccountId}:server-certificate/cloudfront/example-staging/*';
    const upload = statementsOf('upload').find((st) => st.actions.includes('iam:UploadServerCertificate'));
    const del = statementsOf('rollback').find((st) => st.actions.includes('iam:DeleteServerCertificate'));
    expect(upload?.resources).toEqual([certArn]);
    expect(del?.resources).toEqual([certArn]);
  });

  test('the canary switch is scoped to the configured load balancer', () => {
    const sw = statementsOf('switch-canary').find((st) =>
      st.actions.includes('elasticloadbalancing:SetLoadBalancerListenerSSLCertificate'),
    );
    expect(sw?.resources).toEqual([
      'arn:${AWS::Partition}:elasticloadbalancing:${AWS::Region}:${AWS::AccountId}:loadbalancer/edge-canary-elb',
    ]);
  });

  test('secrets are scoped to the domain prefix', () => {
    const resources = new Set(
      policyStatements(s.json)
        .filter((st) => st.actions.some((a) => a.startsWith('secretsmanager:')))
        .flatMap((st) => st.resources),
    );
    expect([...resources]).toEqual([
      'arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:cert-rotation/example.org/*',
    ]);
  });

  test('the handlers get the configured values', () => {
    expect(envOf('upload')).toMatchObject({
      DOMAIN: 'example.org',
      IAM_PATH: '/cloudfront/example-staging/',
      CERTIFICATE_NAME_PREFIX: 'STAR.example.org',
    });
    for (const h of ['current', 'plan', 'switch-canary'] as const) {
      expect(envOf(h)).toMatchObject({ CANARY_LOAD_BALANCER: 'edge-canary-elb', CANARY_PORT: '8443' });
    }
    expect(JSON.parse(envOf('validate').REQUIRED_NAMES)).toEqual(['*.example.org', 'example.org']);
    expect(envOf('validate').TRUSTED_ROOTS).toBe(PRIVATE_ROOT);
    expect(JSON.parse(envOf('plan').EDGE_SELECTION)).toEqual({ include: ['web-elb', 'E2ABCDEF123456'], exclude: ['legacy-elb:443'] });
    expect(JSON.parse(envOf('plan').NODE_PHASES)).toEqual([{ name: 'web', targets: { instanceIds: ['i-0123456789abcdef0'] } }]);
    expect(envOf('obtain').SECRET_PREFIX).toBe('cert-rotation/example.org/');
  });

  test('the definition uses the configured approval timeout, retry and TLS check timing, and canary endpoint', () => {
    for (const gate of [STATE.gateStart, STATE.gateCanary]) expect(stateNamed(definition, gate).TimeoutSeconds).toBe(3600);
    expect(stateNamed(definition, STATE.canaryWait).Seconds).toBe(10);
    expect(stateNamed(definition, STATE.canaryVerify).Parameters).toMatchObject({
      endpoint: 'canary.example.org:8443',
      maxAttempts: 7,
      intervalSeconds: 10,
    });
    expect(stateNamed(definition, STATE.guard).Retry).toContainEqual({
      ErrorEquals: ['AwsTransient'],
      IntervalSeconds: 2,
      MaxAttempts: 3,
      BackoffRate: 2,
    });
    expect(JSON.stringify(stateNamed(definition, STATE.gateStart).Parameters)).toContain('edge-canary-elb:8443 (canary.example.org:8443)');
  });

  test('every configured email is subscribed', () => {
    const endpoints = Object.values(s.json.Resources)
      .filter((r) => r.Type === 'AWS::SNS::Subscription')
      .map((r) => r.Properties?.Endpoint);
    expect(endpoints.sort()).toEqual(['oncall@example.org', 'security@example.org']);
  });

  test('nothing of the example config leaks into the template', () => {
    // Asset hashes scrubbed: they change with every source edit and may hold "6667" by chance.
    const text = JSON.stringify(scrubAssetHashes(s.json));
    const example = exampleRawConfig() as { canary: { loadBalancerName: string } };
    for (const leak of ['gitter', example.canary.loadBalancerName, 'sre@example.com', '6667'])
      expect({ leak, found: text.includes(leak) }).toEqual({ leak, found: false });
  });
});

describe('approval timeouts and the execution timeout', () => {
  /**
   * An execution-level timeout cannot be caught: the execution ends TIMED_OUT without running
   * the rollback chain. So every config the schema accepts must let each gate time out (which is
   * caught, and rolled back) before the execution does.
   */
  test('with the longest approval timeout the config accepts, the gates time out before the execution does', () => {
    // Arrange
    const raw = { ...otherRawConfig(), approvals: { timeoutSeconds: 7 * 86400 } };
    let config: ResolvedConfig;
    try {
      config = resolveConfig(raw);
    } catch (error) {
      // Also a fix: the schema refuses approval timeouts the execution cannot accommodate.
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).problems).toEqual([expect.stringMatching(/^approvals\.timeoutSeconds: /)]);
      return;
    }

    // Act
    const def = definitionOf(synthesize(config).json);

    // Assert
    const gates = allStates(def)
      .map((w) => w.state)
      .filter((st) => (st.Resource ?? '').endsWith('.waitForTaskToken'));
    const gateSeconds = gates.reduce((sum, st) => sum + (st.TimeoutSeconds ?? Number.POSITIVE_INFINITY), 0);
    expect(gates.length).toBeGreaterThanOrEqual(2);
    expect({
      executionTimeout: def.TimeoutSeconds,
      gatesTotal: gateSeconds,
      gatesFitInside: (def.TimeoutSeconds ?? Number.POSITIVE_INFINITY) > gateSeconds,
    }).toEqual({
      executionTimeout: def.TimeoutSeconds,
      gatesTotal: gateSeconds,
      gatesFitInside: true,
    });
  });
});
