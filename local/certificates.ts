import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createRootCa, createIntermediateCa, issueCertificate } from './certs';
import { splitPemCertificates, summarizeCertificate } from '../lambdas/shared/certificate';
import type { SimCertificate } from './sim';
import { UsageError } from './sim';

/** The certificates of one rehearsal. Key material stays in this process and the simulated account. */
export interface RehearsalCertificates {
  /** What is staged as the new certificate (may be deliberately bad with --certificate). */
  readonly staged: { readonly certificate: string; readonly privateKey: string; readonly chain?: string };
  /** Roots trusted for this rehearsal only. */
  readonly trustedRoots: string[];
  readonly current: SimCertificate;
  readonly other: SimCertificate;
  /** The fleet's older IAM certificates (`iamCertificates`), by name: the same names, long expired. */
  readonly iamCertificates: Record<string, SimCertificate>;
}

const DAY = 86_400_000;

/** Names of the staged certificate when it parses; the config names otherwise. */
function namesOf(certificatePem: string, fallback: readonly string[]): string[] {
  try {
    const names = summarizeCertificate(certificatePem).names;
    return names.length > 0 ? names : [...fallback];
  } catch {
    return [...fallback];
  }
}

/**
 * Builds the rehearsal's certificates: the staged new one (generated, or read from DIR), the
 * current one the fleet serves (same names, `currentDaysLeft` days left) and an unrelated one.
 */
export async function prepareCertificates(opts: {
  readonly names: readonly string[];
  readonly currentDaysLeft: number;
  readonly certificateDir?: string;
  readonly now?: Date;
  /** The fleet's `iamCertificates`: one certificate each, valid for a year from its upload. @default [] */
  readonly older?: ReadonlyArray<{ readonly name: string; readonly uploadedDaysAgo: number }>;
}): Promise<RehearsalCertificates> {
  const now = opts.now ?? new Date();
  const root = await createRootCa({ name: 'Rehearsal Root CA' });
  const intermediate = await createIntermediateCa(root, { name: 'Rehearsal Intermediate CA' });
  const trustedRoots = [root.certPem];

  let staged: RehearsalCertificates['staged'];
  let names = [...opts.names];
  if (opts.certificateDir) {
    const dir = opts.certificateDir;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--certificate: ${dir} is not a directory`);
    const read = (f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : undefined);
    // Missing files are staged empty: the workflow, not the CLI, refuses them (with what is wrong).
    const certificate = read('cert.pem') ?? '';
    const chain = read('chain.pem');
    const rootPem = read('root.pem');
    if (rootPem) trustedRoots.push(...splitPemCertificates(rootPem));
    // A missing key is staged as empty: the workflow, not the CLI, refuses it.
    staged = { certificate, privateKey: read('key.pem') ?? '', ...(chain ? { chain } : {}) };
    names = namesOf(certificate, opts.names);
  } else {
    const leaf = await issueCertificate({
      names,
      issuer: intermediate,
      chain: [intermediate],
      root,
      notBefore: new Date(now.getTime() - 3_600_000),
      // 90 days like an ACME CA, but always outliving the current one (a fleet may say it has months left).
      notAfter: new Date(now.getTime() + Math.min(397, Math.max(90, opts.currentDaysLeft + 30)) * DAY),
    });
    staged = { certificate: leaf.certPem, privateKey: leaf.keyPem, chain: leaf.chainPem };
  }

  const currentNotAfter = new Date(now.getTime() + opts.currentDaysLeft * DAY);
  const current = await issueCertificate({
    names,
    issuer: intermediate,
    chain: [intermediate],
    root,
    notBefore: new Date(Math.min(now.getTime() - DAY, currentNotAfter.getTime() - 90 * DAY)),
    notAfter: currentNotAfter,
  });
  const other = await issueCertificate({ names: ['*.other.example', 'other.example'], issuer: intermediate, chain: [intermediate], root });
  const iamCertificates: Record<string, SimCertificate> = {};
  for (const c of opts.older ?? []) {
    const notBefore = new Date(now.getTime() - (c.uploadedDaysAgo + 1) * DAY);
    const old = await issueCertificate({
      names,
      keyType: 'ec-p256',
      issuer: intermediate,
      chain: [intermediate],
      root,
      notBefore,
      notAfter: new Date(notBefore.getTime() + 365 * DAY),
    });
    iamCertificates[c.name] = { certPem: old.certPem, keyPem: old.keyPem, chainPem: old.chainPem };
  }
  return {
    iamCertificates,
    staged,
    trustedRoots,
    current: { certPem: current.certPem, keyPem: current.keyPem, chainPem: current.chainPem },
    other: { certPem: other.certPem, keyPem: other.keyPem, chainPem: other.chainPem },
  };
}
