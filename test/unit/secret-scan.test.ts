import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate, type JsonWebKey } from 'node:crypto';
import { issueWithFreshPki } from '../../local/certs';
import { keyNeedles, SCAN_PLACES, scanForKeys, type ScanDocument } from '../../local/secret-scan';

/** The rehearsal's secret scan must find the key in any form it could leak in, in any place it reads. */
describe('secret scan', () => {
  const rsaPair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // Every PEM form a key is staged in: PKCS#8 and the key type's own form.
  const keys: Array<[string, string]> = [
    ['RSA PKCS#8', rsaPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
    ['RSA PKCS#1', rsaPair.privateKey.export({ type: 'pkcs1', format: 'pem' }).toString()],
    ['EC SEC1', ecPair.privateKey.export({ type: 'sec1', format: 'pem' }).toString()],
    ['EC PKCS#8', ecPair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()],
  ];
  const body = (pem: string) =>
    pem
      .split('\n')
      .filter((l) => l && !l.startsWith('-----'))
      .join('');
  const der = (pem: string, type: 'pkcs8' | 'own') => {
    const key = createPrivateKey(pem);
    if (type === 'pkcs8') return key.export({ type: 'pkcs8', format: 'der' });
    return key.export({ type: key.asymmetricKeyType === 'rsa' ? 'pkcs1' : 'sec1', format: 'der' });
  };
  const jwk = (pem: string): JsonWebKey => createPrivateKey(pem).export({ format: 'jwk' });
  const noHeader = (pem: string) => pem.replace(/-----[^-]+-----/g, '');

  /** A leak, as the text of a document; undefined when the form does not exist for that key type. */
  const leaks: Array<[string, (k: string) => string | undefined]> = [
    ['the whole PEM', (k) => `log line ${k}`],
    ['the PEM JSON-escaped in a payload', (k) => JSON.stringify({ privateKey: k })],
    ['the PEM JSON-escaped twice (a payload inside a payload)', (k) => JSON.stringify({ Cause: JSON.stringify({ privateKey: k }) })],
    ['the PEM with CRLF line ends', (k) => noHeader(k).replace(/\n/g, '\r\n')],
    ['the base64 body on one line', (k) => `x=${body(k)}`],
    // A private part of the key (a line of only public bytes, like an RSA modulus, proves nothing).
    ['one private line of the body', (k) => `fragment ${k.split('\n').find((l) => l.length === 64 && keyNeedles(k).includes(l))} end`],
    ['the whole PEM as base64', (k) => Buffer.from(k).toString('base64')],
    ['the whole PEM with CRLF as base64', (k) => Buffer.from(k.replace(/\n/g, '\r\n')).toString('base64')],
    ['the PEM inside a JSON document, all as base64', (k) => Buffer.from(JSON.stringify({ pem: k })).toString('base64')],
    ['the PEM inside a longer text at another offset, as base64', (k) => Buffer.from(`ab${k}`).toString('base64')],
    ['the whole PEM as hex', (k) => Buffer.from(k).toString('hex')],
    ['DER (PKCS#8) as base64', (k) => der(k, 'pkcs8').toString('base64')],
    ['DER (the own form: PKCS#1 / SEC1) as base64', (k) => der(k, 'own').toString('base64')],
    [
      'DER (PKCS#8) as base64 wrapped at 76 (MIME)',
      (k) =>
        (
          der(k, 'pkcs8')
            .toString('base64')
            .match(/.{1,76}/g) ?? []
        ).join('\n'),
    ],
    ['DER (PKCS#8) as base64, URL-encoded', (k) => `?key=${encodeURIComponent(der(k, 'pkcs8').toString('base64'))}`],
    ['DER (PKCS#8) as hex', (k) => der(k, 'pkcs8').toString('hex')],
    ['DER (PKCS#8) as HEX (upper case)', (k) => der(k, 'pkcs8').toString('hex').toUpperCase()],
    ['DER (the own form) as hex', (k) => `der=${der(k, 'own').toString('hex')}`],
    ['DER (the own form) as HEX (upper case)', (k) => der(k, 'own').toString('hex').toUpperCase()],
    ['DER (the own form) as colon-separated hex (openssl -text)', (k) => (der(k, 'own').toString('hex').match(/../g) ?? []).join(':')],
    [
      'a part of the DER as hex (a 32-byte chunk with private bytes)',
      (k) => {
        const d = der(k, 'pkcs8');
        const spki = createPublicKey(k).export({ type: 'spki', format: 'der' });
        const chunk = [...Array(Math.floor(d.length / 32)).keys()]
          .map((i) => d.subarray(i * 32, i * 32 + 32))
          .find((c) => !spki.includes(c));
        return `...${chunk!.toString('hex')}...`;
      },
    ],
    ['the JWK', (k) => JSON.stringify(jwk(k))],
    ['JWK d alone (base64url)', (k) => `"d":"${jwk(k).d}"`],
    ['the private scalar / exponent as hex', (k) => Buffer.from(jwk(k).d!, 'base64url').toString('hex')],
    ['the private scalar / exponent as base64', (k) => Buffer.from(jwk(k).d!, 'base64url').toString('base64')],
    ['JWK p alone (RSA)', (k) => jwk(k).p],
    ['JWK q alone (RSA)', (k) => jwk(k).q],
    ['JWK dp alone (RSA)', (k) => jwk(k).dp],
    ['JWK dq alone (RSA)', (k) => jwk(k).dq],
    ['JWK qi alone (RSA)', (k) => jwk(k).qi],
    ['a PEM header of any key', () => 'here: -----BEGIN PRIVATE KEY-----\nMIIB...'],
  ];

  test.each(leaks)('finds %s', (_what, leak) => {
    let planted = 0;
    for (const [type, key] of keys) {
      const text = leak(key);
      if (text === undefined) continue;
      planted += 1;
      // Arrange
      const docs: ScanDocument[] = [
        { place: 'logs', name: 'clean', text: 'nothing to see' },
        { place: 'notifications', name: `leaky ${type}`, text },
      ];

      // Act
      const result = scanForKeys(docs, [key]);

      // Assert
      expect(result.findings).toBe(1);
      expect(result.where).toEqual([{ place: 'notifications', name: `leaky ${type}`, form: expect.any(String) }]);
    }
    expect(planted).toBeGreaterThan(0);
  });

  test.each(SCAN_PLACES)('a leak in %s is found there, named by place and document', (place) => {
    // Arrange: a hex leak (the form the old scan missed) among clean documents of every place
    const key = keys[0][1];
    const docs: ScanDocument[] = [
      ...SCAN_PLACES.map((p) => ({ place: p, name: `clean ${p}`, text: `{"sha256":"${'ab'.repeat(32)}"}` })),
      { place, name: `the leaky one in ${place}`, text: der(key, 'own').toString('hex') },
    ];

    // Act
    const result = scanForKeys(docs, [key]);

    // Assert
    expect(result.where).toEqual([{ place, name: `the leaky one in ${place}`, form: 'DER (PKCS#1) as hex' }]);
    expect(result.searched[place]).toBe(2);
  });

  test('where names the encoding found, never the matched text', () => {
    const key = keys[2][1];
    const leaked = Buffer.from(jwk(key).d!, 'base64url').toString('hex');

    const result = scanForKeys([{ place: 'logs', name: 'stderr write 3', text: leaked }], [key]);

    expect(result.where).toEqual([{ place: 'logs', name: 'stderr write 3', form: 'JWK d as hex' }]);
    expect(JSON.stringify(result)).not.toContain(leaked.slice(0, 16));
  });

  test('each of several keys is looked for (the staged new key and the current one)', () => {
    const [a, b] = [keys[0][1], keys[2][1]];

    const result = scanForKeys(
      [
        { place: 'logs', name: 'a', text: der(a, 'pkcs8').toString('hex') },
        { place: 'logs', name: 'b', text: body(b) },
      ],
      [a, b],
    );

    expect(result.where.map((w) => w.name)).toEqual(['a', 'b']);
  });

  test('public material is not a finding: the certificate, its public key and public JWK in every encoding', async () => {
    // Arrange: a certificate of the key, and its public key, as they are published and logged
    const pki = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] });
    const cert = new X509Certificate(pki.certPem);
    const pub = createPublicKey(pki.keyPem);
    const spki = pub.export({ type: 'spki', format: 'der' });
    const published = [
      pki.certPem,
      pki.chainPem,
      cert.raw.toString('base64'),
      cert.raw.toString('hex'),
      cert.raw.toString('hex').toUpperCase(),
      Buffer.from(pki.certPem).toString('base64'),
      ...[0, 1, 2].map((shift) => Buffer.concat([Buffer.alloc(shift), spki]).toString('base64')),
      spki.toString('hex'),
      pub.export({ type: 'pkcs1', format: 'pem' }).toString(),
      JSON.stringify(pub.export({ format: 'jwk' })),
    ];

    // Act
    const result = scanForKeys(
      published.map((text, i) => ({ place: 's3 objects', name: `public ${i}`, text })),
      [pki.keyPem],
    );

    // Assert
    expect(result.where).toEqual([]);
  });

  test('places are only those documents were read from; searched counts the documents of each', () => {
    const result = scanForKeys(
      [
        { place: 'report', name: 'r', text: JSON.stringify({ sha256: 'ab'.repeat(32) }) },
        { place: 'logs', name: 'stdout write 0', text: 'a' },
        { place: 'logs', name: 'stderr write 0', text: 'b' },
      ],
      [keys[0][1]],
    );

    expect(result.findings).toBe(0);
    expect(result.places).toEqual(['logs', 'report']);
    expect(result.searched).toEqual({ logs: 2, report: 1 });
  });

  test('nothing read: no place is claimed as searched', () => {
    expect(scanForKeys([], [keys[0][1]])).toEqual({ places: [], findings: 0, searched: {}, where: [] });
  });

  test('a key that does not parse still yields its PEM lines as needles', () => {
    const broken = '-----BEGIN PRIVATE KEY-----\n' + 'A'.repeat(64) + '\n-----END PRIVATE KEY-----\n';

    expect(scanForKeys([{ place: 'logs', name: 'l', text: 'A'.repeat(64) }], [broken]).findings).toBe(1);
  });
});
