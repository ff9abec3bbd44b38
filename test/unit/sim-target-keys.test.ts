/**
 * One target-key scheme (local/sim/target-keys.ts): the account's targets, the faults file and the
 * report name a place the same way, and the workflow's change ledger (lambdas/shared/targets.ts,
 * which the simulator does not import) names the same places in its refined form.
 */
import { targetKey, type EdgeTarget, type NodeTarget } from '../../lambdas/shared/targets';
import {
  defaultFleet,
  fleetTargetKeys,
  parseFaults,
  parseFleet,
  SimulatedAccount,
  UsageError,
  type SimCertificate,
  type SimTarget,
} from '../../local/sim';
import {
  cloudfrontTargetKey,
  elbTargetKey,
  elbv2TargetKey,
  isTargetKey,
  nodeTargetKey,
  parseTargetKey,
  reportKeyOfLedgerKey,
} from '../../local/sim/target-keys';
import { seedCertificates } from '../support/sim-fixtures';

let current: SimCertificate;
let other: SimCertificate;
let targets: SimTarget[];

/** The default fleet plus a plain HTTP listener (no certificate: no target) and a second ELBv2 port. */
const fleet = parseFleet(
  {
    ...defaultFleet(),
    elbs: [
      ...defaultFleet().elbs,
      {
        name: 'plain-elb',
        listeners: [
          { port: 80, protocol: 'HTTP' },
          { port: 443, protocol: 'HTTPS', certificate: 'current' },
        ],
      },
    ],
    albs: [...defaultFleet().albs, { name: 'nlb-tls', listeners: [{ port: 8443, protocol: 'TLS', certificate: 'current' }] }],
  },
  'fleet.json',
);

beforeAll(async () => {
  ({ current, other } = await seedCertificates());
  const account = await SimulatedAccount.create({ fleet, current, other });
  targets = account.targets();
  await account.close();
});

/** The ledger's view of a simulated target, as the plan builds it (for a node: as a node phase would). */
function ledgerTargets(t: SimTarget): Array<EdgeTarget | NodeTarget> {
  switch (t.kind) {
    case 'elb':
      return [{ kind: 'elb', loadBalancerName: t.loadBalancerName!, port: t.port, dnsName: t.host }];
    case 'elbv2':
      return (['default', 'sni'] as const).map((role) => ({
        kind: 'elbv2',
        loadBalancerName: t.loadBalancerName!,
        listenerArn: t.id,
        port: t.port,
        dnsName: t.host,
        role,
      }));
    case 'cloudfront':
      return [{ kind: 'cloudfront', distributionId: t.id, domainName: t.hosts[t.hosts.length - 1], aliases: t.hosts.slice(0, -1) }];
    case 'node':
      return [{ kind: 'node', instanceId: t.id, name: t.name ?? t.id, phase: 'nodes-canary' }];
  }
}

describe('the target-key scheme', () => {
  test('the account, the faults file and the key functions agree on every target of the fleet', () => {
    expect(targets.map((t) => t.key)).toEqual(fleetTargetKeys(fleet));
    expect(targets.map((t) => t.key)).toContain('elb/plain-elb/443');
    expect(targets.map((t) => t.key)).not.toContain('elb/plain-elb/80');
    for (const t of targets) {
      const expected =
        t.kind === 'elb'
          ? elbTargetKey(t.loadBalancerName!, t.port)
          : t.kind === 'elbv2'
            ? elbv2TargetKey(t.loadBalancerName!, t.port)
            : t.kind === 'cloudfront'
              ? cloudfrontTargetKey(t.id)
              : nodeTargetKey(t.id);
      expect(t.key).toBe(expected);
      expect(isTargetKey(t.key)).toBe(true);
      expect(parseTargetKey(t.key)?.kind).toBe(t.kind);
    }
    // Every key the account names is one a target fault may name.
    expect(() =>
      parseFaults(
        targets.map((t) => ({ target: t.key, fault: 'serves-stale' })),
        'faults.json',
      ),
    ).not.toThrow();
  });

  test("the change ledger's keys (lambdas/shared/targets.ts) map onto the same report keys", () => {
    const kinds = new Set<string>();
    for (const t of targets) {
      for (const lt of ledgerTargets(t)) {
        kinds.add(lt.kind);
        expect(reportKeyOfLedgerKey(targetKey(lt))).toBe(t.key);
      }
    }
    expect([...kinds].sort()).toEqual(['cloudfront', 'elb', 'elbv2', 'node']);
  });

  test('keys of another shape are not target keys', () => {
    for (const bad of ['elb/x', 'elb/x/https', 'elbv2/a/443/sni', 'cloudfront/', 'node/nodes-canary/i-1', 'alb/x/443', 7]) {
      expect(isTargetKey(bad)).toBe(false);
    }
    expect(parseTargetKey('elbv2/api-alb-prod/443')).toEqual({ kind: 'elbv2', loadBalancerName: 'api-alb-prod', port: 443 });
    expect(reportKeyOfLedgerKey('elb/x/443')).toBe('elb/x/443');
  });

  test('the faults file names the canonical forms, word for word as before', () => {
    let error: unknown;
    try {
      parseFaults([{ target: 'elbv2/api-alb-prod/443/sni', fault: 'serves-stale' }], 'faults.json');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).problems).toEqual([
      'faults[0].target: must be a target key as in the report: "elb/NAME/PORT", "elbv2/NAME/PORT", "cloudfront/ID" or "node/INSTANCE"',
    ]);
  });
});
