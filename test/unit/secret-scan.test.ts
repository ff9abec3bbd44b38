import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { keyNeedles, scanForKeys } from '../../local/secret-scan';

/** The rehearsal's secret scan must find the key in any form it could leak in. */
describe('secret scan', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'sec1', format: 'pem' }).toString();
  const body = (pem: string) =>
    pem
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join('');

  test.each([
    ['the whole PEM', (k: string) => `log line ${k}`],
    ['the PEM JSON-escaped in a payload', (k: string) => JSON.stringify({ privateKey: k })],
    ['the base64 body on one line', (k: string) => `x=${body(k)}`],
    // A private part of the key (a line of only public bytes, like an RSA modulus, proves nothing).
    [
      'one 64-character private line of the body',
      (k: string) => `fragment ${k.split('\n').find((l) => l.length === 64 && keyNeedles(k).includes(l))} end`,
    ],
    ['a PEM header of any key', () => 'here: -----BEGIN PRIVATE KEY-----\nMIIB...'],
  ])('finds %s', (_what, leak) => {
    for (const key of [rsa, ec]) {
      // Arrange
      const docs = [
        { place: 'logs' as const, name: 'clean', text: 'nothing to see' },
        { place: 'notifications' as const, name: 'leaky', text: leak(key) },
      ];

      // Act
      const result = scanForKeys(docs, [key]);

      // Assert
      expect(result.findings).toBe(1);
      expect(result.where).toEqual([{ place: 'notifications', name: 'leaky' }]);
    }
  });

  test('looks for the staged PEM body and the DER re-encodings (PKCS#8 and SEC1) of the key', () => {
    const needles = keyNeedles(ec);
    const sec1Body = body(ec);
    expect(needles).toContain(sec1Body);
    expect(needles.length).toBeGreaterThan(2);
  });

  test('public material is not a finding: a certificate of the key shares its RSA modulus, never a match', () => {
    // Arrange: the public key in every form it is published (SPKI DER, as PEM lines at each byte alignment).
    const pub = createPublicKey(rsa).export({ type: 'spki', format: 'der' });
    const published = [0, 1, 2].map((shift) => Buffer.concat([Buffer.alloc(shift), pub]).toString('base64'));

    // Act
    const result = scanForKeys(
      published.map((text, i) => ({ place: 's3 objects' as const, name: `cert ${i}`, text })),
      [rsa],
    );

    // Assert
    expect(result.findings).toBe(0);
  });

  test('clean documents give 0 findings and name every place', () => {
    const result = scanForKeys([{ place: 'report', name: 'r', text: JSON.stringify({ sha256: 'ab'.repeat(32) }) }], [rsa]);

    expect(result.findings).toBe(0);
    expect(result.places).toEqual(['execution history', 'logs', 'notifications', 'ssm parameters', 'ssm output', 'report', 's3 objects']);
  });

  test('a key that does not parse still yields its PEM lines as needles', () => {
    const broken = '-----BEGIN PRIVATE KEY-----\n' + 'A'.repeat(64) + '\n-----END PRIVATE KEY-----\n';

    expect(scanForKeys([{ place: 'logs', name: 'l', text: 'A'.repeat(64) }], [broken]).findings).toBe(1);
  });
});
