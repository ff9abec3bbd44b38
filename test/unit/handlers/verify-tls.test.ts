import { X509Certificate } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { VerificationFailed } from '../../../lambdas/shared/errors';
import { silentLogger } from '../../../lambdas/shared/logger';
import { parseEndpoint, probeTls, type ProbeRequest, type ProbeResult, type TlsProbe } from '../../../lambdas/shared/tls-probe';
import { verifyTls, type VerifyTlsParams } from '../../../lambdas/verify-tls/domain';
import { issueCertificate, issueWithFreshPki } from '../../../local/certs';
import { caught, settle } from '../../support/handler-support';

const NEW_SHA = 'b'.repeat(64);
const OLD_SHA = 'a'.repeat(64);

/** A probe that answers from a script and records what it was asked. */
function fakeProbe(answers: Array<string | Error>): TlsProbe & { requests: ProbeRequest[] } {
  const requests: ProbeRequest[] = [];
  const probe = settle((request: ProbeRequest): ProbeResult => {
    requests.push(request);
    const answer = answers[Math.min(requests.length - 1, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    return {
      endpoint: `${request.host}:${request.port}`,
      sha256: answer,
      serial: '01',
      notAfter: '2027-01-01T00:00:00.000Z',
      subject: '*.gitter.im',
    };
  }) as TlsProbe & { requests: ProbeRequest[] };
  probe.requests = requests;
  return probe;
}

function makeParams(overrides: Partial<VerifyTlsParams> = {}): VerifyTlsParams {
  return {
    probe: fakeProbe([NEW_SHA]),
    logger: silentLogger,
    endpoint: 'irc.gitter.im:6667',
    expectedSha256: NEW_SHA,
    previousAttempts: 0,
    maxAttempts: 5,
    intervalSeconds: 30,
    ...overrides,
  };
}

describe('verifyTls (canary TLS check) with a fake probe', () => {
  test('the endpoint serves the expected certificate -> matches: true, attempts counted', async () => {
    // Arrange
    const probe = fakeProbe([NEW_SHA]);

    // Act
    const result = await verifyTls(makeParams({ probe, previousAttempts: 2 }));

    // Assert
    expect(result).toEqual({ endpoint: 'irc.gitter.im:6667', matches: true, attempts: 3, servedSha256: NEW_SHA });
    expect(probe.requests).toEqual([{ host: 'irc.gitter.im', port: 6667 }]);
  });

  test('a configured servername is passed to the probe as SNI', async () => {
    // Arrange
    const probe = fakeProbe([NEW_SHA]);

    // Act
    await verifyTls(makeParams({ probe, endpoint: '10.0.0.12:443', servername: 'gitter.im' }));

    // Assert
    expect(probe.requests).toEqual([{ host: '10.0.0.12', port: 443, servername: 'gitter.im' }]);
  });

  test('still the old certificate before maxAttempts -> data {matches: false, attempts: n} (the state machine waits)', async () => {
    // Arrange
    const probe = fakeProbe([OLD_SHA]);

    // Act
    const result = await verifyTls(makeParams({ probe, previousAttempts: 3, maxAttempts: 5 }));

    // Assert
    expect(result).toEqual({ endpoint: 'irc.gitter.im:6667', matches: false, attempts: 4, servedSha256: OLD_SHA });
  });

  test('still the old certificate at maxAttempts -> VerificationFailed naming the endpoint and the last seen fingerprint', async () => {
    // Arrange
    const probe = fakeProbe([OLD_SHA]);

    // Act
    const thrown = await caught(() => verifyTls(makeParams({ probe, previousAttempts: 4, maxAttempts: 5 })));

    // Assert
    expect(thrown).toBeInstanceOf(VerificationFailed);
    expect(thrown.name).toBe('VerificationFailed');
    expect(thrown.message).toContain('irc.gitter.im:6667');
    expect(thrown.message).toContain(`last seen: ${OLD_SHA}`);
    expect(thrown.message).toContain(NEW_SHA);
    expect(thrown.message).toContain('after 5 checks');
  });

  test('a probe error counts as a mismatch (data before the deadline, with the error)', async () => {
    // Arrange
    const probe = fakeProbe([new Error('TLS handshake with irc.gitter.im:6667 (SNI irc.gitter.im) failed: connect ECONNREFUSED')]);

    // Act
    const result = await verifyTls(makeParams({ probe, previousAttempts: 0 }));

    // Assert
    expect(result).toMatchObject({ matches: false, attempts: 1, servedSha256: null });
    expect(result.error).toContain('ECONNREFUSED');
  });

  test('a probe error at the deadline -> VerificationFailed whose message carries the error', async () => {
    // Arrange
    const probe = fakeProbe([new Error('TLS handshake with irc.gitter.im:6667 (SNI irc.gitter.im) failed: timed out')]);

    // Act
    const thrown = await caught(() => verifyTls(makeParams({ probe, previousAttempts: 4, maxAttempts: 5 })));

    // Assert
    expect(thrown).toBeInstanceOf(VerificationFailed);
    expect(thrown.message).toContain('irc.gitter.im:6667');
    expect(thrown.message).toContain('timed out');
  });

  test('the attempt counter carries over between invocations until the deadline', async () => {
    // Arrange
    const probe = fakeProbe([OLD_SHA, OLD_SHA, NEW_SHA]);
    let previous = 0;
    const seen: boolean[] = [];

    // Act
    for (let i = 0; i < 3; i++) {
      const r = await verifyTls(makeParams({ probe, previousAttempts: previous, maxAttempts: 3 }));
      previous = r.attempts;
      seen.push(r.matches);
    }

    // Assert
    expect(seen).toEqual([false, false, true]);
    expect(previous).toBe(3);
  });

  test('parseEndpoint splits host:port and refuses text without a port', () => {
    // Arrange / Act / Assert
    expect(parseEndpoint('irc.gitter.im:6667')).toEqual({ host: 'irc.gitter.im', port: 6667 });
    expect(() => parseEndpoint('irc.gitter.im')).toThrow(/irc\.gitter\.im/);
  });
});

describe('probeTls against a real TLS server on 127.0.0.1', () => {
  let leaf: { certPem: string; keyPem: string; chainPem: string };
  let other: { certPem: string; keyPem: string };
  let server: tls.Server;
  let port: number;
  const sockets = new Set<net.Socket>();

  const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();

  beforeAll(async () => {
    const pki = await issueWithFreshPki({ names: ['*.gitter.im', 'gitter.im'] });
    leaf = pki;
    other = await issueCertificate({ names: ['other.example.org'], issuer: pki.intermediate, keyType: 'ec-p256' });
    const otherContext = tls.createSecureContext({ key: other.keyPem, cert: other.certPem });
    // Serves the gitter.im certificate (with its chain) by default, another one for SNI other.example.org.
    server = tls.createServer({
      key: leaf.keyPem,
      cert: leaf.certPem + leaf.chainPem,
      SNICallback: (name, cb) => cb(null, name === 'other.example.org' ? otherContext : undefined),
    });
    server.on('connection', (s: net.Socket) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as net.AddressInfo).port;
  });

  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('returns the leaf fingerprint that X509Certificate.fingerprint256 gives (lowercase, no colons), not the chain', async () => {
    // Arrange
    const x509 = new X509Certificate(leaf.certPem);

    // Act
    const seen = await probeTls({ host: '127.0.0.1', port, servername: 'irc.gitter.im' });

    // Assert
    expect(seen.sha256).toBe(fingerprint(leaf.certPem));
    expect(seen.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(seen.endpoint).toBe(`127.0.0.1:${port}`);
    expect(seen.serial).toBe(x509.serialNumber.toUpperCase());
    expect(seen.notAfter).toBe(new Date(x509.validTo).toISOString());
    expect(seen.subject).toBe('*.gitter.im');
  });

  test('sends the servername as SNI: another name gets the other certificate', async () => {
    // Arrange (server picks by SNI)

    // Act
    const seen = await probeTls({ host: '127.0.0.1', port, servername: 'other.example.org' });

    // Assert
    expect(seen.sha256).toBe(fingerprint(other.certPem));
  });

  test('verifyTls with the real probe: match on the served certificate', async () => {
    // Arrange
    const params = makeParams({
      probe: probeTls,
      endpoint: `127.0.0.1:${port}`,
      servername: 'irc.gitter.im',
      expectedSha256: fingerprint(leaf.certPem),
    });

    // Act
    const result = await verifyTls(params);

    // Assert
    expect(result).toMatchObject({ matches: true, attempts: 1, servedSha256: fingerprint(leaf.certPem) });
  });

  test('connection refused -> rejects with the endpoint in the message', async () => {
    // Arrange: a port that was just free
    const probeServer = net.createServer();
    await new Promise<void>((resolve) => probeServer.listen(0, '127.0.0.1', resolve));
    const freePort = (probeServer.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => probeServer.close(() => resolve()));

    // Act
    const thrown = await caught(() => probeTls({ host: '127.0.0.1', port: freePort, servername: 'irc.gitter.im', timeoutMs: 2000 }));

    // Assert
    expect(thrown.message).toContain(`127.0.0.1:${freePort}`);
    expect(thrown.message).toMatch(/ECONNREFUSED/);
  });

  test('an endpoint that accepts TCP but never answers TLS -> rejects "timed out" naming the endpoint', async () => {
    // Arrange
    const silent = net.createServer(() => undefined);
    const held: net.Socket[] = [];
    silent.on('connection', (s) => held.push(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;

    // Act
    const started = Date.now();
    const thrown = await caught(() => probeTls({ host: '127.0.0.1', port: silentPort, servername: 'irc.gitter.im', timeoutMs: 300 }));
    const elapsed = Date.now() - started;
    held.forEach((s) => s.destroy());
    await new Promise<void>((resolve) => silent.close(() => resolve()));

    // Assert
    expect(thrown.message).toContain(`127.0.0.1:${silentPort}`);
    expect(thrown.message).toContain('timed out');
    expect(elapsed).toBeLessThan(5000);
  });
});
