/**
 * lib/config: the `certRotation` block of cdk.json is validated at synth, defaults are filled
 * in, and every problem is reported together, each message starting with the field it names.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ConfigError, gateNamesOf, gateTimeoutSeconds, resolveConfig, type ResolvedConfig } from '../../lib/config';

type Json = Record<string, unknown>;

/** The example config shipped in cdk.json (`context.certRotation`), read fresh on every call. */
function exampleRaw(): Json {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8')) as { context: { certRotation: Json } };
  return structuredClone(cdkJson.context.certRotation);
}

/** Deletes the field instead of setting it. */
const REMOVE = Symbol('remove');

/**
 * The example config with fields replaced: keys are dotted paths (`canary.port`,
 * `nodePhases.0.targets.tags`); the value REMOVE deletes the field.
 */
function makeRaw(overrides: Record<string, unknown> = {}): Json {
  const raw = exampleRaw();
  for (const [dotted, value] of Object.entries(overrides)) {
    const keys = dotted.split('.');
    const last = keys.pop() as string;
    let node = raw as Record<string, unknown>;
    for (const k of keys) {
      if (typeof node[k] !== 'object' || node[k] === null) node[k] = {};
      node = node[k] as Record<string, unknown>;
    }
    if (value === REMOVE) delete node[last];
    else node[last] = value;
  }
  return raw;
}

/** The smallest config: only the fields without a default. */
function minimalRaw(): Json {
  return {
    domain: 'example.org',
    iamPath: '/cloudfront/example/',
    certificateNamePrefix: 'STAR.example.org',
    canary: { loadBalancerName: 'canary-elb', port: 443, endpoint: 'www.example.org:443' },
    nodePhases: [],
    nginx: { certificatePath: '/etc/nginx/ssl/example.crt', keyPath: '/etc/nginx/ssl/example.key' },
    notificationEmails: ['ops@example.org'],
  };
}

/** The problems resolveConfig reports; fails the test when it accepts the config. */
function problemsOf(raw: unknown): readonly string[] {
  try {
    resolveConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('resolveConfig accepted the config; expected a ConfigError');
}

/** A PEM-shaped certificate of exactly `length` characters (lib/config/sections/trust.ts checks the armour, not the DER). */
function fakePem(length: number): string {
  const head = '-----BEGIN CERTIFICATE-----\n';
  const tail = '\n-----END CERTIFICATE-----';
  return `${head}${'A'.repeat(length - head.length - tail.length)}${tail}`;
}

describe('resolveConfig: accepted configs', () => {
  test('the example config in cdk.json resolves to exactly what it says, plus the derived canary host and port', () => {
    // Arrange
    const raw = exampleRaw();

    // Act
    const config = resolveConfig(raw);

    // Assert
    const expected: ResolvedConfig = {
      domain: 'gitter.im',
      certificateNames: ['*.gitter.im', 'gitter.im'],
      iamPath: '/cloudfront/gitter-production/',
      certificateNamePrefix: 'STAR.gitter.im',
      canary: {
        loadBalancerName: 'apps-servers-elb-prod',
        port: 6667,
        endpoint: 'irc.gitter.im:6667',
        host: 'irc.gitter.im',
        endpointPort: 6667,
      },
      edge: {
        include: [],
        exclude: [],
        batchSize: { elb: 1000, elbv2: 200, cloudfront: 250 },
        maxConcurrency: { elb: 2, elbv2: 2, cloudfront: 2 },
        callConcurrency: { elb: 4, elbv2: 4, cloudfront: 3 },
        deployTimeoutSeconds: 2700,
        deployPollSeconds: 30,
      },
      nodePhases: [
        { name: 'beta', targets: { tags: { Env: ['beta'] } }, maxConcurrency: '1', maxErrors: '0' },
        { name: 'prod-canary', targets: { tags: { Name: ['ws-01'] } }, maxConcurrency: '1', maxErrors: '0' },
        { name: 'prod', targets: { tags: { Env: ['prod'] } }, maxConcurrency: '25%', maxErrors: '0' },
      ],
      nodeRollout: { unavailableNodes: 'refuse', pollSeconds: 15, timeoutSeconds: 3600 },
      nginx: {
        certificatePath: '/etc/nginx/ssl/gitter.im.crt',
        keyPath: '/etc/nginx/ssl/gitter.im.key',
        testCommand: 'nginx -t',
        reloadCommand: 'systemctl reload nginx',
      },
      approvals: { timeoutSeconds: 86400, onTimeout: 'rollback', gates: {} },
      notificationEmails: ['sre@example.com'],
      schedule: { enabled: true, expression: 'cron(0 9 * * ? *)', daysBeforeExpiry: 30 },
      trustedRootCertificates: [],
      timing: { retryIntervalSeconds: 5, retryMaxAttempts: 6, verifyIntervalSeconds: 15, verifyTimeoutSeconds: 300 },
      prune: { keep: 1 },
      monit: { fingerprintParameterName: '/gitter/monit/certificate-md5' },
      nodeAccess: { instanceRoleNames: [] },
      certificateSource: {},
    };
    expect(config).toEqual(expected);
  });

  test('the example config sets every optional field to its documented default (so the defaults and the example agree)', () => {
    // Arrange: drop every field that has a default
    const raw = makeRaw({
      certificateNames: REMOVE,
      edge: REMOVE,
      'nginx.testCommand': REMOVE,
      'nginx.reloadCommand': REMOVE,
      approvals: REMOVE,
      schedule: REMOVE,
      trustedRootCertificates: REMOVE,
      timing: REMOVE,
      prune: REMOVE,
    });

    // Act
    const withDefaults = resolveConfig(raw);

    // Assert
    expect(withDefaults).toEqual(resolveConfig(exampleRaw()));
  });

  test('a minimal config gets every documented default', () => {
    // Act
    const config = resolveConfig({
      ...minimalRaw(),
      nodePhases: [{ name: 'all', targets: { instanceIds: ['i-0123456789abcdef0'] } }],
    });

    // Assert
    expect(config).toEqual({
      domain: 'example.org',
      certificateNames: ['*.example.org', 'example.org'],
      iamPath: '/cloudfront/example/',
      certificateNamePrefix: 'STAR.example.org',
      canary: { loadBalancerName: 'canary-elb', port: 443, endpoint: 'www.example.org:443', host: 'www.example.org', endpointPort: 443 },
      edge: {
        include: [],
        exclude: [],
        batchSize: { elb: 1000, elbv2: 200, cloudfront: 250 },
        maxConcurrency: { elb: 2, elbv2: 2, cloudfront: 2 },
        callConcurrency: { elb: 4, elbv2: 4, cloudfront: 3 },
        deployTimeoutSeconds: 2700,
        deployPollSeconds: 30,
      },
      nodePhases: [{ name: 'all', targets: { instanceIds: ['i-0123456789abcdef0'] }, maxConcurrency: '1', maxErrors: '0' }],
      nodeRollout: { unavailableNodes: 'refuse', pollSeconds: 15, timeoutSeconds: 3600 },
      nginx: {
        certificatePath: '/etc/nginx/ssl/example.crt',
        keyPath: '/etc/nginx/ssl/example.key',
        testCommand: 'nginx -t',
        reloadCommand: 'systemctl reload nginx',
      },
      approvals: { timeoutSeconds: 86400, onTimeout: 'rollback', gates: {} },
      notificationEmails: ['ops@example.org'],
      schedule: { enabled: true, expression: 'cron(0 9 * * ? *)', daysBeforeExpiry: 30 },
      trustedRootCertificates: [],
      timing: { retryIntervalSeconds: 5, retryMaxAttempts: 6, verifyIntervalSeconds: 15, verifyTimeoutSeconds: 300 },
      prune: { keep: 1 },
      nodeAccess: { instanceRoleNames: [] },
      certificateSource: {},
    });
    expect(config).not.toHaveProperty('pagerDuty');
    expect(config).not.toHaveProperty('monit');
  });

  test('the canary host is lower-cased; a single tag value is taken as a list; pagerDuty and a disabled schedule pass through', () => {
    // Act
    const config = resolveConfig(
      makeRaw({
        'canary.endpoint': 'IRC.Gitter.IM:6697',
        'nodePhases.0.targets': { tags: { Env: 'beta' }, instanceIds: ['i-0123abcd'] },
        pagerDuty: { serviceName: 'monit-prod-critical', serviceIds: ['PQ8QK9U'], apiTokenSecretName: 'pagerduty/api-token' },
        'schedule.enabled': false,
      }),
    );

    // Assert
    expect(config.canary).toMatchObject({ host: 'irc.gitter.im', endpointPort: 6697 });
    expect(config.nodePhases[0].targets).toEqual({ tags: { Env: ['beta'] }, instanceIds: ['i-0123abcd'] });
    expect(config.pagerDuty).toEqual({
      serviceName: 'monit-prod-critical',
      serviceIds: ['PQ8QK9U'],
      apiTokenSecretName: 'pagerduty/api-token',
      apiUrl: 'https://api.pagerduty.com',
    });
    expect(config.schedule.enabled).toBe(false);
  });

  test.each([
    ['iamPath', '/cloudfront/'],
    ['iamPath', '/cloudfront/gitter-production/'],
    ['iamPath', '/cloudfront/a/b/'],
    ['certificateNamePrefix', 'x'.repeat(117)],
    ['certificateNamePrefix', 'STAR.gitter.im+=,@_-'],
    ['domain', 'my-site.co.uk'],
    ['approvals.timeoutSeconds', 60],
    ['approvals.timeoutSeconds', 7 * 86400],
    ['schedule.expression', 'rate(1 day)'],
    ['schedule.expression', 'rate(12 hours)'],
    ['timing.verifyTimeoutSeconds', 15],
    ['nodePhases.2.maxConcurrency', '100%'],
    ['nodePhases.2.maxErrors', '10%'],
    ['nodePhases', []],
  ])('boundary value accepted: %s = %j', (field, value) => {
    expect(() => resolveConfig(makeRaw({ [field]: value }))).not.toThrow();
  });

  test('five tags of fifty values each is the SSM Run Command limit, and is accepted', () => {
    // Arrange
    const tags = Object.fromEntries(['A', 'B', 'C', 'D', 'E'].map((k) => [k, Array.from({ length: 50 }, (_, i) => `v${i}`)]));

    // Act
    const config = resolveConfig(makeRaw({ 'nodePhases.0.targets': { tags } }));

    // Assert
    expect(Object.keys(config.nodePhases[0].targets.tags ?? {})).toHaveLength(5);
  });

  test('trusted roots of exactly 3000 characters in total are accepted', () => {
    // 1499 + "\n" + 1500 = 3000
    const config = resolveConfig(makeRaw({ trustedRootCertificates: [fakePem(1499), fakePem(1500)] }));
    expect(config.trustedRootCertificates).toHaveLength(2);
  });
});

describe('resolveConfig: each problem is reported, naming its field', () => {
  test.each([null, [], 'gitter.im', 42])('a config that is not an object (%j)', (raw) => {
    expect(problemsOf(raw)).toEqual(['certRotation: must be an object']);
  });

  test.each([
    ['domian', 'domian'],
    ['canary.lb', 'canary.lb'],
    ['edge.includes', 'edge.includes'],
    ['nginx.cert', 'nginx.cert'],
    ['approvals.timeout', 'approvals.timeout'],
    ['schedule.cron', 'schedule.cron'],
    ['timing.retries', 'timing.retries'],
    ['monit.path', 'monit.path'],
    ['nodePhases.0.maxConcurency', 'nodePhases[0].maxConcurency'],
    ['nodePhases.1.targets.tag', 'nodePhases[1].targets.tag'],
  ])('unknown field %s', (dotted, field) => {
    expect(problemsOf(makeRaw({ [dotted]: 'x' }))).toEqual([`${field}: unknown field`]);
  });

  test.each([
    [{ unavailableNodes: 'ignore' }, 'nodeRollout.unavailableNodes: must be "refuse" or "skip"'],
    [{ pollSeconds: 0 }, 'nodeRollout.pollSeconds: must be an integer from 1 to 3600'],
    [{ timeoutSeconds: 10 }, 'nodeRollout.timeoutSeconds: must be an integer from 60 to 86400'],
    [{ maxErrors: '1' }, 'nodeRollout.maxErrors: unknown field'],
  ])('nodeRollout %j is refused, naming the field', (nodeRollout, message) => {
    expect(problemsOf(makeRaw({ nodeRollout }))).toEqual([message]);
  });

  test('nodeRollout "skip" is taken as given', () => {
    expect(resolveConfig(makeRaw({ nodeRollout: { unavailableNodes: 'skip' } })).nodeRollout).toEqual({
      unavailableNodes: 'skip',
      pollSeconds: 15,
      timeoutSeconds: 3600,
    });
  });

  test('unknown field inside pagerDuty', () => {
    const raw = makeRaw({ pagerDuty: { serviceName: 's', serviceIds: ['PQ8QK9U'], apiTokenSecretName: 't', token: 'x' } });
    expect(problemsOf(raw)).toEqual(['pagerDuty.token: unknown field']);
  });

  test.each([
    ['domain', 'domain: is required'],
    ['iamPath', 'iamPath: is required'],
    ['certificateNamePrefix', 'certificateNamePrefix: is required'],
    ['canary', 'canary: is required'],
    ['canary.loadBalancerName', 'canary.loadBalancerName: is required'],
    ['canary.port', 'canary.port: is required'],
    ['canary.endpoint', 'canary.endpoint: is required'],
    ['nodePhases', 'nodePhases: is required (use [] for no node phases)'],
    ['nodePhases.0.name', 'nodePhases[0].name: is required'],
    ['nginx', 'nginx: is required'],
    ['nginx.certificatePath', 'nginx.certificatePath: is required'],
    ['nginx.keyPath', 'nginx.keyPath: is required'],
    ['notificationEmails', 'notificationEmails: is required (who approves and hears the result)'],
    ['monit.fingerprintParameterName', 'monit.fingerprintParameterName: is required'],
  ])('missing %s', (dotted, message) => {
    expect(problemsOf(makeRaw({ [dotted]: REMOVE }))).toContain(message);
  });

  test.each([
    ['canary', 'canary: must be an object'],
    ['nginx', 'nginx: must be an object'],
    ['edge', 'edge: must be an object'],
    ['timing', 'timing: must be an object'],
    ['nodePhases', 'nodePhases: must be a list'],
    ['nodePhases.0', 'nodePhases[0]: must be an object'],
    ['nodePhases.0.targets', 'nodePhases[0].targets: must be an object with "tags" and/or "instanceIds"'],
    ['certificateNames', 'certificateNames: must be a list of non-empty strings'],
    ['notificationEmails', 'notificationEmails: must be a list of non-empty strings'],
    ['edge.include', 'edge.include: must be a list of non-empty strings'],
    ['trustedRootCertificates', 'trustedRootCertificates: must be a list of non-empty strings'],
    ['nodePhases.0.targets.instanceIds', 'nodePhases[0].targets.instanceIds: must be a list of non-empty strings'],
  ])('%s of the wrong type', (dotted, message) => {
    expect(problemsOf(makeRaw({ [dotted]: 'a string' }))).toContain(message);
  });

  test.each([
    ['edge.batchSize', 'a string', 'edge.batchSize: must be an object'],
    ['edge.batchSize.elb', 0, 'edge.batchSize.elb: must be an integer from 1 to 5000'],
    ['edge.batchSize.alb', 5, 'edge.batchSize.alb: unknown field'],
    ['edge.maxConcurrency.cloudfront', 41, 'edge.maxConcurrency.cloudfront: must be an integer from 1 to 40'],
    ['edge.callConcurrency.elbv2', 1.5, 'edge.callConcurrency.elbv2: must be an integer from 1 to 50'],
    ['edge.deployTimeoutSeconds', 59, 'edge.deployTimeoutSeconds: must be an integer from 60 to 86400'],
    ['edge.deployPollSeconds', 601, 'edge.deployPollSeconds: must be an integer from 5 to 600'],
  ])('edge rollout setting %s = %j', (dotted, value, message) => {
    expect(problemsOf(makeRaw({ [dotted]: value }))).toEqual([message]);
  });

  test('edge.deployTimeoutSeconds shorter than one poll interval', () => {
    const raw = makeRaw({ 'edge.deployTimeoutSeconds': 100, 'edge.deployPollSeconds': 120 });
    expect(problemsOf(raw)).toEqual(['edge.deployTimeoutSeconds: must be at least edge.deployPollSeconds']);
  });

  test('edge rollout settings override the defaults per service', () => {
    const config = resolveConfig(makeRaw({ 'edge.batchSize.elb': 50, 'edge.maxConcurrency': { cloudfront: 5 } }));
    expect(config.edge.batchSize).toEqual({ elb: 50, elbv2: 200, cloudfront: 250 });
    expect(config.edge.maxConcurrency).toEqual({ elb: 2, elbv2: 2, cloudfront: 5 });
  });

  test.each([42, '', '   '])('domain that is not a non-empty string (%j)', (domain) => {
    expect(problemsOf(makeRaw({ domain }))).toEqual(['domain: must be a non-empty string']);
  });

  test.each(['Gitter.IM', 'gitter', '-gitter.im', 'gitter-.im', 'gitter.im.', 'git ter.im', '*.gitter.im'])('domain %j', (domain) => {
    expect(problemsOf(makeRaw({ domain }))).toContain(`domain: "${domain}" is not a lower-case DNS name like "gitter.im"`);
  });

  test.each(['bad name', '*.*.gitter.im', 'gitter.im*', 'Gitter.im', 'gitter'])('certificate name %j', (name) => {
    expect(problemsOf(makeRaw({ certificateNames: ['*.gitter.im', name] }))).toEqual([
      `certificateNames[1]: "${name}" is not a DNS name or *.wildcard`,
    ]);
  });

  test('an empty certificateNames list', () => {
    expect(problemsOf(makeRaw({ certificateNames: [] }))).toEqual(['certificateNames: must not be empty']);
  });

  test.each([
    '/',
    '/cloudfront',
    'cloudfront/gitter/',
    '/cloudfront/gitter',
    '/gitter/cloudfront/',
    '/cloudfronts/',
    '/CloudFront/gitter/',
  ])('iamPath %j (CloudFront only sees certificates under /cloudfront/...)', (iamPath) => {
    expect(problemsOf(makeRaw({ iamPath }))).toEqual([
      `iamPath: "${iamPath}" must start with "/cloudfront" and end with "/" (CloudFront only sees certificates under /cloudfront/...), e.g. "/cloudfront/gitter-production/"`,
    ]);
  });

  test.each(['STAR gitter.im', 'STAR/gitter.im', 'x'.repeat(118)])('certificateNamePrefix %j', (prefix) => {
    expect(problemsOf(makeRaw({ certificateNamePrefix: prefix }))).toEqual([
      `certificateNamePrefix: "${prefix}" may only hold letters, digits and +=,.@_- (at most 117 characters; a date is appended)`,
    ]);
  });

  test.each(['irc.gitter.im', 'irc.gitter.im:0', 'irc.gitter.im:65536', 'tls://irc.gitter.im:6667', ':6667', 'irc.gitter.im:port'])(
    'canary.endpoint %j',
    (endpoint) => {
      expect(problemsOf(makeRaw({ 'canary.endpoint': endpoint }))).toEqual([
        `canary.endpoint: "${endpoint}" must be host:port, e.g. "irc.gitter.im:6667"`,
      ]);
    },
  );

  test.each([0, 65536, 66.5, -1, '6667'])('canary.port %j', (port) => {
    expect(problemsOf(makeRaw({ 'canary.port': port }))).toEqual(['canary.port: must be an integer from 1 to 65535']);
  });

  test.each(['Prod', 'prod_1', '-prod', 'a'.repeat(32), 'prod canary'])('node phase name %j', (name) => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.name': name }))).toEqual([
      `nodePhases[0].name: "${name}" must be lower-case letters, digits and - (at most 31)`,
    ]);
  });

  test('a node phase name used twice', () => {
    expect(problemsOf(makeRaw({ 'nodePhases.2.name': 'beta' }))).toEqual(['nodePhases[2].name: "beta" is used by another phase']);
  });

  test.each(['0', '101%', 'ten', '1.5', 1, ''])('maxConcurrency %j', (value) => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.maxConcurrency': value }))).toEqual([
      'nodePhases[0].maxConcurrency: must be a string like "1" or "10%" (not "0")',
    ]);
  });

  test.each(['-1', '200%', 'none', 0, ''])('maxErrors %j', (value) => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.maxErrors': value }))).toEqual([
      'nodePhases[0].maxErrors: must be a string like "0" or "10%"',
    ]);
  });

  // SSM SendCommand patterns (API reference): MaxConcurrency ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$,
  // MaxErrors ^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$, both at most 7 characters. A value the
  // config accepts but SSM rejects fails only at the node phase, after the edge has changed.
  test.each([
    ['maxConcurrency', '0%'],
    ['maxConcurrency', '00'],
    ['maxConcurrency', '05%'],
    ['maxConcurrency', '12345678'],
    ['maxErrors', '00'],
    ['maxErrors', '05%'],
    ['maxErrors', '12345678'],
  ])('%s %j, which SSM SendCommand rejects', (field, value) => {
    expect(problemsOf(makeRaw({ [`nodePhases.0.${field}`]: value }))).toEqual([
      expect.stringMatching(new RegExp(`^nodePhases\\[0\\]\\.${field}: `)),
    ]);
  });

  test('targets with neither tags nor instance ids', () => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.targets': {} }))).toEqual(['nodePhases[0].targets: needs "tags" or "instanceIds"']);
    expect(problemsOf(makeRaw({ 'nodePhases.0.targets': { instanceIds: [] } }))).toEqual([
      'nodePhases[0].targets: needs "tags" or "instanceIds"',
    ]);
  });

  test.each([{}, [], 'Env=prod'])('targets.tags %j', (tags) => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.targets': { tags } }))).toEqual([
      'nodePhases[0].targets.tags: must be an object of tag name to list of values',
      'nodePhases[0].targets: needs "tags" or "instanceIds"',
    ]);
  });

  test.each([
    ['an empty list', []],
    ['an empty value', ['']],
    ['a number', [1]],
    ['51 values', Array.from({ length: 51 }, (_, i) => `v${i}`)],
  ])('a tag with %s', (_label, values) => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.targets': { tags: { Env: values } } }))).toContain(
      'nodePhases[0].targets.tags.Env: must be a non-empty list of at most 50 strings',
    );
  });

  test('more than five tags (SSM Run Command target limit)', () => {
    const tags = Object.fromEntries(['A', 'B', 'C', 'D', 'E', 'F'].map((k) => [k, ['x']]));
    expect(problemsOf(makeRaw({ 'nodePhases.0.targets': { tags } }))).toEqual([
      'nodePhases[0].targets.tags: at most 5 tags (SSM Run Command target limit)',
    ]);
  });

  test.each(['web-01', 'I-0123ABCD', 'i-0123456789abcdef01', 'i-', 'mi-0123456789abcdef0'])('instance id %j', (id) => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.targets': { instanceIds: ['i-0123456789abcdef0', id] } }))).toEqual([
      `nodePhases[0].targets.instanceIds[1]: "${id}" is not an instance id`,
    ]);
  });

  // EC2 instance ids are "i-" and 8 or 17 characters (SSM's InstanceId pattern: ^i-(\w{8}|\w{17})$).
  test.each(['i-1', 'i-0123', 'i-0123456789'])('instance id %j of a length EC2 never issues', (id) => {
    expect(problemsOf(makeRaw({ 'nodePhases.0.targets': { instanceIds: [id] } }))).toEqual([
      `nodePhases[0].targets.instanceIds[0]: "${id}" is not an instance id`,
    ]);
  });

  test.each([
    ['certificatePath', 'etc/nginx/ssl/gitter.im.crt'],
    ['certificatePath', '/etc/nginx/ssl/my cert.crt'],
    ['keyPath', '/etc/nginx/ssl/$(reboot).key'],
    ['keyPath', '/etc/nginx/ssl/key;rm'],
  ])('nginx.%s %j', (field, value) => {
    expect(problemsOf(makeRaw({ [`nginx.${field}`]: value }))).toEqual([
      `nginx.${field}: "${value}" must be an absolute path of letters, digits, . _ - /`,
    ]);
  });

  test.each(['testCommand', 'reloadCommand'])('an empty nginx.%s', (field) => {
    expect(problemsOf(makeRaw({ [`nginx.${field}`]: '' }))).toEqual([`nginx.${field}: must be a non-empty string`]);
  });

  test.each([59, 7 * 86400 + 1, 3600.5, '3600'])('approvals.timeoutSeconds %j', (value) => {
    expect(problemsOf(makeRaw({ 'approvals.timeoutSeconds': value }))).toEqual([
      'approvals.timeoutSeconds: must be an integer from 60 to 604800',
    ]);
  });

  test.each(['rollback', 'stop'])('approvals.onTimeout "%s" passes through', (value) => {
    expect(resolveConfig(makeRaw({ 'approvals.onTimeout': value })).approvals.onTimeout).toBe(value);
  });

  test.each(['ignore', '', 1])('approvals.onTimeout %j', (value) => {
    expect(problemsOf(makeRaw({ 'approvals.onTimeout': value }))).toEqual(['approvals.onTimeout: must be one of "rollback", "stop"']);
  });

  test('approvals.gates gives a gate its own timeout; the others keep approvals.timeoutSeconds', () => {
    // Act
    const { approvals } = resolveConfig(
      makeRaw({ 'approvals.gates': { edge: { timeoutSeconds: 3600 }, nodesBeta: { timeoutSeconds: 600 } } }),
    );

    // Assert
    expect(approvals.gates).toEqual({ edge: { timeoutSeconds: 3600 }, nodesBeta: { timeoutSeconds: 600 } });
    expect(gateTimeoutSeconds(approvals, 'edge')).toBe(3600);
    expect(gateTimeoutSeconds(approvals, 'canary')).toBe(86400);
  });

  test('the gate names follow the node phases: one gate after every node phase but the last', () => {
    expect(gateNamesOf(['beta', 'prod-canary', 'prod'])).toEqual(['start', 'canary', 'edge', 'nodesBeta', 'nodesProdCanary']);
    expect(gateNamesOf([])).toEqual(['start', 'canary', 'edge']);
  });

  test('an unknown gate name in approvals.gates is refused, naming the gates this config has', () => {
    expect(
      problemsOf(makeRaw({ 'approvals.gates': { 'Approval 3': { timeoutSeconds: 3600 }, nodesProd: { timeoutSeconds: 3600 } } })),
    ).toEqual([
      'approvals.gates.Approval 3: is not an approval gate of this config (gates: start, canary, edge, nodesBeta, nodesProdCanary)',
      // No gate after the last node phase.
      'approvals.gates.nodesProd: is not an approval gate of this config (gates: start, canary, edge, nodesBeta, nodesProdCanary)',
    ]);
  });

  test.each([
    [{ edge: { timeoutSeconds: 59 } }, 'approvals.gates.edge.timeoutSeconds: must be an integer from 60 to 604800'],
    [{ edge: {} }, 'approvals.gates.edge.timeoutSeconds: is required'],
    [{ edge: 3600 }, 'approvals.gates.edge: must be an object { "timeoutSeconds": N }'],
    [{ edge: { timeoutSeconds: 3600, onTimeout: 'stop' } }, 'approvals.gates.edge.onTimeout: unknown field'],
    [
      ['edge'],
      'approvals.gates: must be an object of gate name to { "timeoutSeconds": N } (gates: start, canary, edge, nodesBeta, nodesProdCanary)',
    ],
  ])('approvals.gates %j', (gates, problem) => {
    expect(problemsOf(makeRaw({ 'approvals.gates': gates }))).toEqual([problem]);
  });

  test('approvals.approverRoleArns is refused with what replaced it (nobody but the approval page reads a token)', () => {
    expect(problemsOf(makeRaw({ 'approvals.approverRoleArns': ['arn:aws:iam::123456789012:role/approver'] }))).toEqual([
      'approvals.approverRoleArns: is no longer used: approvers decide on the approval page linked from the email, and only the page reads the task token; remove it',
    ]);
  });

  test('an empty notificationEmails list', () => {
    expect(problemsOf(makeRaw({ notificationEmails: [] }))).toEqual(['notificationEmails: must hold at least one address']);
  });

  test.each(['sre', 'sre@example', 'sre @example.com', '@example.com'])('notification email %j', (email) => {
    expect(problemsOf(makeRaw({ notificationEmails: ['sre@example.com', email] }))).toEqual([
      `notificationEmails[1]: "${email}" is not an email address`,
    ]);
  });

  test.each(['daily', 'cron()', 'rate(5 weeks)', 'rate(five minutes)', 'cron(0 9 * * ? *) ', 'at(2030-01-01T00:00:00)'])(
    'schedule.expression %j',
    (expression) => {
      expect(problemsOf(makeRaw({ 'schedule.expression': expression }))).toEqual([
        `schedule.expression: "${expression}" must be an EventBridge cron(...) or rate(...) expression`,
      ]);
    },
  );

  // EventBridge: a rate is a positive integer; the unit is singular for 1 and plural above 1.
  test.each(['rate(0 days)', 'rate(1 days)', 'rate(2 hour)'])('schedule.expression %j, which EventBridge rejects', (expression) => {
    expect(problemsOf(makeRaw({ 'schedule.expression': expression }))).toEqual([
      `schedule.expression: "${expression}" must be an EventBridge cron(...) or rate(...) expression`,
    ]);
  });

  test.each(['yes', 1, null])('schedule.enabled %j', (enabled) => {
    expect(problemsOf(makeRaw({ 'schedule.enabled': enabled }))).toEqual(['schedule.enabled: must be true or false']);
  });

  test.each([0, 366])('schedule.daysBeforeExpiry %j', (days) => {
    expect(problemsOf(makeRaw({ 'schedule.daysBeforeExpiry': days }))).toEqual([
      'schedule.daysBeforeExpiry: must be an integer from 1 to 365',
    ]);
  });

  test.each([
    ['not PEM at all', 'MIIB...'],
    ['a private key', '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----'],
    ['an unterminated certificate', '-----BEGIN CERTIFICATE-----\nMIIB'],
  ])('a trusted root that is %s', (_label, pem) => {
    expect(problemsOf(makeRaw({ trustedRootCertificates: [fakePem(100), pem] }))).toEqual([
      'trustedRootCertificates[1]: must be a PEM certificate (-----BEGIN CERTIFICATE-----...)',
    ]);
  });

  test('trusted roots over 3000 characters together (they travel in a Lambda environment variable)', () => {
    // 1500 + "\n" + 1500 = 3001
    expect(problemsOf(makeRaw({ trustedRootCertificates: [fakePem(1500), fakePem(1500)] }))).toEqual([
      'trustedRootCertificates: together must stay under 3000 characters (they travel in Lambda environment variables)',
    ]);
  });

  test.each([
    ['retryIntervalSeconds', 0, 'timing.retryIntervalSeconds: must be an integer from 1 to 300'],
    ['retryIntervalSeconds', 301, 'timing.retryIntervalSeconds: must be an integer from 1 to 300'],
    ['retryMaxAttempts', 0, 'timing.retryMaxAttempts: must be an integer from 1 to 20'],
    ['retryMaxAttempts', 21, 'timing.retryMaxAttempts: must be an integer from 1 to 20'],
    ['verifyIntervalSeconds', 0, 'timing.verifyIntervalSeconds: must be an integer from 1 to 600'],
    ['verifyIntervalSeconds', 2.5, 'timing.verifyIntervalSeconds: must be an integer from 1 to 600'],
    ['verifyTimeoutSeconds', 0, 'timing.verifyTimeoutSeconds: must be an integer from 1 to 3600'],
    ['verifyTimeoutSeconds', 3601, 'timing.verifyTimeoutSeconds: must be an integer from 1 to 3600'],
  ])('timing.%s %j', (field, value, message) => {
    expect(problemsOf(makeRaw({ [`timing.${field}`]: value }))).toEqual([message]);
  });

  test.each([
    [0, 'prune.keep: must be an integer from 1 to 100'],
    [1.5, 'prune.keep: must be an integer from 1 to 100'],
    ['2', 'prune.keep: must be an integer from 1 to 100'],
  ])('prune.keep %j', (value, message) => {
    expect(problemsOf(makeRaw({ 'prune.keep': value }))).toEqual([message]);
  });

  test('an unknown field in prune', () => {
    expect(problemsOf(makeRaw({ 'prune.olderThanDays': 30 }))).toEqual(['prune.olderThanDays: unknown field']);
  });

  test('a verify timeout shorter than the verify interval', () => {
    expect(problemsOf(makeRaw({ 'timing.verifyIntervalSeconds': 60, 'timing.verifyTimeoutSeconds': 30 }))).toEqual([
      'timing.verifyTimeoutSeconds: must be at least timing.verifyIntervalSeconds',
    ]);
  });

  test('a pagerDuty block without its token secret', () => {
    expect(problemsOf(makeRaw({ pagerDuty: { serviceName: 'monit-prod-critical', serviceIds: ['PQ8QK9U'] } }))).toEqual([
      'pagerDuty.apiTokenSecretName: is required',
    ]);
  });

  test.each(['certificate-md5', '/gitter/monit/cert md5', 'monit/cert-md5'])('monit.fingerprintParameterName %j', (name) => {
    expect(problemsOf(makeRaw({ 'monit.fingerprintParameterName': name }))).toEqual([
      `monit.fingerprintParameterName: "${name}" must be an SSM parameter path like "/monit/cert-md5"`,
    ]);
  });

  test('monit.controlFiles must be absolute paths, and monit.reloadCommand a plain command line', () => {
    expect(
      problemsOf(
        makeRaw({
          'monit.controlFiles': ['/etc/monit/conf.d/cert', 'conf.d/cert', '/etc/monit rc'],
          'monit.reloadCommand': 'monit reload; rm -rf /',
        }),
      ),
    ).toEqual([
      'monit.controlFiles[1]: "conf.d/cert" must be an absolute path of letters, digits, . _ - /',
      'monit.controlFiles[2]: "/etc/monit rc" must be an absolute path of letters, digits, . _ - /',
      'monit.reloadCommand: "monit reload; rm -rf /" must be a plain command line (no quotes, $, ;, |, &, <, > or backslashes)',
    ]);
    expect(problemsOf(makeRaw({ 'monit.controlFiles': '/etc/monit/conf.d/cert' }))).toEqual([
      'monit.controlFiles: must be a list of non-empty strings',
    ]);
  });

  test('monit.controlFiles and reloadCommand are kept as given', () => {
    const config = resolveConfig(
      makeRaw({ 'monit.controlFiles': ['/etc/monit/conf.d/cert'], 'monit.reloadCommand': 'systemctl reload monit' }),
    );
    expect(config.monit).toEqual({
      fingerprintParameterName: '/gitter/monit/certificate-md5',
      controlFiles: ['/etc/monit/conf.d/cert'],
      reloadCommand: 'systemctl reload monit',
    });
  });
});

describe('resolveConfig: several problems at once', () => {
  test('every problem is reported together, in field order, in one ConfigError', () => {
    // Arrange
    const raw = makeRaw({
      color: 'blue',
      iamPath: '/',
      'canary.endpoint': 'irc.gitter.im',
      'nodePhases.1.name': 'beta',
      'nodePhases.2.targets': {},
      'approvals.timeoutSeconds': 10,
      notificationEmails: ['sre'],
      'timing.verifyIntervalSeconds': 60,
      'timing.verifyTimeoutSeconds': 30,
      'monit.fingerprintParameterName': 'md5',
    });

    // Act
    let caught: unknown;
    try {
      resolveConfig(raw);
    } catch (error) {
      caught = error;
    }

    // Assert
    expect(caught).toBeInstanceOf(ConfigError);
    const error = caught as ConfigError;
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ConfigError');
    expect(error.problems).toEqual([
      'color: unknown field',
      'iamPath: "/" must start with "/cloudfront" and end with "/" (CloudFront only sees certificates under /cloudfront/...), e.g. "/cloudfront/gitter-production/"',
      'canary.endpoint: "irc.gitter.im" must be host:port, e.g. "irc.gitter.im:6667"',
      'nodePhases[1].name: "beta" is used by another phase',
      'nodePhases[2].targets: needs "tags" or "instanceIds"',
      'approvals.timeoutSeconds: must be an integer from 60 to 604800',
      'notificationEmails[0]: "sre" is not an email address',
      'timing.verifyTimeoutSeconds: must be at least timing.verifyIntervalSeconds',
      'monit.fingerprintParameterName: "md5" must be an SSM parameter path like "/monit/cert-md5"',
    ]);
    // The message lists every problem, one a line, for `cdk synth` to print.
    expect(error.message.split('\n')).toEqual(['invalid certRotation config:', ...error.problems.map((p) => `  - ${p}`)]);
  });

  test('an empty object reports every required field, not just the first', () => {
    expect(problemsOf({})).toEqual([
      'domain: is required',
      'iamPath: is required',
      'certificateNamePrefix: is required',
      'canary: is required',
      'nodePhases: is required (use [] for no node phases)',
      'nginx: is required',
      'notificationEmails: is required (who approves and hears the result)',
    ]);
  });
});
