/**
 * Fleet and faults file validation: every problem names its field; unknown fields are refused.
 */
import { defaultFleet, parseFaults, parseFleet, UsageError } from '../../local/sim';

function fleetError(json: unknown): UsageError {
  try {
    parseFleet(json, 'fleet.json');
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('parseFleet accepted the fleet');
}

function faultsError(json: unknown): UsageError {
  try {
    parseFaults(json, 'faults.json');
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('parseFaults accepted the faults');
}

describe('parseFleet', () => {
  test('the default fleet is a valid fleet file and has the runbook shape', () => {
    // Act
    const fleet = parseFleet(JSON.parse(JSON.stringify(defaultFleet())), 'default');
    // Assert
    expect(fleet).toEqual(defaultFleet());
    expect(fleet.elbs[0]).toEqual({
      name: 'apps-servers-elb-prod',
      listeners: [
        { port: 6667, protocol: 'SSL', certificate: 'current' },
        { port: 443, protocol: 'HTTPS', certificate: 'current' },
      ],
    });
    expect(fleet.instances.map((i) => i.tags.Name)).toEqual(['gitter-beta', 'ws-01', 'ws-02', 'ws-03', 'webapp-01']);
  });

  test("REHEARSAL.md's example is valid and gets its defaults", () => {
    // Arrange
    const example = {
      domain: 'gitter.im',
      currentCertDaysLeft: 20,
      elbs: [
        {
          name: 'apps-servers-elb-prod',
          listeners: [
            { port: 6667, protocol: 'SSL' },
            { port: 443, protocol: 'HTTPS', certificate: 'other' },
          ],
        },
      ],
      albs: [{ name: 'api', listeners: [{ port: 443, sni: ['other'] }] }],
      distributions: [{ id: 'E2EXAMPLE', aliases: ['cdn.gitter.im'], deploySeconds: 30 }],
      instances: [{ id: 'i-0beta', tags: { Name: 'gitter-beta', Env: 'beta' }, nginx: true }],
    };
    // Act
    const fleet = parseFleet(example, 'example');
    // Assert
    expect(fleet.elbs[0].listeners[0]).toEqual({ port: 6667, protocol: 'SSL', certificate: 'current' });
    expect(fleet.albs[0].listeners[0]).toEqual({ port: 443, protocol: 'HTTPS', certificate: 'current', sni: ['other'] });
    expect(fleet.distributions[0]).toEqual({ id: 'E2EXAMPLE', aliases: ['cdn.gitter.im'], deploySeconds: 30, certificate: 'current' });
  });

  test('names the bad field: listener port', () => {
    // Arrange
    const fleet = {
      domain: 'gitter.im',
      elbs: [
        {
          name: 'a',
          listeners: [
            { port: 443, protocol: 'HTTPS' },
            { port: 70000, protocol: 'SSL' },
          ],
        },
      ],
    };
    // Act
    const err = fleetError(fleet);
    // Assert
    expect(err.name).toBe('UsageError');
    expect(err.message).toBe('fleet.json: fleet.elbs[0].listeners[1].port: must be an integer 1..65535');
  });

  test.each([
    [{ domain: 'gitter.im', extra: 1 }, 'fleet.extra: unknown field'],
    [{ domain: 'Gitter.IM' }, 'fleet.domain: must be a lower-case DNS name'],
    [{}, 'fleet.domain: must be a lower-case DNS name'],
    [
      { domain: 'gitter.im', elbs: [{ name: 'a', listeners: [{ port: 80, protocol: 'HTTP', certificate: 'current' }] }] },
      'fleet.elbs[0].listeners[0].certificate: only HTTPS and SSL listeners have a certificate',
    ],
    [
      { domain: 'gitter.im', elbs: [{ name: 'a', listeners: [{ port: 80, protocol: 'UDP' }] }] },
      'fleet.elbs[0].listeners[0].protocol: must be one of HTTPS, SSL, HTTP, TCP',
    ],
    [
      { domain: 'gitter.im', elbs: [{ name: 'a', listeners: [{ port: 443, protocol: 'SSL', certificate: 'new' }] }] },
      'fleet.elbs[0].listeners[0].certificate: "new" is not "current", "other" or the name of an iamCertificates entry',
    ],
    [
      { domain: 'gitter.im', elbs: [{ name: 'a', listeners: [{ port: 443, protocol: 'SSL', cert: 'other' }] }] },
      'fleet.elbs[0].listeners[0].cert: unknown field',
    ],
    [{ domain: 'gitter.im', elbs: [{ name: 'a', listeners: [] }] }, 'fleet.elbs[0].listeners: must list at least one listener'],
    [
      { domain: 'gitter.im', elbs: [{ name: '-bad-', listeners: [{ port: 1, protocol: 'TCP' }] }] },
      'fleet.elbs[0].name: must be 1-32 letters',
    ],
    [
      {
        domain: 'gitter.im',
        elbs: [
          { name: 'a', listeners: [{ port: 1, protocol: 'TCP' }] },
          { name: 'a', listeners: [{ port: 1, protocol: 'TCP' }] },
        ],
      },
      'fleet.elbs[1].name: "a" is used by another load balancer',
    ],
    [
      {
        domain: 'gitter.im',
        albs: [
          {
            name: 'x',
            listeners: [
              { port: 443, protocol: 'HTTPS' },
              { port: 8443, protocol: 'TLS' },
            ],
          },
        ],
      },
      'fleet.albs[0].listeners: mixes HTTPS (ALB) and TLS (NLB)',
    ],
    [
      { domain: 'gitter.im', albs: [{ name: 'x', listeners: [{ port: 443, sni: ['current', 'x'] }] }] },
      'fleet.albs[0].listeners[0].sni[1]: "x" is not "current", "other" or the name of an iamCertificates entry',
    ],
    [
      {
        domain: 'gitter.im',
        distributions: [
          { id: 'E1', aliases: ['a.gitter.im'] },
          { id: 'E2', aliases: ['a.gitter.im'] },
        ],
      },
      'fleet.distributions[1].aliases[0]: "a.gitter.im" is an alias of another distribution',
    ],
    [{ domain: 'gitter.im', distributions: [{ id: 'e1' }] }, 'fleet.distributions[0].id: must be an upper-case distribution id'],
    [
      { domain: 'gitter.im', distributions: [{ id: 'E1', deploySeconds: -1 }] },
      'fleet.distributions[0].deploySeconds: must be a number of seconds >= 0',
    ],
    [{ domain: 'gitter.im', instances: [{ id: 'i-1', tags: { Env: 3 } }] }, 'fleet.instances[0].tags.Env: must be a string'],
    [{ domain: 'gitter.im', instances: [{ id: 'i-1', nginx: 'yes' }] }, 'fleet.instances[0].nginx: must be true or false'],
    [{ domain: 'gitter.im', instances: [{ id: 'web-1' }] }, 'fleet.instances[0].id: must be an instance id'],
    [
      { domain: 'gitter.im', distributions: [{ id: 'E1', certificate: 'bad name!' }] },
      'fleet.distributions[0].certificate: must be "current", "other" or the name of an iamCertificates entry',
    ],
    [{ domain: 'gitter.im', iamCertificates: [{ name: 'a b', uploadedDaysAgo: 1 }] }, 'fleet.iamCertificates[0].name: must be an IAM'],
    [
      { domain: 'gitter.im', iamCertificates: [{ name: 'STAR.gitter.im_2024-01-01', uploadedDaysAgo: -1 }] },
      'fleet.iamCertificates[0].uploadedDaysAgo: must be an integer number of days >= 0',
    ],
    [
      { domain: 'gitter.im', iamCertificates: [{ name: 'STAR.gitter.im_2024-01-01', uploadedDaysAgo: 900, path: 'cloudfront' }] },
      'fleet.iamCertificates[0].path: must be an IAM path that begins and ends with "/"',
    ],
    [
      {
        domain: 'gitter.im',
        iamCertificates: [
          { name: 'STAR.gitter.im_2024-01-01', uploadedDaysAgo: 900 },
          { name: 'STAR.gitter.im_2024-01-01', uploadedDaysAgo: 800 },
        ],
      },
      'fleet.iamCertificates[1].name: "STAR.gitter.im_2024-01-01" is used twice',
    ],
    [
      { domain: 'gitter.im', iamCertificates: [{ name: 'STAR.gitter.im_2024-01-01', uploadedDaysAgo: 900 }], iamServerCertificateQuota: 2 },
      'fleet.iamServerCertificateQuota: must be an integer >= 3 (the certificates the account holds at the start)',
    ],
    [{ domain: 'gitter.im', currentCertDaysLeft: 2.5 }, 'fleet.currentCertDaysLeft: must be an integer'],
    [[], 'fleet: must be a JSON object'],
  ])('refuses %j with "%s"', (json, expected) => {
    // Act
    const err = fleetError(json);
    // Assert
    expect(err.message).toContain(expected);
    expect(err.message.startsWith('fleet.json: ')).toBe(true);
  });

  test('lists every problem at once', () => {
    // Arrange
    const fleet = { domain: 'x', elbs: [{ name: 'a', listeners: [{ port: 0, protocol: 'SSL' }] }], bogus: true };
    // Act
    const err = fleetError(fleet);
    // Assert
    expect(err.problems).toEqual([
      'fleet.bogus: unknown field (allowed: domain, currentCertDaysLeft, elbs, albs, distributions, instances, iamPropagationSeconds, apiRates, iamCertificates, iamServerCertificateQuota, hostedZones, acm)',
      'fleet.domain: must be a lower-case DNS name like "gitter.im"',
      'fleet.elbs[0].listeners[0].port: must be an integer 1..65535',
    ]);
    expect(err.message).toContain('fleet.json: invalid fleet file:\n  - fleet.bogus');
  });
});

describe('parseFaults', () => {
  test("REHEARSAL.md's example shapes parse, with defaults filled in", () => {
    // Act
    const faults = parseFaults(
      [
        { operation: 'cloudfront:UpdateDistribution', error: 'PreconditionFailed', count: 2 },
        { operation: 'elb:SetLoadBalancerListenerSSLCertificate', error: 'CertificateNotFound', count: 3 },
        { operation: '*', error: 'Throttling', rate: 0.2, seed: 7 },
        { instance: 'i-0ws03', fault: 'nginx-config-invalid' },
        { instance: 'i-0ws04', fault: 'offline' },
        { state: 'SUBSTRING OF A TASK STATE NAME', fault: 'crash-after-side-effects', count: 1 },
        { operation: 'elbv2:*', error: 'Throttling', rate: 0.5 },
        { state: 'Upload', fault: 'crash-after-side-effects' },
      ],
      'faults.json',
    );
    // Assert
    expect(faults[2]).toEqual({ operation: '*', error: 'Throttling', rate: 0.2, seed: 7 });
    expect(faults[6]).toEqual({ operation: 'elbv2:*', error: 'Throttling', rate: 0.5, seed: 1 });
    expect(faults[7]).toEqual({ state: 'Upload', fault: 'crash-after-side-effects', count: 1 });
  });

  test('names the bad field: rate', () => {
    // Act
    const err = faultsError([
      { operation: '*', error: 'Throttling', count: 1 },
      { operation: '*', error: 'Throttling', count: 1 },
      { operation: '*', error: 'Throttling', rate: 1.5, seed: 7 },
    ]);
    // Assert
    expect(err.message).toBe('faults.json: faults[2].rate: must be a number in [0,1]');
  });

  test.each([
    [
      { operation: '*', error: 'Throttling', count: 1, when: 'now' },
      'faults[0].when: unknown field (allowed: operation, error, count, rate, seed)',
    ],
    [
      { operation: 'cloudfront:UpdateDistrubution', error: 'Throttling', count: 1 },
      'faults[0].operation: "cloudfront:UpdateDistrubution" is not a simulated operation',
    ],
    [{ operation: 'kms:Decrypt', error: 'Throttling', count: 1 }, 'faults[0].operation: "kms:Decrypt" must be "service:Operation"'],
    [{ operation: '*', error: 'Throttling' }, 'faults[0]: needs exactly one of "count"'],
    [{ operation: '*', error: 'Throttling', count: 1, rate: 0.1 }, 'faults[0]: needs exactly one of "count"'],
    [{ operation: '*', error: 'Throttling', count: 0 }, 'faults[0].count: must be an integer >= 1'],
    [{ operation: '*', error: 'Throttling', count: 1, seed: 3 }, 'faults[0].seed: only goes with "rate"'],
    [{ operation: '*', error: 'not a code!', count: 1 }, 'faults[0].error: must be an AWS error code'],
    [{ instance: 'i-0ws03', fault: 'melted' }, 'faults[0].fault: must be one of "nginx-config-invalid", "offline"'],
    [{ instance: 'i-0ws03', fault: 'offline', count: 2 }, 'faults[0].count: unknown field (allowed: instance, fault)'],
    [{ state: 'Upload', fault: 'crash' }, 'faults[0].fault: must be "crash-after-side-effects"'],
    [{ state: '', fault: 'crash-after-side-effects' }, 'faults[0].state: must be a non-empty substring'],
    [
      { error: 'Throttling', count: 1 },
      'faults[0]: must have an "operation" (API fault), "instance" (node fault), "state" (state fault) or "target" (target fault) field',
    ],
  ])('refuses %j with "%s"', (entry, expected) => {
    // Act
    const err = faultsError([entry]);
    // Assert
    expect(err.message).toContain(expected);
  });

  test('the file must be an array', () => {
    expect(faultsError({ operation: '*' }).message).toBe('faults.json: faults: must be a JSON array');
  });
});
