import { createPrivateKey, createPublicKey } from 'node:crypto';

/** The places the report's secret scan covers (REHEARSAL.md), plus the simulated S3 objects. */
export const SCAN_PLACES = ['execution history', 'logs', 'notifications', 'ssm parameters', 'ssm output', 'report', 's3 objects'] as const;
export type ScanPlace = (typeof SCAN_PLACES)[number];

export interface SecretScanResult {
  readonly places: ScanPlace[];
  readonly findings: number;
  /** How many documents of each place were searched (so a scan of nothing cannot pass unnoticed). */
  readonly searched: Partial<Record<ScanPlace, number>>;
  /** Where each finding was (place and document name); never the matched text. */
  readonly where: Array<{ readonly place: ScanPlace; readonly name: string }>;
}

/**
 * What counts as the private key: the PEM body (whole, and each full 64-character line, so a
 * partial leak counts) and the DER encodings in base64 (PKCS#8 and the algorithm's own form).
 * A line whose 48 bytes are public (an RSA key repeats its modulus, which every certificate of
 * the key carries too) is not a needle: finding it proves nothing.
 */
export function keyNeedles(privateKeyPem: string): string[] {
  const needles = new Set<string>();
  const body = privateKeyPem
    .split(/\r?\n/)
    .filter((l) => l && !l.startsWith('-----'))
    .map((l) => l.trim());
  if (body.length > 0) needles.add(body.join(''));
  let publicDer: Buffer | undefined;
  try {
    publicDer = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
  } catch {
    publicDer = undefined;
  }
  for (const line of body) {
    if (line.length >= 64 && !(publicDer && publicDer.includes(Buffer.from(line, 'base64')))) needles.add(line);
  }
  try {
    const key = createPrivateKey(privateKeyPem);
    needles.add(key.export({ type: 'pkcs8', format: 'der' }).toString('base64'));
    if (key.asymmetricKeyType === 'rsa') needles.add(key.export({ type: 'pkcs1', format: 'der' }).toString('base64'));
    if (key.asymmetricKeyType === 'ec') needles.add(key.export({ type: 'sec1', format: 'der' }).toString('base64'));
  } catch {
    // A deliberately broken key: the PEM lines are all there is to look for.
  }
  needles.add('PRIVATE KEY-----');
  return [...needles].filter((n) => n.length >= 16);
}

/** Counts documents (per place) that hold any of the needles. JSON-escaped newlines are undone first. */
export function scanForKeys(
  documents: ReadonlyArray<{ readonly place: ScanPlace; readonly name: string; readonly text: string }>,
  privateKeys: readonly string[],
): SecretScanResult {
  const needles = privateKeys.filter((k) => k.trim() !== '').flatMap(keyNeedles);
  const where: Array<{ place: ScanPlace; name: string }> = [];
  const searched: Partial<Record<ScanPlace, number>> = {};
  for (const doc of documents) {
    searched[doc.place] = (searched[doc.place] ?? 0) + 1;
    const text = doc.text.replace(/\\n/g, '\n').replace(/\\\//g, '/');
    const flat = text.replace(/\s+/g, '');
    if (needles.some((n) => text.includes(n) || flat.includes(n))) where.push({ place: doc.place, name: doc.name });
  }
  return { places: [...SCAN_PLACES], findings: where.length, searched, where };
}
