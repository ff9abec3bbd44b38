/**
 * `--source acme` and `--source acm` in the rehearsal.
 *
 * acme: a real pebble (and pebble-challtestsrv as its DNS) on 127.0.0.1; the config's
 * `certificateSource.acme` points at it (directory, the directory's HTTPS CA, the fleet's hosted
 * zones, short DNS polls), pebble's issuing root is trusted for this rehearsal only (as
 * `--certificate DIR` does with root.pem), and the simulated Route53 pushes its published TXT
 * records into challtestsrv, so pebble really validates DNS-01. With `eab`, pebble requires
 * External Account Binding and the HMAC is stored in the simulated Secrets Manager.
 *
 * acm: the fleet's `acm` certificates (one exportable public certificate when the fleet has none);
 * the first gets the rehearsal's new certificate as its material and is the one configured.
 *
 * Afterwards, {@link RehearsalSource.secrets} says what the secret scan must look for: the
 * issued key (read back from the rotation's secret), the ACME account key and the EAB HMAC.
 */
import { randomBytes } from 'node:crypto';
import type { ResolvedConfig } from '../lib/config';
import { startPebble, type PebbleServer } from './pebble';
import { simAcmCertificateArn, simHostedZoneId, type FleetSpec, type SimCertificate, type SimulatedAccount } from './sim';

export type SourceKind = 'staged' | 'acme' | 'acm';

export interface RehearsalSourceOptions {
  /** acme: pebble requires EAB; the rehearsal stores the HMAC in Secrets Manager. @default false */
  readonly eab?: boolean;
}

export interface RehearsalSource {
  readonly kind: 'acme' | 'acm';
  /** The config the workflow is synthesized from (certificateSource and trusted roots set). */
  readonly config: ResolvedConfig;
  readonly fleet: FleetSpec;
  /** The execution input's source. */
  readonly input: { readonly source: Record<string, unknown> };
  /** Shapes the account once it exists (Route53 -> challtestsrv, EAB secret, ACM material). */
  attach(sim: SimulatedAccount, newCertificate: SimCertificate, other: SimCertificate): void;
  /** The rotation's new certificate and key, read back from its secret (undefined when none was stored). */
  obtained(sim: SimulatedAccount, executionName: string): { certificate: string; privateKey: string } | undefined;
  /** Private keys (PEM) and other secrets (raw strings) the secret scan must look for. */
  secrets(sim: SimulatedAccount, executionName: string): { keys: string[]; raw: string[] };
  close(): Promise<void>;
}

/** The fleet's hosted zones as the simulated Route53 names them. */
function fleetZoneIds(fleet: FleetSpec): string[] {
  const seen = new Map<string, number>();
  return (fleet.hostedZones ?? [{ name: fleet.domain }]).map((z) => {
    const n = seen.get(z.name) ?? 0;
    seen.set(z.name, n + 1);
    return simHostedZoneId(z.name, n);
  });
}

function secretValue(sim: SimulatedAccount, name: string): string | undefined {
  const s = sim.secretsManager.secrets.find((x) => x.name === name && !x.deletedDate);
  return s?.versions.find((v) => v.stages.includes('AWSCURRENT'))?.secretString;
}

function obtainedFrom(sim: SimulatedAccount, config: ResolvedConfig, executionName: string) {
  const text = secretValue(sim, `cert-rotation/${config.domain}/${executionName}`);
  if (!text) return undefined;
  const o = JSON.parse(text) as { certificate?: string; privateKey?: string };
  return o.certificate && o.privateKey ? { certificate: o.certificate, privateKey: o.privateKey } : undefined;
}

export async function prepareAutomaticSource(
  kind: 'acme' | 'acm',
  config: ResolvedConfig,
  fleet: FleetSpec,
  opts: RehearsalSourceOptions & { readonly region: string; readonly accountId: string },
): Promise<RehearsalSource> {
  if (kind === 'acm') {
    const acmFleet: FleetSpec = { ...fleet, acm: fleet.acm && fleet.acm.length > 0 ? fleet.acm : [{}] };
    const certificateArn = simAcmCertificateArn(opts.region, opts.accountId, 0);
    return {
      kind,
      config: {
        ...config,
        certificateSource: {
          ...config.certificateSource,
          acm: { certificateArn, startOnRenewal: config.certificateSource.acm?.startOnRenewal ?? false },
        },
      },
      fleet: acmFleet,
      input: { source: { acm: {} } },
      attach: (sim, newCertificate, other) => sim.acm.setMaterial(acmFleet.acm!.map((_, i) => (i === 0 ? newCertificate : other))),
      obtained: (sim, name) => obtainedFrom(sim, config, name),
      secrets: (sim, name) => ({ keys: [obtainedFrom(sim, config, name)?.privateKey ?? ''], raw: [] }),
      close: () => Promise.resolve(),
    };
  }

  const pebbleKeyId = 'rehearsal-kid';
  const hmac = opts.eab ? randomBytes(32).toString('base64url') : undefined;
  const pebble: PebbleServer = await startPebble(hmac ? { eab: { [pebbleKeyId]: hmac } } : {});
  const hmacSecretName = `cert-rotation/${config.domain}/acme-eab-hmac`;
  const base = config.certificateSource.acme;
  const acme = {
    directoryUrl: pebble.directoryUrl,
    ...(base?.contactEmail ? { contactEmail: base.contactEmail } : {}),
    ...(hmac ? { eab: { keyId: pebbleKeyId, hmacSecretName } } : {}),
    accountKeySecretName: `cert-rotation/${config.domain}/acme-account/pebble`,
    keyType: base?.keyType ?? 'rsa-2048',
    hostedZoneIds: fleetZoneIds(fleet),
    dnsTimeoutSeconds: 30,
    dnsPollSeconds: 1,
    directoryTrustedCertificates: [pebble.directoryCaPem],
  } as const;
  const accountKey = (sim: SimulatedAccount): string => {
    const text = secretValue(sim, acme.accountKeySecretName);
    return text ? ((JSON.parse(text) as { accountKey?: string }).accountKey ?? '') : '';
  };
  return {
    kind,
    config: {
      ...config,
      certificateSource: { ...config.certificateSource, acme },
      // Pebble's issuing root, for this rehearsal only.
      trustedRootCertificates: [...config.trustedRootCertificates, pebble.issuingRootPem],
    },
    fleet,
    input: { source: { acme: {} } },
    attach: (sim) => {
      sim.route53.publishTo(pebble.challtestsrvUrl);
      sim.route53.syncSeconds = 1;
      if (hmac) sim.putSecret(hmacSecretName, hmac);
    },
    obtained: (sim, name) => obtainedFrom(sim, config, name),
    secrets: (sim, name) => ({ keys: [obtainedFrom(sim, config, name)?.privateKey ?? '', accountKey(sim)], raw: hmac ? [hmac] : [] }),
    close: () => pebble.close(),
  };
}
