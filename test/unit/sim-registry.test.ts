/**
 * The registry of simulated services (local/sim/registry.ts): everything that used to repeat the
 * service list is derived from it, and the account composes exactly what it lists.
 */
import {
  DEFAULT_API_RATES,
  defaultFleet,
  NotSimulatedError,
  parseFaults,
  parseFleet,
  SERVICE_PREFIXES,
  SIMULATED_CLIENTS,
  SIMULATED_OPERATIONS,
  SIMULATED_SERVICES,
  SimulatedAccount,
  UsageError,
  type SimCertificate,
} from '../../local/sim';
import { seedCertificates } from '../support/sim-fixtures';

let current: SimCertificate;
let other: SimCertificate;

beforeAll(async () => {
  ({ current, other } = await seedCertificates());
});

describe('the registry of simulated services', () => {
  test('prefixes and account properties are unique, and every service declares operations', () => {
    expect(new Set(SERVICE_PREFIXES).size).toBe(SIMULATED_SERVICES.length);
    expect(new Set(SIMULATED_SERVICES.map((s) => s.property)).size).toBe(SIMULATED_SERVICES.length);
    for (const s of SIMULATED_SERVICES) expect(s.operations.length).toBeGreaterThan(0);
  });

  test('the operation list, the hooked clients and the default rates are derived from it', () => {
    expect(SIMULATED_OPERATIONS).toEqual(SIMULATED_SERVICES.flatMap((s) => s.operations.map((o) => `${s.prefix}:${o}`)));
    expect(new Set(SIMULATED_OPERATIONS).size).toBe(SIMULATED_OPERATIONS.length);
    expect(SIMULATED_CLIENTS.map(([cls, prefix]) => [cls.name, prefix])).toEqual(SIMULATED_SERVICES.map((s) => [s.client.name, s.prefix]));
    for (const key of Object.keys(DEFAULT_API_RATES)) expect(SERVICE_PREFIXES).toContain(key.split(':')[0]);
    // Published figures kept as they were before the registry.
    expect(DEFAULT_API_RATES).toMatchObject({
      'elb:DescribeLoadBalancers': 10,
      'ec2:*': 20,
      's3:PutObject': 3500,
      'sfn:ListExecutions': 2,
    });
  });

  test('the account has every service as a property and answers every declared operation', async () => {
    const account = await SimulatedAccount.create({ fleet: defaultFleet(), current, other });
    try {
      for (const s of SIMULATED_SERVICES)
        expect(Object.keys((account as unknown as Record<string, { operations: object }>)[s.property].operations)).toEqual([
          ...s.operations,
        ]);
      for (const operation of SIMULATED_OPERATIONS) {
        // An empty input mostly fails validation; what matters is that the call reached the service.
        const error = await account.handle(operation, {}).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).not.toBeInstanceOf(NotSimulatedError);
      }
      await expect(account.handle('iam:ListRoles', {})).rejects.toBeInstanceOf(NotSimulatedError);
    } finally {
      await account.close();
    }
  });

  test('the faults file and apiRates may name exactly the operations the registry declares', () => {
    expect(() =>
      parseFaults(
        SIMULATED_OPERATIONS.map((operation) => ({ operation, error: 'Throttling', count: 1 })),
        'faults.json',
      ),
    ).not.toThrow();
    expect(() =>
      parseFaults(
        SERVICE_PREFIXES.map((p) => ({ operation: `${p}:*`, error: 'Throttling', count: 1 })),
        'faults.json',
      ),
    ).not.toThrow();
    expect(() => parseFaults([{ operation: 'iam:ListRoles', error: 'Throttling', count: 1 }], 'faults.json')).toThrow(UsageError);
    expect(() => parseFaults([{ operation: 'kms:*', error: 'Throttling', count: 1 }], 'faults.json')).toThrow(UsageError);
    const rates = Object.fromEntries(SIMULATED_OPERATIONS.map((o) => [o, 5]));
    expect(parseFleet({ ...defaultFleet(), apiRates: rates }, 'fleet.json').apiRates).toEqual(rates);
    expect(() => parseFleet({ ...defaultFleet(), apiRates: { 'iam:ListRoles': 5 } }, 'fleet.json')).toThrow(UsageError);
  });
});
