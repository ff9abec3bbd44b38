/**
 * The ACME source against a real ACME CA: Debian's pebble on 127.0.0.1, resolving through
 * pebble-challtestsrv, into which the simulated Route53 pushes the TXT records it publishes. The
 * handlers' real SDK clients reach the simulated account; acme-client reaches pebble over HTTPS.
 * Runs wherever `npm run setup` ran (pebble is in scripts/system-packages.txt): never skipped.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { Route53Client } from '@aws-sdk/client-route-53';
import { ACMClient } from '@aws-sdk/client-acm';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { obtainAutomatically, type AutomaticParams } from '../../lambdas/obtain/automatic';
import { issueWithAcme } from '../../lambdas/shared/acme/issue';
import { awsClient } from '../../lambdas/shared/aws-clients';
import { AcmeAccountRefused, AcmeChallengeInvalid } from '../../lambdas/shared/errors';
import type { AcmeSourceConfig } from '../../lambdas/shared/source-config';
import { pebbleInstalled, startPebble, type PebbleServer } from '../../local/pebble';
import { defaultFleet, SimulatedAccount, simHostedZoneId, type FleetSpec } from '../../local/sim';
import { recordingLogger } from '../support/handler-support';
import { seedCertificates } from '../support/sim-fixtures';

const NAMES = ['*.gitter.im', 'gitter.im'];

function acmeConfig(pebble: PebbleServer, fleet: FleetSpec, overrides: Partial<AcmeSourceConfig> = {}): AcmeSourceConfig {
  const seen = new Map<string, number>();
  const zoneIds = (fleet.hostedZones ?? [{ name: fleet.domain }]).map((z) => {
    const n = seen.get(z.name) ?? 0;
    seen.set(z.name, n + 1);
    return simHostedZoneId(z.name, n);
  });
  return {
    directoryUrl: pebble.directoryUrl,
    accountKeySecretName: 'cert-rotation/gitter.im/acme-account/pebble',
    keyType: 'rsa-2048',
    hostedZoneIds: zoneIds,
    dnsTimeoutSeconds: 20,
    dnsPollSeconds: 1,
    directoryTrustedCertificates: [pebble.directoryCaPem],
    ...overrides,
  };
}

async function account(fleet: FleetSpec, pebble: PebbleServer): Promise<SimulatedAccount> {
  const { current, other } = await seedCertificates();
  const sim = await SimulatedAccount.create({ fleet, current, other });
  sim.install();
  sim.route53.publishTo(pebble.challtestsrvUrl);
  sim.route53.syncSeconds = 1;
  return sim;
}

function makeParams(
  config: AcmeSourceConfig,
  overrides: Partial<AutomaticParams> = {},
): AutomaticParams & { log: ReturnType<typeof recordingLogger> } {
  const log = recordingLogger();
  return {
    secrets: awsClient(SecretsManagerClient),
    route53: awsClient(Route53Client),
    acm: awsClient(ACMClient),
    logger: log.logger,
    sources: { acme: config },
    executionName: `acme-test-${Math.random().toString(36).slice(2, 8)}`,
    secretPrefix: 'cert-rotation/gitter.im/',
    domain: 'gitter.im',
    names: NAMES,
    now: () => new Date(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    log,
    ...overrides,
  };
}

test('pebble and pebble-challtestsrv are installed (npm run setup installs the Debian package "pebble")', () => {
  expect(pebbleInstalled()).toBe(true);
});

describe('ACME DNS-01 against a real pebble', () => {
  let pebble: PebbleServer;
  let sim: SimulatedAccount;
  const fleet: FleetSpec = defaultFleet();

  beforeAll(async () => {
    pebble = await startPebble();
    sim = await account(fleet, pebble);
  });
  afterAll(async () => {
    await sim?.close();
    await pebble?.close();
  });

  test('issues a wildcard + apex certificate into a secret; only the ARN and public facts come back; no record stays', async () => {
    // Arrange
    const params = makeParams(acmeConfig(pebble, fleet));

    // Act
    const result = await obtainAutomatically(params, 'acme');

    // Assert: the certificate covers both names and chains to pebble's root
    const stored = JSON.parse(
      (await params.secrets.send(new GetSecretValueCommand({ SecretId: result.secretArn }))).SecretString ?? '{}',
    ) as { certificate: string; chain: string; privateKey: string };
    const leaf = new X509Certificate(stored.certificate);
    expect(leaf.subjectAltName?.split(', ').sort()).toEqual(['DNS:*.gitter.im', 'DNS:gitter.im']);
    const intermediate = new X509Certificate(stored.chain);
    const root = new X509Certificate(pebble.issuingRootPem);
    expect(leaf.verify(intermediate.publicKey)).toBe(true);
    expect(intermediate.verify(root.publicKey)).toBe(true);
    expect(leaf.checkPrivateKey(createPrivateKey(stored.privateKey))).toBe(true);
    expect(result).toMatchObject({ origin: 'acme', names: ['*.gitter.im', 'gitter.im'], serial: leaf.serialNumber });
    expect(JSON.stringify(result)).not.toContain('PRIVATE KEY');
    expect(params.log.text()).not.toContain('PRIVATE KEY');
    expect(sim.route53.txtRecords()).toEqual([]);
    expect(sim.dns.getTxt('_acme-challenge.gitter.im')).toEqual([]);
  });

  test('the account is created once and reused by the next rotation (same account, no second account secret)', async () => {
    // Arrange
    const config = acmeConfig(pebble, fleet, { accountKeySecretName: 'cert-rotation/gitter.im/acme-account/reuse' });
    const common = makeParams(config);

    // Act
    const first = await issueWithAcme({ ...common, config });
    const second = await issueWithAcme({ ...common, config });

    // Assert
    expect(first.accountCreated).toBe(true);
    expect(second.accountCreated).toBe(false);
    expect(second.accountUrl).toBe(first.accountUrl);
    const secret = sim.secretsManager.secrets.filter((s) => s.name === config.accountKeySecretName);
    expect(secret).toHaveLength(1);
    expect(secret[0].versions).toHaveLength(1);
    // A fresh certificate key per rotation.
    expect(second.privateKey).not.toBe(first.privateKey);
  });

  test('a record that never reaches public DNS: AcmeChallengeInvalid naming the record, and no record left behind', async () => {
    // Arrange
    sim.route53.publishing = false;
    const params = makeParams(acmeConfig(pebble, fleet));

    // Act
    const attempt = obtainAutomatically(params, 'acme');

    // Assert
    try {
      await expect(attempt).rejects.toThrow(AcmeChallengeInvalid);
      await expect(attempt).rejects.toThrow(/_acme-challenge\.gitter\.im/);
      expect(sim.route53.txtRecords()).toEqual([]);
      expect(sim.secretsManager.secrets.some((s) => s.name === `cert-rotation/gitter.im/${params.executionName}`)).toBe(false);
    } finally {
      sim.route53.publishing = true;
    }
  });
});

describe('several hosted zones: the longest suffix owns the name', () => {
  let pebble: PebbleServer;
  let sim: SimulatedAccount;
  // `im` is a parent zone; the private `gitter.im` zone is not what a CA resolves; only the public
  // `gitter.im` zone's records are published (the simulated Route53 publishes the owner's records).
  const fleet: FleetSpec = {
    ...defaultFleet(),
    hostedZones: [{ name: 'example.org' }, { name: 'im' }, { name: 'gitter.im', private: true }, { name: 'gitter.im' }],
  };

  beforeAll(async () => {
    pebble = await startPebble();
    sim = await account(fleet, pebble);
  });
  afterAll(async () => {
    await sim?.close();
    await pebble?.close();
  });

  test('the record goes into the public gitter.im zone, not its parent or the private one, and pebble validates it', async () => {
    // Arrange
    const params = makeParams(acmeConfig(pebble, fleet));

    // Act
    const result = await obtainAutomatically(params, 'acme');

    // Assert
    expect(result.names).toEqual(['*.gitter.im', 'gitter.im']);
    expect(sim.route53.txtRecords()).toEqual([]);
  });
});

describe('External Account Binding (pebble requires it)', () => {
  let pebble: PebbleServer;
  let sim: SimulatedAccount;
  const fleet = defaultFleet();
  const hmac = 'zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W';

  beforeAll(async () => {
    pebble = await startPebble({ eab: { 'kid-1': hmac } });
    sim = await account(fleet, pebble);
    sim.putSecret('acme/eab-hmac', hmac);
  });
  afterAll(async () => {
    await sim?.close();
    await pebble?.close();
  });

  test('without EAB the CA refuses the account: AcmeAccountRefused saying to check the EAB config', async () => {
    // Arrange
    const config = acmeConfig(pebble, fleet, { accountKeySecretName: 'cert-rotation/gitter.im/acme-account/no-eab' });

    // Act
    const attempt = issueWithAcme({ ...makeParams(config), config });

    // Assert
    await expect(attempt).rejects.toThrow(AcmeAccountRefused);
    await expect(attempt).rejects.toThrow(/certificateSource\.acme\.eab/);
  });

  test('with the key id and the HMAC from Secrets Manager, the account binds and the certificate is issued', async () => {
    // Arrange
    const config = acmeConfig(pebble, fleet, { eab: { keyId: 'kid-1', hmacSecretName: 'acme/eab-hmac' } });
    const params = makeParams(config);

    // Act
    const issued = await issueWithAcme({ ...params, config });

    // Assert
    expect(new X509Certificate(issued.certificate).subjectAltName).toContain('DNS:gitter.im');
    expect(params.log.text()).not.toContain(hmac);
  });
});
