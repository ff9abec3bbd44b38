/**
 * Target faults of the faults file (`serves-stale`, `stuck-after-change`): parsing, validation
 * against the fleet, and their effect on what the target's real TLS endpoint serves while the
 * simulated API keeps answering with the configuration.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CloudFrontClient, GetDistributionConfigCommand, UpdateDistributionCommand } from '@aws-sdk/client-cloudfront';
import { ElasticLoadBalancingClient, SetLoadBalancerListenerSSLCertificateCommand } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  checkFaultsAgainstFleet,
  defaultFleet,
  parseFaults,
  parseFleet,
  SimulatedAccount,
  UsageError,
  type FaultSpec,
  type FleetSpec,
  type SimCertificate,
} from '../../local/sim';
import { handshake, seedCertificates } from '../support/sim-fixtures';

let current: SimCertificate;
let other: SimCertificate;

beforeAll(async () => {
  ({ current, other } = await seedCertificates());
});

const sha256 = (pem: string) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex');

function usageError(body: () => void): UsageError {
  try {
    body();
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error('accepted');
}

async function withAccount(faults: unknown[], body: (account: SimulatedAccount) => Promise<void>): Promise<void> {
  const account = await SimulatedAccount.create({ fleet: defaultFleet(), faults: parseFaults(faults, 'faults.json'), current, other });
  account.install();
  try {
    await body(account);
  } finally {
    await account.close();
  }
}

const target = (account: SimulatedAccount, key: string) => {
  const t = account.targets().find((x) => x.key === key);
  if (!t) throw new Error(`no target ${key}`);
  return t;
};

const switchCanary = (arn: string, port = 6667) =>
  new ElasticLoadBalancingClient({}).send(
    new SetLoadBalancerListenerSSLCertificateCommand({
      LoadBalancerName: 'apps-servers-elb-prod',
      LoadBalancerPort: port,
      SSLCertificateId: arn,
    }),
  );

describe('parsing target faults', () => {
  test('both kinds, as REHEARSAL.md writes them', () => {
    // Act
    const faults = parseFaults(
      [
        { target: 'elb/apps-servers-elb-prod/6667', fault: 'serves-stale' },
        { target: 'cloudfront/E2EXAMPLE', fault: 'stuck-after-change' },
      ],
      'faults.json',
    );

    // Assert
    expect(faults).toEqual<FaultSpec[]>([
      { target: 'elb/apps-servers-elb-prod/6667', fault: 'serves-stale' },
      { target: 'cloudfront/E2EXAMPLE', fault: 'stuck-after-change' },
    ]);
  });

  test.each([
    [{ target: 'elb/apps-servers-elb-prod', fault: 'serves-stale' }, 'faults[0].target: must be a target key as in the report'],
    [{ target: 'alb/api/443', fault: 'serves-stale' }, 'faults[0].target: must be a target key'],
    [{ target: 7, fault: 'serves-stale' }, 'faults[0].target: must be a target key'],
    [{ target: 'node/i-0ws01', fault: 'stale' }, 'faults[0].fault: must be one of "serves-stale", "stuck-after-change"'],
    [{ target: 'node/i-0ws01', fault: 'serves-stale', count: 1 }, 'faults[0].count: unknown field (allowed: target, fault)'],
  ])('refuses %j with "%s"', (entry, message) => {
    // Act
    const err = usageError(() => parseFaults([entry], 'faults.json'));

    // Assert
    expect(err.message).toContain(message);
  });
});

describe('target faults are checked against the fleet', () => {
  test('a key that is not a target of the fleet is refused by field, listing the targets of that kind', () => {
    // Arrange
    const faults = parseFaults([{ target: 'cloudfront/E2EXAMPLE', fault: 'stuck-after-change' }], 'faults.json');

    // Act
    const err = usageError(() => checkFaultsAgainstFleet(faults, defaultFleet(), 'faults.json'));

    // Assert
    expect(err.message).toBe(
      'faults.json: faults[0].target: "cloudfront/E2EXAMPLE" is not a TLS target of the fleet (cloudfront/E1GITTERCDN, cloudfront/E2GITTERAVATARS, cloudfront/E3OTHER)',
    );
  });

  test('a listener without TLS (HTTP) has no endpoint to fault; elbv2 keys use the load balancer name', () => {
    // Arrange
    const fleet: FleetSpec = parseFleet(
      {
        domain: 'gitter.im',
        elbs: [
          {
            name: 'web',
            listeners: [
              { port: 80, protocol: 'HTTP' },
              { port: 443, protocol: 'HTTPS' },
            ],
          },
        ],
        albs: [{ name: 'api', listeners: [{ port: 8443 }] }],
      },
      'fleet.json',
    );
    const faults = parseFaults(
      [
        { target: 'elb/web/80', fault: 'serves-stale' },
        { target: 'elb/web/443', fault: 'serves-stale' },
        { target: 'elbv2/api/8443', fault: 'stuck-after-change' },
      ],
      'faults.json',
    );

    // Act
    const err = usageError(() => checkFaultsAgainstFleet(faults, fleet, 'faults.json'));

    // Assert: only the HTTP listener is refused.
    expect(err.problems).toEqual(['faults[0].target: "elb/web/80" is not a TLS target of the fleet (elb/web/443)']);
  });

  test('two faults on one target are refused', () => {
    // Arrange
    const faults = parseFaults(
      [
        { target: 'node/i-0ws01', fault: 'serves-stale' },
        { target: 'node/i-0ws01', fault: 'stuck-after-change' },
      ],
      'faults.json',
    );

    // Act
    const err = usageError(() => checkFaultsAgainstFleet(faults, defaultFleet(), 'faults.json'));

    // Assert
    expect(err.message).toContain('faults[1].target: "node/i-0ws01" already has a target fault (faults[0])');
  });

  test('the account refuses them too (it re-validates what it is given)', async () => {
    // Act
    const created = SimulatedAccount.create({
      fleet: defaultFleet(),
      faults: [{ target: 'elb/nope/443', fault: 'serves-stale' }],
      current,
      other,
    });

    // Assert
    await expect(created).rejects.toMatchObject({
      name: 'UsageError',
      message: expect.stringContaining('faults[0].target: "elb/nope/443"'),
    });
  });
});

test('a node with a target fault cannot be routed to a real nginx (the fault would be dropped silently)', async () => {
  await withAccount([{ target: 'node/i-0beta', fault: 'serves-stale' }], (account) => {
    // Act / Assert
    expect(() => account.setNodeEndpoint('i-0beta', 1)).toThrow('node/i-0beta has a target fault');
    expect(() => account.setNodeEndpoint('i-0ws01', 1)).not.toThrow();
    return Promise.resolve();
  });
});

describe('serves-stale: the endpoint keeps serving what it served at the start', () => {
  test('classic ELB: the API says switched, TLS still serves the start; other listeners of the same ELB are not affected', async () => {
    await withAccount([{ target: 'elb/apps-servers-elb-prod/6667', fault: 'serves-stale' }], async (account) => {
      // Arrange
      const canary = target(account, 'elb/apps-servers-elb-prod/6667');
      const sibling = target(account, 'elb/apps-servers-elb-prod/443');

      // Act
      await switchCanary(account.otherCertificate.arn);
      await switchCanary(account.otherCertificate.arn, 443);

      // Assert
      expect(await handshake(canary.host, 6667, 'gitter.im')).toBe(sha256(current.certPem));
      expect(target(account, canary.key).servedSha256()).toBe(sha256(other.certPem));
      expect(target(account, canary.key).configuredSha256('gitter.im')).toBe(sha256(other.certPem));
      expect(await handshake(sibling.host, 443, 'gitter.im')).toBe(sha256(other.certPem));
    });
  });

  test('ELBv2: the SNI pick stays the one of the start', async () => {
    await withAccount([{ target: 'elbv2/api-alb-prod/443', fault: 'serves-stale' }], async (account) => {
      // Arrange
      const alb = target(account, 'elbv2/api-alb-prod/443');

      // Act: the default becomes the unrelated certificate.
      await new ElasticLoadBalancingV2Client({}).send(
        new ModifyListenerCommand({ ListenerArn: alb.id, Certificates: [{ CertificateArn: account.otherCertificate.arn }] }),
      );

      // Assert
      expect(await handshake(alb.host, 443, 'api.gitter.im')).toBe(sha256(current.certPem));
      expect(await handshake(alb.host, 443, 'www.example.org')).toBe(sha256(other.certPem));
      expect(target(account, alb.key).configuredSha256('api.gitter.im')).toBe(sha256(other.certPem));
    });
  });
});

describe('stuck-after-change: the endpoint keeps serving what it served after its first change', () => {
  test('classic ELB: switched, then switched back: TLS still serves the first change, the API says it is back', async () => {
    await withAccount([{ target: 'elb/apps-servers-elb-prod/6667', fault: 'stuck-after-change' }], async (account) => {
      // Arrange
      const canary = target(account, 'elb/apps-servers-elb-prod/6667');
      const atStart = await handshake(canary.host, 6667, 'gitter.im');

      // Act
      await switchCanary(account.otherCertificate.arn);
      const afterChange = await handshake(canary.host, 6667, 'gitter.im');
      await switchCanary(account.currentCertificate.arn);
      const afterRevert = await handshake(canary.host, 6667, 'gitter.im');

      // Assert
      expect(atStart).toBe(sha256(current.certPem));
      expect(afterChange).toBe(sha256(other.certPem));
      expect(afterRevert).toBe(sha256(other.certPem));
      expect(target(account, canary.key).servedSha256()).toBe(sha256(current.certPem));
    });
  });

  test('the change is noticed when it happens, not at the next handshake: a switch and a switch back with no handshake between', async () => {
    await withAccount([{ target: 'elb/apps-servers-elb-prod/6667', fault: 'stuck-after-change' }], async (account) => {
      // Act
      await switchCanary(account.otherCertificate.arn);
      await switchCanary(account.currentCertificate.arn);

      // Assert
      expect(await handshake(target(account, 'elb/apps-servers-elb-prod/6667').host, 6667, 'gitter.im')).toBe(sha256(other.certPem));
    });
  });

  test('no change, no effect: the endpoint serves what the configuration says', async () => {
    await withAccount([{ target: 'elb/apps-servers-elb-prod/6667', fault: 'stuck-after-change' }], async (account) => {
      // Act: a call that changes another target only.
      await switchCanary(account.otherCertificate.arn, 443);

      // Assert
      expect(await handshake(target(account, 'elb/apps-servers-elb-prod/6667').host, 6667, 'gitter.im')).toBe(sha256(current.certPem));
    });
  });

  test('CloudFront: the first change is the deployed one; an update back is not served', async () => {
    // A distribution without aliases, on the unrelated certificate (any certificate covers no alias).
    await withAccount([{ target: 'cloudfront/E3OTHER', fault: 'stuck-after-change' }], async (account) => {
      // Arrange
      const cf = new CloudFrontClient({});
      const host = target(account, 'cloudfront/E3OTHER').host;
      const update = async (certificateId: string) => {
        const { DistributionConfig: config, ETag } = await cf.send(new GetDistributionConfigCommand({ Id: 'E3OTHER' }));
        await cf.send(
          new UpdateDistributionCommand({
            Id: 'E3OTHER',
            IfMatch: ETag,
            DistributionConfig: { ...config!, ViewerCertificate: { ...config!.ViewerCertificate, IAMCertificateId: certificateId } },
          }),
        );
      };

      // Act
      await update(account.currentCertificate.id);
      const whileDeploying = await handshake(host, 443);
      account.clock.advance(600);
      const afterChange = await handshake(host, 443);
      await update(account.otherCertificate.id);
      account.clock.advance(600);
      const afterRevert = await handshake(host, 443);

      // Assert
      expect(whileDeploying).toBe(sha256(other.certPem));
      expect(afterChange).toBe(sha256(current.certPem));
      expect(afterRevert).toBe(sha256(current.certPem));
      expect(target(account, 'cloudfront/E3OTHER').servedSha256()).toBe(sha256(other.certPem));
    });
  });
});
