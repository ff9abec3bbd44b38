import { createPrivateKey, createPublicKey, type JsonWebKey } from 'node:crypto';

/**
 * Every kind of place the rehearsal's secret scan can read (REHEARSAL.md "Report"): the engine's
 * execution history, handler stdout and stderr ("logs"), SNS notifications, SSM parameters and
 * command text/output, every version of every S3 object, the Lambda functions' environments,
 * secret names/descriptions/tags (never their values: that is where keys belong), the report.
 */
export const SCAN_PLACES = [
  'execution history',
  'logs',
  'notifications',
  'ssm parameters',
  'ssm output',
  's3 objects',
  'lambda environments',
  'secrets',
  'approval store',
  'report',
] as const;
export type ScanPlace = (typeof SCAN_PLACES)[number];

/** One document the scan reads: where it is, which one, and its text. */
export interface ScanDocument {
  readonly place: ScanPlace;
  /** Which document (log line, s3://bucket/key?versionId=..., function name...). */
  readonly name: string;
  readonly text: string;
}

export interface SecretScanResult {
  /** The places really searched: those at least one document was read from, in SCAN_PLACES order. */
  readonly places: ScanPlace[];
  readonly findings: number;
  /** How many documents of each place were searched (so a scan of nothing cannot pass unnoticed). */
  readonly searched: Partial<Record<ScanPlace, number>>;
  /** Where each finding was (place, document, and which encoding of the key); never the matched text. */
  readonly where: Array<{ readonly place: ScanPlace; readonly name: string; readonly form: string }>;
}

/** A needle and the encoding it stands for (reported in `where`, never the needle itself). */
interface Needle {
  readonly text: string;
  readonly form: string;
}

/** What the scan looks for: case-sensitive needles (PEM, base64), and lowercase hex needles (matched case-insensitively). */
export interface KeyNeedles {
  readonly exact: readonly Needle[];
  readonly hex: readonly Needle[];
}

/** Shorter needles could match by chance (16 base64 characters are 96 bits). */
const MIN_NEEDLE = 16;
/** Chunks of an encoding that count alone (a partial leak): 64 characters, like a PEM line. */
const CHUNK = 64;
/** JWK members that are private: EC/OKP `d`; RSA `d`, `p`, `q`, `dp`, `dq`, `qi`. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/**
 * The part of base64(prefix + bytes + suffix) that is the same whatever the prefix and suffix,
 * for a prefix of `align` bytes modulo 3: how `bytes` show up inside the base64 of a larger text
 * (the whole PEM as base64, say).
 */
function base64Inside(bytes: Buffer, align: 0 | 1 | 2): string {
  const encoded = Buffer.concat([Buffer.alloc(align), bytes])
    .toString('base64')
    .replace(/=+$/, '');
  const start = align === 0 ? 0 : 4;
  const whole = Math.floor((align + bytes.length) / 3) * 4;
  return encoded.slice(start, whole);
}

function chunks(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/**
 * What counts as the private key, in every encoding it could leak in:
 * - the PEM body (whole, and each line, so a partial leak counts), and the whole PEM as base64
 *   (each body line's bytes inside it, at every alignment) and as hex;
 * - the DER of PKCS#8 and of the key type's own form (PKCS#1 for RSA, SEC1 for EC), as base64
 *   and as hex (each whole, and in 64-character chunks);
 * - the private JWK members (`d`; for RSA also `p`, `q`, `dp`, `dq`, `qi`) as base64url, base64
 *   and hex;
 * - any PEM private-key header.
 * A line or chunk whose bytes are all public (an RSA key repeats its modulus, which every
 * certificate of the key carries too; SEC1 ends with the public point) is not a needle: finding
 * it proves nothing.
 */
export function keyNeedleSet(privateKeyPem: string): KeyNeedles {
  const exact = new Map<string, string>();
  const hex = new Map<string, string>();
  const add = (into: Map<string, string>, text: string, form: string) => {
    if (text.length >= MIN_NEEDLE && !into.has(text)) into.set(text, form);
  };
  let publicDer: Buffer | undefined;
  try {
    publicDer = createPublicKey(privateKeyPem).export({ type: 'spki', format: 'der' });
  } catch {
    publicDer = undefined;
  }
  const isPublic = (bytes: Buffer) => publicDer !== undefined && publicDer.includes(bytes);

  const body = privateKeyPem
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('-----'));
  if (body.length > 0) add(exact, body.join(''), 'PEM body');
  for (const line of body) {
    if (isPublic(Buffer.from(line, 'base64'))) continue;
    add(exact, line, 'PEM body line');
    const text = Buffer.from(line, 'utf8');
    for (const align of [0, 1, 2] as const) add(exact, base64Inside(text, align), 'PEM as base64');
    add(hex, text.toString('hex'), 'PEM as hex');
  }

  try {
    const key = createPrivateKey(privateKeyPem);
    const ders: Array<[string, Buffer]> = [['PKCS#8', key.export({ type: 'pkcs8', format: 'der' })]];
    if (key.asymmetricKeyType === 'rsa') ders.push(['PKCS#1', key.export({ type: 'pkcs1', format: 'der' })]);
    if (key.asymmetricKeyType === 'ec') ders.push(['SEC1', key.export({ type: 'sec1', format: 'der' })]);
    for (const [name, der] of ders) {
      add(exact, der.toString('base64'), `DER (${name}) as base64`);
      add(hex, der.toString('hex'), `DER (${name}) as hex`);
    }
    for (const [name, der] of ders) {
      // 48-byte chunks are 64 base64 characters; 32-byte chunks are 64 hex digits.
      for (const [i, chunk] of chunks(der.toString('base64'), CHUNK).entries()) {
        if (!isPublic(der.subarray(i * 48, i * 48 + 48))) add(exact, chunk, `DER (${name}) as base64`);
      }
      for (const [i, chunk] of chunks(der.toString('hex'), CHUNK).entries()) {
        if (!isPublic(der.subarray(i * 32, i * 32 + 32))) add(hex, chunk, `DER (${name}) as hex`);
      }
    }
    const jwk: JsonWebKey = key.export({ format: 'jwk' });
    for (const member of PRIVATE_JWK_MEMBERS) {
      const value = jwk[member];
      if (typeof value !== 'string') continue;
      const bytes = Buffer.from(value, 'base64url');
      add(exact, value, `JWK ${member}`);
      add(exact, bytes.toString('base64').replace(/=+$/, ''), `JWK ${member} as base64`);
      add(hex, bytes.toString('hex'), `JWK ${member} as hex`);
    }
  } catch {
    // A deliberately broken key: the PEM lines are all there is to look for.
  }
  add(exact, 'PRIVATE KEY-----', 'PEM header');
  const list = (m: Map<string, string>) => [...m].map(([text, form]) => ({ text, form }));
  return { exact: list(exact), hex: list(hex) };
}

/**
 * What counts as a secret that is not a key (the ACME EAB HMAC): the value itself; its bytes
 * (read as base64url, as an EAB HMAC is) as base64 and hex; and the value as base64 and hex.
 */
export function secretNeedleSet(secret: string): KeyNeedles {
  const value = secret.trim();
  const exact = new Map<string, string>();
  const hex = new Map<string, string>();
  const add = (into: Map<string, string>, text: string, form: string) => {
    if (text.length >= MIN_NEEDLE && !into.has(text)) into.set(text, form);
  };
  add(exact, value, 'secret value');
  const text = Buffer.from(value, 'utf8');
  for (const align of [0, 1, 2] as const) add(exact, base64Inside(text, align), 'secret value as base64');
  add(hex, text.toString('hex'), 'secret value as hex');
  if (/^[A-Za-z0-9_-]+={0,2}$/.test(value)) {
    const bytes = Buffer.from(value, 'base64url');
    add(exact, bytes.toString('base64').replace(/=+$/, ''), 'secret bytes as base64');
    add(hex, bytes.toString('hex'), 'secret bytes as hex');
  }
  const list = (m: Map<string, string>) => [...m].map(([t, form]) => ({ text: t, form }));
  return { exact: list(exact), hex: list(hex) };
}

/** Every needle of {@link keyNeedleSet} as text (hex in lower and upper case). */
export function keyNeedles(privateKeyPem: string): string[] {
  const set = keyNeedleSet(privateKeyPem);
  return [...set.exact.map((n) => n.text), ...set.hex.flatMap((n) => [n.text, n.text.toUpperCase()])];
}

/** Undoes JSON escaping (at any depth) and URL-encoding of base64, and drops whitespace. */
function variantsOf(text: string): string[] {
  const unescaped = text.replace(/\\+[nrt]/g, '\n').replace(/\\+\//g, '/');
  const flat = unescaped.replace(/\s+/g, '');
  const urlDecoded = flat.replace(/%2B/gi, '+').replace(/%2F/gi, '/').replace(/%3D/gi, '=');
  return urlDecoded === flat ? [unescaped, flat] : [unescaped, flat, urlDecoded];
}

/**
 * Searches each document for each private key in every encoding ({@link keyNeedleSet}), and for
 * each other secret ({@link secretNeedleSet}); counts
 * documents per place, and names each document that holds any (one finding per document).
 */
export function scanForKeys(
  documents: readonly ScanDocument[],
  privateKeys: readonly string[],
  /** Secrets that are not PEM keys (the ACME EAB HMAC), searched as {@link secretNeedleSet}. @default none */
  otherSecrets: readonly string[] = [],
): SecretScanResult {
  const sets = [
    ...privateKeys.filter((k) => k.trim() !== '').map(keyNeedleSet),
    ...otherSecrets.filter((k) => k.trim() !== '').map(secretNeedleSet),
  ];
  const exact = sets.flatMap((s) => s.exact);
  const hex = sets.flatMap((s) => s.hex);
  const where: Array<{ place: ScanPlace; name: string; form: string }> = [];
  const searched: Partial<Record<ScanPlace, number>> = {};
  for (const doc of documents) {
    searched[doc.place] = (searched[doc.place] ?? 0) + 1;
    const variants = variantsOf(doc.text);
    // Hex in any case, with or without separators (`30:82:...`, `30 82 ...`).
    const hexText = variants[1].toLowerCase().replace(/:/g, '');
    const hit = exact.find((n) => variants.some((v) => v.includes(n.text))) ?? hex.find((n) => hexText.includes(n.text));
    if (hit) where.push({ place: doc.place, name: doc.name, form: hit.form });
  }
  const places = SCAN_PLACES.filter((p) => (searched[p] ?? 0) > 0);
  return { places, findings: where.length, searched, where };
}

/** Where a task token was found outside the approval store (never the token itself). */
export interface TaskTokenFinding {
  readonly place: ScanPlace;
  readonly name: string;
}

/**
 * Searches every document but the approval store (where task tokens belong) for the task tokens
 * the rehearsal handed to its gates, whole or as any 64-character piece, in the same encodings
 * as keys are undone (JSON escaping, URL-encoding).
 */
export function scanForTaskTokens(documents: readonly ScanDocument[], tokens: readonly string[]): TaskTokenFinding[] {
  const needles = tokens.flatMap((t) =>
    t.length <= CHUNK
      ? [t]
      : [t.slice(-CHUNK), ...Array.from({ length: Math.floor(t.length / CHUNK) }, (_, i) => t.slice(i * CHUNK, (i + 1) * CHUNK))],
  );
  return documents
    .filter((d) => d.place !== 'approval store')
    .filter((d) => variantsOf(d.text).some((v) => needles.some((n) => v.includes(n))))
    .map((d) => ({ place: d.place, name: d.name }));
}

/** The key scan's result with task-token findings added (form `task token`): both count as findings. */
export function withTaskTokenFindings(result: SecretScanResult, found: readonly TaskTokenFinding[]): SecretScanResult {
  if (found.length === 0) return result;
  return {
    ...result,
    findings: result.findings + found.length,
    where: [...result.where, ...found.map((f) => ({ place: f.place, name: f.name, form: 'task token' }))],
  };
}
