/**
 * Names (local/sim/dns.ts) and nodes (local/sim/nodes.ts) of the simulated account.
 */
import { defaultFleet, MemoryNodeRuntime, SimDns, SimulatedAccount, type SimCertificate } from '../../local/sim';
import { handshake, seedCertificates } from '../support/sim-fixtures';
import { sha256OfCertificate } from '../../local/sim/certinfo';

let current: SimCertificate;
let other: SimCertificate;

beforeAll(async () => {
  ({ current, other } = await seedCertificates());
});

describe('SimDns', () => {
  test('endpoints, aliases (followed, case and trailing dot ignored), refused ports and unknown names', () => {
    const dns = new SimDns();
    dns.addEndpoint(['lb-1.elb.amazonaws.com'], 443, 'elb/lb-1/443');
    dns.setAlias('www.example.org', 'LB-1.elb.amazonaws.com.');
    dns.setAlias('irc.example.org', 'www.example.org');
    expect(dns.resolve('IRC.example.org.', 443)).toEqual({ kind: 'endpoint', key: 'elb/lb-1/443' });
    expect(dns.resolve('irc.example.org', 6667)).toEqual({ kind: 'refused' });
    expect(dns.resolve('nowhere.example.org', 443)).toEqual({ kind: 'unknown' });
    expect(() => dns.setAlias('lb-1.elb.amazonaws.com', 'www.example.org')).toThrow('already a simulated name');
    expect(() => dns.setAlias('a.example.org', 'nowhere.example.org')).toThrow('is not a simulated name');
    expect(() => dns.addEndpoint(['lb-1.elb.amazonaws.com'], 443, 'elb/other/443')).toThrow('two simulated endpoints');
  });

  test('TXT records: set, read back, replace, delete; listed with the other records', () => {
    const dns = new SimDns();
    expect(dns.getTxt('_acme-challenge.gitter.im')).toEqual([]);
    dns.setTxt('_acme-challenge.gitter.im', ['token-1', 'token-2']);
    expect(dns.getTxt('_ACME-challenge.gitter.im.')).toEqual(['token-1', 'token-2']);
    dns.setTxt('_acme-challenge.gitter.im', ['token-3']);
    expect(dns.records()).toEqual([{ type: 'TXT', name: '_acme-challenge.gitter.im', values: ['token-3'] }]);
    dns.setTxt('_acme-challenge.gitter.im', []);
    expect(dns.getTxt('_acme-challenge.gitter.im')).toEqual([]);
    expect(dns.records()).toEqual([]);
  });

  test("the account routes every target's names through its DNS", async () => {
    const account = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    try {
      const endpoints = account.dns.records().filter((r) => r.type === 'endpoint');
      for (const t of account.targets()) {
        for (const host of t.hosts)
          expect(endpoints).toContainEqual({ type: 'endpoint', name: host.toLowerCase(), port: t.port, key: t.key });
        expect(account.routeTls(t.host, t.port)).toEqual({ kind: 'endpoint', localPort: t.localPort });
      }
      account.addDnsAlias('irc.gitter.im', { host: account.targets()[0].host });
      expect(account.dns.records()).toContainEqual({ type: 'CNAME', name: 'irc.gitter.im', target: account.targets()[0].host });
    } finally {
      await account.close();
    }
    expect(account.routeTls('irc.gitter.im', 6667)).toEqual({ kind: 'unknown' }); // closed
  });
});

describe('nodes', () => {
  test('the memory runtime: what a node serves, installs, fingerprint read-back, deployed files', async () => {
    const nodes = new MemoryNodeRuntime();
    await nodes.start([{ instanceId: 'i-1', hosts: ['10.0.0.1'] }], current);
    expect(nodes.name).toBe('memory');
    expect(nodes.serving('i-1')).toEqual({ label: 'current', sha256: sha256OfCertificate(current.certPem) });
    expect(nodes.localPort()).toBeUndefined();
    await nodes.installCertificate('i-1', other);
    expect(nodes.serving('i-1').label).toBe(`sha256:${sha256OfCertificate(other.certPem).slice(0, 16)}`);
    await expect(nodes.fingerprint('i-1')).resolves.toBe(sha256OfCertificate(other.certPem));
    expect(nodes.material('i-1')).toBe(other);
    await nodes.deployFiles('i-1', [{ path: '/etc/nginx/ssl/gitter.im.crt', content: other.certPem }]);
    expect([...nodes.files('i-1').keys()]).toEqual(['/etc/nginx/ssl/gitter.im.crt']);
    expect(() => nodes.serving('i-2')).toThrow('no node i-2');
  });

  test("the account's node targets serve what the node runtime serves, over TLS", async () => {
    const account = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    account.install();
    try {
      const node = () => account.targets().find((t) => t.key === 'node/i-0ws01')!;
      expect(node().certificate).toBe('current');
      await expect(handshake(node().host, 443)).resolves.toBe(sha256OfCertificate(current.certPem));
      account.setNodeCertificate('i-0ws01', other, 'other');
      expect(node().certificate).toBe('other');
      await expect(account.nodes.fingerprint('i-0ws01')).resolves.toBe(node().servedSha256());
      await expect(handshake(node().hosts[1], 443)).resolves.toBe(sha256OfCertificate(other.certPem));
    } finally {
      await account.close();
    }
  });
});
